//! What one session knows of its connection and lends to its mail transactions: the listener
//! the client came in through, the addresses, TLS, the signed-in user, and the conversation
//! kept for the transaction log. The session ([`super::session`]) owns it; a transaction
//! ([`super::transaction`]) borrows it and needs nothing else of the session.

use std::net::SocketAddr;
use std::sync::Arc;

use marque_core::{AccountId, Core, TenantId};
use marque_session::Connection;

use super::Config;
use crate::msgauth::MsgAuth;
use crate::submission_limits::RateLimits;

/// Which listener the client came in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Port 25: mail from other servers; no AUTH.
    Mx,
    /// Port 587: STARTTLS, then AUTH, then mail.
    Submission,
    /// Port 465: implicit TLS, then AUTH.
    Submissions,
}

impl Service {
    fn of(name: &str) -> Service {
        match name {
            "submission" => Service::Submission,
            "submissions" => Service::Submissions,
            _ => Service::Mx,
        }
    }

    pub fn is_submission(self) -> bool {
        self != Service::Mx
    }
}

/// The client's EHLO or HELO.
#[derive(Debug, Clone)]
pub struct Helo {
    pub name: String,
    pub esmtp: bool,
}

/// The signed-in user (submission).
#[derive(Debug, Clone)]
pub struct User {
    pub login: String,
    pub account: AccountId,
    /// The user's tenant chain, root first.
    pub path: Vec<TenantId>,
}

/// The connection's facts and the services every command may call on.
pub struct Context {
    pub core: Core,
    pub cfg: Arc<Config>,
    /// SPF, DKIM, ARC and DMARC checks (port 25).
    pub msgauth: Arc<MsgAuth>,
    /// Hourly limits of submission users.
    pub limits: Arc<RateLimits>,
    pub service: Service,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub id: u64,
    pub tls: bool,
    pub user: Option<User>,
    /// The conversation since the last transaction record.
    pub talk: Vec<String>,
    /// Transactions begun (MAIL FROM accepted) on this connection.
    pub transactions: u32,
}

impl Context {
    pub fn new(
        core: Core,
        cfg: Arc<Config>,
        msgauth: Arc<MsgAuth>,
        limits: Arc<RateLimits>,
        conn: &Connection,
    ) -> Self {
        Context {
            core,
            cfg,
            msgauth,
            limits,
            service: Service::of(conn.service()),
            peer: conn.peer(),
            local: conn.local(),
            id: conn.session_id(),
            tls: conn.is_tls(),
            user: None,
            talk: Vec::new(),
            transactions: 0,
        }
    }

    /// Keeps a line of the conversation for the transaction log (at most
    /// `max_conversation` lines of 512 bytes).
    pub fn note(&mut self, line: String) {
        if self.talk.len() < self.cfg.max_conversation {
            let mut line = line;
            if line.len() > 512 {
                let mut end = 512;
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                line.truncate(end);
            }
            self.talk.push(line);
        }
    }
}

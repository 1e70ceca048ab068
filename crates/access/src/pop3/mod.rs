//! POP3 (RFC 1939) over the account's INBOX, with CAPA and response codes (RFC 2449), STLS
//! (RFC 2595), SASL PLAIN (RFC 5034), PIPELINING, and one session at a time per maildrop.
//! Before STLS, USER/PASS and SASL are offered only to clients allowed to sign in in clear
//! (loopback and `[signin] cleartext_networks`); failed sign-ins go through the core's
//! throttle, shared with every other service.
//!
//! # Layout
//! - [`session`]: the connection loop, the states, sign-in, STLS and the autologout timer.
//! - [`cmd`]: one file per command (`retr.rs`, `uidl.rs`, ...), each with its parser and answer.
//! - [`line`]: what a command line is to POP3, as the shared line reader
//!   (`marque_session::lines`) cuts it.
//! - [`wire`]: CRLF line ends, dot-stuffing and sizes of what the client receives (pure).
//! - [`maildrop`]: the INBOX of a session, message numbers and deletions until QUIT.
//! - [`lock`]: the per-maildrop exclusive lock.

pub mod cmd;
pub mod line;
pub mod lock;
pub mod maildrop;
mod session;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use marque_core::Core;
use marque_session::limits::Refusal;
use marque_session::{Connection, Handler};
use tokio::io::AsyncWriteExt;

pub use lock::{DropGuard, DropLocks};

/// RFC 1939 §3: the autologout timer must be at least 10 minutes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The POP3 service: serves the `pop3` (with STLS) and `pop3s` listeners.
#[derive(Clone)]
pub struct Pop3 {
    core: Core,
    hostname: Arc<str>,
    locks: DropLocks,
    idle_timeout: Duration,
}

impl std::fmt::Debug for Pop3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3")
            .field("hostname", &self.hostname)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Pop3 {
    /// A service that names `hostname` in its greeting, with the default timers.
    pub fn new(core: &Core, hostname: &str) -> Self {
        Pop3 {
            core: core.clone(),
            hostname: hostname.into(),
            locks: DropLocks::for_store(core.store()),
            idle_timeout: IDLE_TIMEOUT,
        }
    }

    /// Takes maildrop locks as `node`, each lasting `ttl` between renewals (`[cluster]`): a
    /// process that dies frees its maildrops after at most `ttl`.
    pub fn with_node(mut self, node: &marque_store::lease::Holder, ttl: Duration) -> Self {
        self.locks = DropLocks::new(self.core.store(), node, ttl);
        self
    }

    /// Sets the autologout timer.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The maildrop locks of this service.
    pub fn locks(&self) -> &DropLocks {
        &self.locks
    }
}

impl Handler for Pop3 {
    async fn handle(&self, conn: Connection) {
        session::run(self, conn).await;
    }

    async fn refuse(&self, mut conn: Connection, why: Refusal) {
        let _ = why;
        let _ = conn
            .write_all(b"-ERR [SYS/TEMP] too many connections, try again later\r\n")
            .await;
        let _ = conn.shutdown().await;
    }
}

/// The handler for the `pop3` and `pop3s` listeners.
pub fn handler(core: &Core, hostname: &str) -> impl Handler {
    Pop3::new(core, hostname)
}

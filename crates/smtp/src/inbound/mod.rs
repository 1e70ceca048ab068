//! Inbound SMTP: the MX role on `smtp` and submission on `submission` (STARTTLS, then AUTH)
//! and `submissions` (implicit TLS), told apart by [`Connection::service`].
//!
//! # Layout
//! - [`serve`]: the loop: the greeting, command lines read through the shared line reader
//!   (`marque_session::lines`), the dispatch to the commands, STARTTLS.
//! - [`cmd`]: one file per command (`ehlo.rs`, `mail.rs`, `rcpt.rs`, `data.rs`, `bdat.rs`,
//!   `auth.rs`, `starttls.rs`, ...), each with its parse, apply and answer; `cmd/mod.rs` splits
//!   the line into a [`cmd::Command`].
//! - [`session`]: what the commands act on: the state (RFC 5321 §4.1.4 command order), the
//!   error count, the replies, the end of a transaction.
//! - [`transaction`]: resolves recipients and hands accepted messages to local delivery;
//!   `transaction/verify_or_sign.rs` checks (port 25) or signs (submission) the content first.
//! - [`envelope`]: what MAIL FROM and RCPT TO carry; [`content`]: the message as DATA or BDAT
//!   brings it (dot-stuffing, line and size limits).
//! - [`context`]: what the session knows of its connection and lends to its transactions.
//! - [`spool`] keeps the content mostly on disk until the
//!   process-wide input budget lets it be checked and stored; [`trace`] writes `Received:`;
//!   [`reply`] formats replies; [`normalize`] checks submitted content; [`success`] queues
//!   success reports (DSN `NOTIFY=SUCCESS`).
//!
//! Dependencies point one way: `serve` → `cmd` → `session` → `transaction` → the rest
//! (`envelope`, `content`, `context`, `spool`, `trace`, `reply`, `normalize`, `success`),
//! each module using only those after it, and the rest only one another. So a command may
//! change the session and its transaction, the session never runs a command, and the
//! transaction never reaches back into a command or the session.
//!
//! AUTH failures are slowed down and banned by the core's sign-in throttle
//! (`marque_core::signin`), shared with every other service.

pub mod cmd;
pub mod content;
pub mod context;
pub mod envelope;
pub mod normalize;
pub mod reply;
pub mod serve;
pub mod session;
pub mod spool;
pub mod success;
pub mod trace;
pub mod transaction;

use std::sync::Arc;
use std::time::Duration;

use marque_core::Core;
use marque_session::{Connection, Handler, limits::Refusal};
use tokio::io::AsyncWriteExt;

use crate::msgauth::MsgAuth;
use crate::submission_limits::RateLimits;

/// Limits and timeouts of the SMTP service.
#[derive(Debug, Clone)]
pub struct Config {
    /// The name in the greeting, EHLO reply and `Received:` lines.
    pub hostname: String,
    /// Largest message accepted, in bytes (advertised as SIZE, RFC 1870).
    pub max_message_size: u64,
    /// Most recipients per transaction (RFC 5321 §4.5.3.1.8 requires at least 100).
    pub max_recipients: usize,
    /// Bad commands (and failed AUTHs) after which the connection is closed with `421`.
    pub max_errors: u32,
    /// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4 says 512, plus what each
    /// extension's parameters add, RFC 1869 §4.1.2).
    pub max_command_line: usize,
    /// Waiting for a command (RFC 5321 §4.5.3.2.7: at least 5 minutes).
    pub command_timeout: Duration,
    /// Waiting for the next line of DATA or a BDAT chunk (RFC 5321 §4.5.3.2.6: 3 minutes).
    pub data_timeout: Duration,
    /// Most lines of conversation kept for the transaction log.
    pub max_conversation: usize,
    /// On the MX listener, how long to wait before the greeting: a client that talks first is
    /// refused (RFC 5321 §3.1: the client waits for the greeting). Zero turns the check off.
    pub greeting_delay: Duration,
    /// Local delivery: the Sieve engine (`[sieve]` limits) and the outbound queue.
    pub delivery: marque_delivery::Environment,
    /// DNS servers for SPF, DKIM and DMARC; empty: the system's `resolv.conf`.
    pub nameservers: Vec<std::net::SocketAddr>,
    /// Refuse (`550 5.7.1`) a message whose DMARC check fails under `p=reject`.
    pub dmarc_reject: bool,
    /// How long the SPF, DKIM, ARC and DMARC checks of one message may take in all.
    pub auth_deadline: Duration,
    /// Hourly limits of each submission user.
    pub submission_limits: crate::submission_limits::Limits,
    /// The process-wide budget of input held in memory: a message takes twice its size from
    /// it while it is checked and stored (`451 4.3.2` when there is no room).
    pub input_budget: marque_session::InputBudget,
    /// Where message content beyond a few hundred KiB waits while it arrives (unnamed files);
    /// `None`: the system's temporary directory.
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Config {
    /// Defaults for `hostname`.
    pub fn new(hostname: &str) -> Self {
        Config {
            hostname: hostname.to_string(),
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 10,
            max_command_line: 2048,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            max_conversation: 400,
            greeting_delay: Duration::from_secs(1),
            delivery: marque_delivery::Environment {
                hostname: hostname.to_string(),
                ..Default::default()
            },
            nameservers: Vec::new(),
            dmarc_reject: true,
            auth_deadline: Duration::from_secs(30),
            submission_limits: crate::submission_limits::Limits::default(),
            input_budget: marque_session::InputBudget::default(),
            spool_dir: None,
        }
    }
}

/// The SMTP handler for the `smtp`, `submission` and `submissions` listeners.
#[derive(Clone)]
pub struct Smtp {
    core: Core,
    config: Arc<Config>,
    msgauth: Arc<MsgAuth>,
    limits: Arc<RateLimits>,
}

impl Smtp {
    /// The handler; builds the DNS resolver, so make one per process and clone it for each
    /// listener.
    pub fn new(core: &Core, config: Config) -> Self {
        Smtp {
            core: core.clone(),
            msgauth: Arc::new(MsgAuth::new(&config.nameservers)),
            limits: Arc::new(RateLimits::new(
                core.store().clone(),
                config.submission_limits,
            )),
            config: Arc::new(config),
        }
    }
}

impl Handler for Smtp {
    async fn handle(&self, conn: Connection) {
        let ctx = context::Context::new(
            self.core.clone(),
            self.config.clone(),
            self.msgauth.clone(),
            self.limits.clone(),
            &conn,
        );
        serve::run(session::Session::new(ctx), conn).await;
    }

    /// RFC 5321 §3.8: a server that cannot take the connection answers `421`.
    async fn refuse(&self, mut conn: Connection, why: Refusal) {
        let _ = why;
        let line = format!(
            "421 4.7.0 {} Too many connections, try later\r\n",
            self.config.hostname
        );
        let _ = conn.write_all(line.as_bytes()).await;
        let _ = conn.shutdown().await;
    }
}

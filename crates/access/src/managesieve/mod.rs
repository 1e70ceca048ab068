//! ManageSieve (RFC 5804): users upload, check, activate, rename and delete their Sieve
//! scripts. The scripts, their limits and permissions are the hosting features'
//! ([`marque_hosting::sieve`]); this module is the protocol.
//!
//! # Layout
//! - [`parse`]: framing (lines, quoted strings, `{N+}`/`{N}` literals) and commands (pure).
//! - [`response`]: strings, status lines and response codes (pure).
//! - [`cmd`]: one file per command (`putscript.rs`, `setactive.rs`, ...).
//! - `session` (private): the connection loop, its states, STARTTLS and sign-in.
//!
//! SASL PLAIN is offered over TLS, and over plaintext only to the clients the core allows to
//! sign in in clear (loopback and `[signin] cleartext_networks`, RFC 5804 §2.1). Failed
//! sign-ins go through the core's throttle, shared with every other service.

pub mod cmd;
pub mod parse;
pub mod response;
mod session;

use std::sync::Arc;
use std::time::Duration;

use marque_hosting::Hosting;
use marque_session::limits::Refusal;
use marque_session::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Idle time after which a session is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Failed sign-ins after which the connection is closed.
pub const MAX_FAILURES: u32 = 5;
/// Commands one connection may send.
pub const MAX_COMMANDS: u64 = 10_000;
/// Redirects a script may make, advertised as MAXREDIRECTS; the default of sieve-rs' runtime.
pub const MAX_REDIRECTS: usize = 1;

/// The ManageSieve service: serves the `managesieve` listener (with STARTTLS).
#[derive(Clone)]
pub struct ManageSieve {
    hosting: Hosting,
    hostname: Arc<str>,
    extensions: Arc<str>,
    max_redirects: usize,
    idle_timeout: Duration,
    plaintext_allowed: bool,
    max_commands: u64,
}

impl std::fmt::Debug for ManageSieve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManageSieve")
            .field("hostname", &self.hostname)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl ManageSieve {
    /// A service that names `hostname` in its greeting, with the default limits.
    pub fn new(hosting: &Hosting, hostname: &str) -> Self {
        ManageSieve {
            hosting: hosting.clone(),
            hostname: hostname.into(),
            extensions: cmd::capability::sieve_extensions().into(),
            max_redirects: MAX_REDIRECTS,
            idle_timeout: IDLE_TIMEOUT,
            plaintext_allowed: true,
            max_commands: MAX_COMMANDS,
        }
    }

    /// Sets the idle timeout.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Whether SASL PLAIN may be offered without TLS at all: `true` (the default) offers it
    /// to the clients the core allows to sign in in clear (loopback and `[signin]
    /// cleartext_networks`); `false` requires STARTTLS from everyone.
    pub fn plaintext_on_loopback(mut self, allow: bool) -> Self {
        self.plaintext_allowed = allow;
        self
    }

    /// Sets how many commands one connection may send.
    pub fn max_commands(mut self, n: u64) -> Self {
        self.max_commands = n;
        self
    }

    /// Sets the MAXREDIRECTS capability (the runtime's cap on redirects per script).
    pub fn max_redirects(mut self, n: usize) -> Self {
        self.max_redirects = n;
        self
    }

    /// The largest literal read: a script at the size limit, with room for a client that
    /// miscounts; anything larger closes the connection unread.
    fn max_literal(&self) -> u64 {
        self.hosting
            .sieve_limits()
            .max_script_size
            .saturating_mul(2)
            .max(1024 * 1024)
    }
}

impl Handler for ManageSieve {
    async fn handle(&self, conn: Connection) {
        session::run(self, conn).await;
    }

    async fn refuse(&self, mut conn: Connection, why: Refusal) {
        let _ = why;
        let _ = conn
            .write_all(b"BYE (TRYLATER) \"too many connections, try again later\"\r\n")
            .await;
        let _ = conn.shutdown().await;
    }
}

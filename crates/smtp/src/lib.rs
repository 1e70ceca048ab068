//! SMTP for Marque: ingress from other servers on port 25 (MX) and submission from mail clients
//! on ports 587 (STARTTLS, then AUTH) and 465 (implicit TLS), delivering to local mailboxes in
//! one durable write through `marque_delivery` before answering `250`.
//!
//! # Layout
//! - [`inbound`]: the SMTP server side. One file per command under `inbound/cmd/` (`ehlo.rs`,
//!   `mail.rs`, `rcpt.rs`, `data.rs`, `bdat.rs`, `auth.rs`, ...), each with its parse (apart
//!   from I/O), apply and answer; `session` holds the loop, the state and the dispatch;
//!   `transaction` resolves recipients and delivers; `trace` writes `Received:`; `io` is the
//!   bounded line reader; `reply` formats replies. AUTH failures go through the core's sign-in
//!   throttle, shared with IMAP, POP3, ManageSieve and the panel.
//! - [`msgauth`]: message authentication: SPF, DKIM, ARC and DMARC checks of inbound mail
//!   (`verify`), DKIM signing of submitted mail (`sign`).
//! - [`submission_limits`]: hourly limits per submission user (messages and recipients).
//! - [`outbound`]: the workers that deliver queued mail to remote MX hosts (and DSNs to
//!   local senders), with retries, backoff and DSNs.

#![forbid(unsafe_code)]

pub mod inbound;
pub mod msgauth;
pub mod outbound;
pub mod submission_limits;

pub use inbound::{Config, Smtp};

/// The handler for the `smtp`, `submission` and `submissions` listeners (it tells them apart by
/// [`marque_session::Connection::service`]).
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl marque_session::Handler {
    Smtp::new(core, Config::new(hostname))
}

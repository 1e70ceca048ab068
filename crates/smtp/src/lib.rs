//! SMTP for Marque: ingress from other servers on port 25 (MX), submission from mail clients on
//! ports 587 and 465 with AUTH, the durable outbound queue, delivery to remote servers (MX lookup,
//! STARTTLS, retries with backoff, DSNs), and DKIM signing and SPF/DKIM/DMARC checks.
//!
//! Until those land, [`Unavailable`] answers every SMTP listener as a server that is up but not
//! accepting mail: `421 4.3.2`, then it closes, and well-behaved senders retry later.
//!
//! # Layout
//! - [`unavailable`]: the `421` handler wired to the `smtp`, `submission` and `submissions`
//!   listeners.
//!
//! Later: `inbound/` (one file per command: `ehlo.rs`, `mail.rs`, `rcpt.rs`, `data.rs`, ...),
//! `queue/`, `outbound/`, `auth/` (SPF, DKIM, DMARC).

#![forbid(unsafe_code)]

pub mod unavailable;

pub use unavailable::Unavailable;

/// The handler for the `smtp`, `submission` and `submissions` listeners (it tells them apart by
/// [`marque_core::net::Connection::service`]).
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl marque_core::net::Handler {
    let _ = core;
    Unavailable::new(hostname)
}

//! IMAP4rev2 (with IMAP4rev1 compatibility, CONDSTORE, QRESYNC, IDLE), POP3 and ManageSieve
//! for Marque: mail clients read the mailboxes the store keeps, on the customer's branded
//! hostname, and users edit their Sieve scripts.
//!
//! # Layout
//! - [`imap`]: the IMAP listeners (`imap`, `imaps`): the parser in `imap/parse/`, one file per
//!   command under `imap/cmd/` (`fetch.rs`, `store.rs`, `idle.rs`, ...).
//! - [`pop3`]: the POP3 listeners (`pop3`, `pop3s`): one file per command under `pop3/cmd/`
//!   (`retr.rs`, `uidl.rs`, ...).
//! - [`managesieve`]: the ManageSieve listener (RFC 5804): one file per command under
//!   `managesieve/cmd/` (`putscript.rs`, `setactive.rs`, ...); it advertises the Sieve
//!   extensions local delivery runs (`marque_delivery::sieve::EXTENSIONS`).
//!
//! All three sign in through the core (`Core::sign_in`), whose throttle of failed sign-ins is
//! shared with SMTP and the panel, and refuse passwords before TLS except from the networks the
//! operator allows (`marque_core::signin`).

#![forbid(unsafe_code)]

pub mod imap;
pub mod managesieve;
pub mod pop3;

pub use imap::handler as imap_handler;
pub use pop3::handler as pop3_handler;

/// The handler for the `managesieve` listener, over the hosting features (which keep the
/// scripts) and their core (which signs users in).
pub fn managesieve_handler(
    hosting: &marque_hosting::Hosting,
    hostname: &str,
) -> impl marque_session::Handler {
    managesieve::ManageSieve::new(hosting, hostname)
}

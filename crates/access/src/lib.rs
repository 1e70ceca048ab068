//! IMAP4rev2 (with IMAP4rev1 compatibility, CONDSTORE, QRESYNC, IDLE) and POP3 for Marque: mail
//! clients read the mailboxes the store keeps, on the customer's branded hostname.
//!
//! # Layout
//! - [`imap`]: the IMAP listeners (`imap`, `imaps`): the parser in `imap/parse/`, one file per
//!   command under `imap/cmd/` (`fetch.rs`, `store.rs`, `idle.rs`, ...).
//! - [`pop3`]: the POP3 listeners (`pop3`, `pop3s`): one file per command under `pop3/cmd/`
//!   (`retr.rs`, `uidl.rs`, ...).
//!
//! Both sign in through the core (`Core::sign_in`), whose throttle of failed sign-ins is shared
//! with SMTP, ManageSieve and the panel, and refuse passwords before TLS except from the
//! networks the operator allows (`marque_core::signin`).

#![forbid(unsafe_code)]

pub mod imap;
pub mod pop3;

pub use imap::handler as imap_handler;
pub use pop3::handler as pop3_handler;

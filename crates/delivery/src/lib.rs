//! Local delivery for Marque: each message accepted for a local recipient lands in the store in
//! one durable write (the body once, every recipient's INBOX entry with its quota charges, the
//! transaction log record); later each mailbox's Sieve script (keep, fileinto, discard, reject,
//! redirect, vacation) will run first; and ManageSieve, through which users edit their scripts.
//!
//! # Layout
//! - [`deliver`]: the durable write ([`deliver::deliver`]) and per-recipient results.
//! - [`record`]: the transaction log record SMTP writes, one per transaction.
//! - [`managesieve`]: the ManageSieve listener; later one file per command under
//!   `managesieve/cmd/` (`putscript.rs`, `setactive.rs`, ...).
//!
//! Later: `sieve.rs` (running scripts), `vacation.rs`.

#![forbid(unsafe_code)]

pub mod deliver;
pub mod managesieve;
pub mod record;

pub use deliver::{
    Delivery, DeliveryError, LocalRecipient, RecipientResult, deliver, deliver_and_queue,
    owners_of, record_only,
};
pub use record::{Outcome, RecipientRecord, TransactionRecord};

/// The handler for the `managesieve` listener.
pub fn managesieve_handler(
    core: &marque_core::Core,
    hostname: &str,
) -> impl marque_core::net::Handler {
    let _ = core;
    managesieve::Unavailable::new(hostname)
}

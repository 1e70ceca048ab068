//! Local delivery for Marque: each message accepted for local recipients runs through every
//! recipient's Sieve scripts (global "before" scripts of the tenant chain and the domain, the
//! user's active script, global "after" scripts), then lands in the store in one durable write:
//! the body once per distinct content, every recipient's copies in the folders its scripts
//! chose with their flags and quota charges, the redirects, vacation replies and DSNs handed to
//! the [`Outbox`], and the transaction log record. And ManageSieve, through which users edit
//! their scripts.
//!
//! # Layout
//! - [`deliver`]: the durable write ([`deliver::deliver`]) and per-recipient results.
//! - [`sieve`]: running scripts with `sieve-rs`: limits, compiled-script cache, the event loop,
//!   vacation and redirect rules, writing what scripts decided. See `docs/sieve.md`.
//! - [`outbox`]: the [`Outbox`] trait, and [`QueueOutbox`], the outbound queue behind it.
//! - [`record`]: the transaction log record SMTP writes, one per transaction.
//! - [`managesieve`]: the ManageSieve server (RFC 5804), one file per command under
//!   `managesieve/cmd/` (`putscript.rs`, `setactive.rs`, ...).

#![forbid(unsafe_code)]

pub mod deliver;
pub mod managesieve;
pub mod outbox;
pub mod record;
pub mod sieve;

pub use deliver::{
    Delivery, DeliveryError, Environment, LocalRecipient, RecipientResult, deliver,
    deliver_and_queue, owners_of, record_only,
};
pub use outbox::{NoOutbox, OutboundKind, OutboundMessage, Outbox, QueueOutbox};
pub use record::{AuthResults, Outcome, RecipientRecord, TransactionRecord};
pub use sieve::{SieveConfig, SieveEngine};

/// The handler for the `managesieve` listener.
pub fn managesieve_handler(
    core: &marque_core::Core,
    hostname: &str,
) -> impl marque_session::Handler {
    managesieve::ManageSieve::new(core, hostname)
}

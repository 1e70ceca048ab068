//! Local delivery for Marque: each message accepted for a local recipient runs through that
//! mailbox's Sieve script (keep, fileinto, discard, reject, redirect, vacation) and lands in the
//! store in one durable write; vacation replies and forwards; and ManageSieve, through which users
//! edit their own scripts.
//!
//! Until delivery lands, [`managesieve::Unavailable`] answers the ManageSieve listener.
//!
//! # Layout
//! - [`managesieve`]: the ManageSieve listener; later one file per command under
//!   `managesieve/cmd/` (`putscript.rs`, `setactive.rs`, ...).
//!
//! Later: `sieve.rs` (running scripts), `deliver.rs` (the durable write), `vacation.rs`.

#![forbid(unsafe_code)]

pub mod managesieve;

/// The handler for the `managesieve` listener.
pub fn managesieve_handler(
    core: &marque_core::Core,
    hostname: &str,
) -> impl marque_core::net::Handler {
    let _ = core;
    managesieve::Unavailable::new(hostname)
}

//! Running Sieve scripts (RFC 5228) at delivery, with `sieve-rs`.
//!
//! For each local recipient the chain is: the global "before" scripts (the tenant chain from
//! the provider down, then the recipient's domain), the user's active script, then the global
//! "after" scripts (the domain, then the tenant chain from the recipient's tenant up to the
//! provider). Each script runs on the message as received, with its own implicit keep; the
//! chain goes on while the implicit keep stands and stops at the first script that cancels it
//! (fileinto, discard, reject, redirect without `:copy`).
//!
//! Scripts are evaluated before the durable write (reading what they need from the store);
//! [`apply`] then writes what they decided inside the delivery's one transaction.
//!
//! # Layout
//! - [`config`]: the `[sieve]` limits.
//! - [`cache`]: compiled scripts by content hash, bounded.
//! - [`engine`]: the compiler, the runtime and the extensions advertised.
//! - [`run`]: the event loop of one recipient's chain, producing a [`run::Plan`].
//! - [`questions`]: answers to what a script asks (includes, folders, seen ids).
//! - [`vacation`]: RFC 5230 / RFC 3834 checks on whether a reply may be sent.
//! - [`redirect`]: loop detection for `redirect`.
//! - [`reply`]: the vacation reply rebuilt by the platform's header writer.
//! - [`dsn`]: the delivery status notification of a `reject`.
//! - [`load`]: reading each recipient's chain, evaluating it, preparing the contents to store.
//! - [`apply`]: writing a plan in the delivery transaction.

pub mod apply;
pub mod cache;
pub mod config;
pub mod dsn;
pub mod engine;
pub mod load;
pub mod questions;
pub mod redirect;
pub mod reply;
pub mod run;
pub mod vacation;

pub use config::SieveConfig;
pub use engine::{EXTENSIONS, SieveEngine};
pub use run::{Folder, Plan, StoreAction};

//! The `marque` binary as a library: the command line, the configuration, and `serve`, which
//! runs every service (or a subset) in one process on the shared session plumbing of
//! `marque_session`.
//!
//! # Layout
//! - [`cli`]: clap definitions and dispatch (`serve`, `config`, `tenant`, `domain`, `mailbox`,
//!   `usage`).
//! - [`config`]: the typed TOML configuration, validated as a whole, and the embedded default.
//! - [`serve`]: binding listeners, wiring each service's handler, graceful shutdown.
//! - [`datadir`]: opening the store in the data directory; the admin token file.
//! - [`tenancy`]: the one door into the tenancy core (bootstrap, operator commands).
//! - [`ops`]: the operator commands.
//! - [`dnstable`]: `marque domain dns`'s table of a domain's DNS records.
//! - [`queue`]: the outbound delivery workers' configuration and `marque queue`.
//! - [`tls`]: the configured certificate or the generated self-signed one.
//! - [`logging`]: `tracing` output, human or JSON.

#![forbid(unsafe_code)]

pub mod acme;
pub mod cli;
pub mod config;
pub mod datadir;
pub mod dnstable;
pub mod logging;
pub mod ops;
pub mod queue;
pub mod serve;
pub mod tenancy;
pub mod tls;

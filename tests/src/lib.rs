//! Test support shared across the workspace: what every crate's integration tests build before
//! they can test anything.
//!
//! Where the tests are: each crate's own `tests/` folder holds its integration tests, against a
//! real store and real clients; the end-to-end tests of the whole platform are in
//! `crates/marque/tests/` (`flow.rs`: API, SMTP, IMAP and POP3 through the built binary;
//! `serve.rs`: listeners, TLS, token, shutdown), because Cargo hands the built `marque` binary
//! only to the tests of its own package.
//!
//! Layout:
//! - [`platform`]: a platform in a temporary directory (store, core, tenants from the provider
//!   down through resellers to customers, domains, mailboxes with passwords, API tokens).
//! - [`services`]: protocol services in-process on `127.0.0.1:0` (plain, STARTTLS or implicit
//!   TLS), and a self-signed test certificate.
//! - [`binary`]: the real `marque` binary with a config in a temporary directory, listeners on
//!   `127.0.0.1:0`, waited for until ready, stopped with SIGTERM or killed with SIGKILL.
//! - [`dns`]: a loopback DNS server with in-memory zones a test can change while it runs.
//! - [`process`]: the SIGKILL harness: a child whose output lines the test reads and waits for,
//!   killed at a moment of the test's choosing.
//! - [`postgres`]: a throwaway PostgreSQL cluster per test process on loopback, a fresh
//!   database per test (or the server `MARQUE_TEST_POSTGRES_URL` names).
//! - [`clients`]: running client programs (Python scripts, swaks, ...) and checking they
//!   succeeded.

#![forbid(unsafe_code)]

pub mod binary;
pub mod clients;
pub mod dns;
pub mod platform;
pub mod postgres;
pub mod process;
pub mod services;

pub use platform::{PASSWORD, Platform, PlatformBuilder, account, actor, staff, token};
pub use services::{Offer, Services, TestCert};

//! The workspace's place for test support shared across crates.
//!
//! Where the tests are: each crate's own `tests/` folder holds its integration tests, against a
//! real store and real clients; the end-to-end tests of the whole platform are in
//! `crates/marque/tests/` (`flow.rs`: API, SMTP, IMAP and POP3 through the built binary;
//! `serve.rs`: listeners, TLS, token, shutdown), because Cargo hands the built `marque` binary
//! only to the tests of its own package.

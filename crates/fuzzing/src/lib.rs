//! Marque's fuzzing harness: one entry point per protocol parser, each feeding the parser what
//! a peer could send and checking the properties it must keep (a parse written back parses
//! the same, framing does not depend on how input arrives, limits hold), not only that nothing
//! panics. A broken property panics, which is what libFuzzer reports as a crash.
//!
//! The cargo-fuzz targets in `fuzz/` call these functions, one each; `tests/corpus.rs` replays
//! the committed corpus (`fuzz/corpus/<target>/`) through the same functions, so a plain
//! `cargo test` runs every seed and every input that once found a bug. See `docs/fuzzing.md`.
//!
//! # Layout
//! - [`imap`] (`imap_command`): a client's byte stream, framed with literals and parsed; with
//!   [`imap_render`], which writes a parsed command back.
//! - [`utf7`] (`imap_utf7`): modified UTF-7 mailbox names, both ways.
//! - [`pop3`] (`pop3_command`): the line reader and the command parser.
//! - [`smtp`] (`smtp_command`): inbound command lines.
//! - [`managesieve`] (`managesieve_command`): framing with literals, commands.
//! - [`sieve`] (`sieve_script`): the upload check and the delivery compile of a script.
//! - [`mime`] (`mime_message`): a received message through the store's metadata extraction
//!   and IMAP's rendering of it; with [`sexp`], a reader for the rendered data.

#![forbid(unsafe_code)]

pub mod imap;
pub mod imap_render;
pub mod managesieve;
pub mod mime;
pub mod pop3;
pub mod sexp;
pub mod sieve;
pub mod smtp;
pub mod utf7;

pub use imap::imap_command;
pub use managesieve::managesieve_command;
pub use mime::mime_message;
pub use pop3::pop3_command;
pub use sieve::sieve_script;
pub use smtp::smtp_command;
pub use utf7::imap_utf7;

/// A target's entry point: takes the fuzzer's input, panics if a property breaks.
pub type EntryPoint = fn(&[u8]);

/// Every target: its name (the directory of its corpus) and its entry point.
pub const TARGETS: &[(&str, EntryPoint)] = &[
    ("imap_command", imap_command),
    ("imap_utf7", imap_utf7),
    ("pop3_command", pop3_command),
    ("smtp_command", smtp_command),
    ("managesieve_command", managesieve_command),
    ("sieve_script", sieve_script),
    ("mime_message", mime_message),
];

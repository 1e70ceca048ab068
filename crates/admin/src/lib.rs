//! The admin side of Marque over HTTP: the JSON API under `/api/v1` (tenants, plans, managers,
//! domains, mailboxes, aliases, lists, brands, activations, usage, logs, audit, queue, tokens,
//! webhooks) with bearer tokens, RFC 9457 problem details and OpenAPI 3.1; branding; TLS
//! certificates by ACME; DNS checks; autoconfig and autodiscover; the web panel.
//!
//! Until the API lands, [`unavailable::Unavailable`] answers every HTTP request with `503` and a
//! problem-details body.
//!
//! # Layout
//! - [`unavailable`]: the `503` handler wired to the `http` and `https` listeners.
//!
//! Later: `api/` (one file per resource), `acme/`, `dns/`, `autoconfig/`, `panel/`.

#![forbid(unsafe_code)]

pub mod unavailable;

pub use unavailable::Unavailable;

/// The handler for the `http` and `https` listeners.
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl marque_core::net::Handler {
    let _ = core;
    Unavailable::new(hostname)
}

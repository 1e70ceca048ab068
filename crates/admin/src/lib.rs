//! The admin side of Marque over HTTP: the JSON API under `/api/v1` (tenants, plans, managers,
//! domains, mailboxes, aliases, lists, activations, credit, usage, logs, audit, tokens, webhooks) with
//! bearer tokens, RFC 9457 problem details, cursor pagination, entity tags, idempotency keys,
//! per-token rate limits, an OpenAPI 3.1 document and offline interactive docs.
//!
//! Every route turns the request into one [`marque_core::Core`] operation with the caller's
//! [`marque_core::Actor`]; the core's permission function decides, and objects outside the
//! caller's scope answer `404`.
//!
//! # Layout
//! - [`server`]: [`Api`], the connection handler (hyper HTTP/1.1 with the router as service).
//! - [`state`]: shared state and settings.
//! - [`limiter`]: per-token rate limits and token-use marks, in the store.
//! - [`extract`]: the signed-in caller and JSON/query extractors that fail as problems.
//! - [`problem`]: RFC 9457 problem details and the mapping of every core error.
//! - [`paging`]: cursor pagination.
//! - [`etag`]: `ETag`, `If-Match`, `If-None-Match`.
//! - [`idempotency`]: `Idempotency-Key` on POST, answers remembered in the store.
//! - [`housekeeping`]: removal of expired limits, answers and panel sessions.
//! - [`api`]: the router, one file per resource, the OpenAPI document and the docs page.
//! - [`panel`]: the web panel at `/admin` for every role, server-rendered HTML.
//! - [`wellknown`]: client configuration (autoconfig, autodiscover, Apple profiles) and the
//!   MTA-STS policy, with the domain's branded hostnames.
//! - [`webhooks`]: the dispatcher that sends the core's webhook outbox, signed.
//! - [`health`]: `/healthz` and `/readyz`, the probes of load balancers.
//! - [`acme`]: answers to ACME HTTP-01 challenges under `/.well-known/acme-challenge/`.

#![forbid(unsafe_code)]

pub mod acme;
pub mod api;
pub mod etag;
pub mod extract;
pub mod health;
pub mod housekeeping;
pub mod idempotency;
pub mod limiter;
pub mod paging;
pub mod panel;
pub mod problem;
pub mod server;
pub mod state;
pub mod webhooks;
pub mod wellknown;

pub use server::Api;
pub use state::Settings;

/// The handler for the `http` and `https` listeners.
pub fn handler(hosting: &marque_hosting::Hosting, hostname: &str) -> impl marque_session::Handler {
    Api::new(hosting, hostname, Settings::default())
}

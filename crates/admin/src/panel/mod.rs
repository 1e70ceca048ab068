//! The web panel at `/admin`: server-rendered HTML (maud) over the same core operations and
//! permission checks as the JSON API, for every principal — administrators, managers,
//! postmasters and users. No script is needed; the one stylesheet is embedded in the binary.
//!
//! Every page takes the session's [`marque_core::Actor`] and calls the core with it, so what a
//! page shows is exactly what the API would let that principal see; a core error becomes a
//! readable page with the matching status, never a `500` for bad input.
//!
//! # Layout
//! - [`session`]: the session table, cookies, expiry.
//! - [`ctx`]: extractors: the signed-in page context and checked form posts (CSRF, Origin).
//! - [`layout`]: the page frame, navigation per role, helpers for tables and bars.
//! - [`assets`]: the stylesheet.
//! - [`brand`]: the brand of the host the panel is reached on, logos, colours.
//! - [`auth`]: sign-in, sign-out, password change.
//! - [`dashboard`]: the overview and search.
//! - [`customers`], [`domains`], [`mailboxes`]: the tenant tree and its objects.
//! - [`aliases`]: aliases and mailing lists of a domain.
//! - [`activations`], [`credit`], [`plans`], [`managers`]: reselling: the activation queue,
//!   prepaid credit, tariffs, managers and their policies.
//! - [`totp`]: the TOTP second factor of administrators and managers.
//! - [`usage`]: usage report and CSV download.
//! - [`logs`]: transaction and authentication log viewers.
//! - [`me`]: a mailbox's vacation message, forwards and filters.

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub mod activations;
pub mod aliases;
pub mod assets;
pub mod auth;
pub mod brand;
pub mod credit;
pub mod ctx;
pub mod customers;
pub mod dashboard;
pub mod dns;
pub mod domains;
pub mod layout;
pub mod logs;
pub mod mailboxes;
pub mod managers;
pub mod me;
pub mod plans;
pub mod session;
pub mod totp;
pub mod usage;

pub use session::{Lifetimes, Sessions};

/// Whether the request came over TLS (put on each request by the connection handler), so the
/// session cookie gets `Secure`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tls(pub bool);

/// The panel's routes, all under `/admin`, with `sessions` as their session table.
pub fn routes(sessions: Sessions) -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/", get(dashboard::show))
        .route("/admin/search", get(dashboard::search))
        .route("/admin/assets/panel.css", get(assets::css))
        .route("/admin/assets/brand.css", get(brand::css))
        .route("/admin/brand/logo/{id}", get(brand::logo))
        .route("/admin/login", get(auth::login_form).post(auth::login))
        .route("/admin/login/code", post(totp::login_code))
        .route("/admin/logout", post(auth::logout))
        .route("/admin/totp", get(totp::page).post(totp::enrol))
        .route("/admin/totp/remove", post(totp::remove))
        .route(
            "/admin/password",
            get(auth::password_form).post(auth::password),
        )
        .route(
            "/admin/customers",
            get(customers::list).post(customers::create),
        )
        .route("/admin/customers/new", get(customers::new_form))
        .route("/admin/customers/{id}", get(customers::show))
        .route("/admin/domains", get(domains::list).post(domains::create))
        .route("/admin/domains/{name}", get(domains::show))
        .route("/admin/domains/{name}/dns", post(dns::check))
        .route("/admin/domains/{name}/brand", post(dns::set_brand))
        .route("/admin/mailboxes", post(mailboxes::create))
        .route("/admin/mailboxes/{address}", get(mailboxes::show))
        .route(
            "/admin/mailboxes/{address}/password",
            post(mailboxes::reset_password),
        )
        .route("/admin/mailboxes/{address}/flags", post(mailboxes::flags))
        .route("/admin/aliases", post(aliases::create))
        .route("/admin/lists", post(aliases::create_list))
        .route("/admin/activations", get(activations::list))
        .route(
            "/admin/activations/{id}/approve",
            post(activations::approve),
        )
        .route("/admin/activations/{id}/reject", post(activations::reject))
        .route("/admin/credit", get(credit::show).post(credit::top_up))
        .route("/admin/plans", get(plans::list).post(plans::create))
        .route(
            "/admin/managers",
            get(managers::list).post(managers::create),
        )
        .route("/admin/usage", get(usage::show))
        .route("/admin/usage.csv", get(usage::csv))
        .route("/admin/logs/transactions", get(logs::transactions))
        .route("/admin/logs/transactions/{id}", get(logs::transaction))
        .route("/admin/logs/auth", get(logs::auth))
        .route(
            "/admin/me/vacation",
            get(me::vacation_form).post(me::vacation),
        )
        .route(
            "/admin/me/forwards",
            get(me::forwards_form).post(me::forwards),
        )
        .route("/admin/me/filters", get(me::filters).post(me::filter_save))
        .layer(axum::Extension(sessions))
}

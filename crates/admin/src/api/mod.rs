//! The routes under `/api/v1`, one file per resource, plus the OpenAPI document and the docs
//! page. The router is built from [`routes`], the same table the OpenAPI test checks.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;

use crate::problem::Problem;
use crate::state::AppState;

pub mod activations;
pub mod aliases;
pub mod brands;
pub mod bulk;
pub mod certificates;
pub mod dns;
pub mod docs;
pub mod domains;
pub mod limits;
pub mod lists;
pub mod logs;
pub mod mailboxes;
pub mod managers;
pub mod me;
pub mod outbound;
pub mod plans;
pub mod queue;
pub mod sieve;
pub mod tenants;
pub mod tokens;
pub mod usage;
pub mod webhooks;

/// One route: its path (axum syntax, as in the OpenAPI document), its methods, its handlers.
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub handler: MethodRouter<AppState>,
}

/// One resource file: its routes, the operations the OpenAPI document lists for them, and the
/// schemas of their request bodies.
pub(crate) struct Resource {
    pub routes: fn() -> Vec<Route>,
    pub ops: &'static [docs::Op],
    pub schemas: fn() -> serde_json::Value,
}

/// No request body of its own.
fn no_schemas() -> serde_json::Value {
    serde_json::json!({})
}

macro_rules! resource {
    ($m:ident) => {
        Resource {
            routes: $m::routes,
            ops: $m::OPS,
            schemas: $m::schemas,
        }
    };
    ($m:ident, no schemas) => {
        Resource {
            routes: $m::routes,
            ops: $m::OPS,
            schemas: no_schemas,
        }
    };
}

/// Every resource file of the API, in the order the router and the document take them.
pub(crate) const RESOURCES: &[Resource] = &[
    resource!(me),
    resource!(tenants),
    resource!(domains),
    resource!(dns, no schemas),
    resource!(bulk),
    resource!(mailboxes),
    resource!(tokens),
    resource!(aliases),
    resource!(lists),
    resource!(plans),
    resource!(managers),
    resource!(activations, no schemas),
    resource!(usage, no schemas),
    resource!(logs, no schemas),
    resource!(sieve),
    resource!(webhooks),
    resource!(queue, no schemas),
    resource!(brands),
    resource!(outbound),
    resource!(certificates),
    resource!(docs, no schemas),
];

/// Every route of the API.
pub fn routes() -> Vec<Route> {
    RESOURCES.iter().flat_map(|r| (r.routes)()).collect()
}

async fn no_route() -> impl IntoResponse {
    Problem::no_route()
}

async fn no_method() -> impl IntoResponse {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this resource does not answer that method",
    )
}

/// The router with its state, limits and middleware.
pub fn router(state: AppState) -> Router {
    let mut r = Router::new();
    for route in routes() {
        r = r.route(route.path, route.handler);
    }
    // ACME HTTP-01 challenges, answered while an order is pending.
    r = r.route(crate::acme::PATH, axum::routing::get(crate::acme::answer));
    // The web panel at /admin, over the same core and permission checks.
    let sessions = crate::panel::Sessions::new(
        state.core.store().clone(),
        crate::panel::Lifetimes::default(),
    );
    let r = r.merge(crate::panel::routes(sessions));
    r.merge(crate::wellknown::router())
        .merge(crate::health::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(state.settings.max_json))
        .with_state(state)
}

/// Shorthand for a route.
pub(crate) fn route(
    path: &'static str,
    methods: &'static [&'static str],
    handler: MethodRouter<AppState>,
) -> Route {
    Route {
        path,
        methods,
        handler,
    }
}

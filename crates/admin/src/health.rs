//! Probes for load balancers and supervisors, without authentication: `/healthz` says the
//! process is alive and serving HTTP; `/readyz` says whether it should be sent traffic now.
//!
//! Both answer in one line of plain text, with nothing internal in it (no database address, no
//! error text): the reason a node is not ready goes to the log, where its operator reads it.
//! Neither is cached (`Cache-Control: no-store`), and `HEAD` answers as `GET` without a body.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// The liveness probe: 200 while the process serves HTTP.
pub const HEALTHZ: &str = "/healthz";
/// The readiness probe: 200 when the store answers a read and the process is not shutting
/// down, 503 with a short reason otherwise.
pub const READYZ: &str = "/readyz";
/// How long the readiness probe waits for the store.
const STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// Set on each request by the server: whether the process has begun shutting down.
#[derive(Debug, Clone, Copy)]
pub struct Draining(pub bool);

/// The probes' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n")
}

async fn readyz(
    State(state): State<AppState>,
    draining: Option<axum::Extension<Draining>>,
) -> Response {
    if draining.is_some_and(|d| d.0.0) {
        return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    let store = state.core.store().clone();
    match tokio::time::timeout(STORE_TIMEOUT, store.read(|s| s.ping())).await {
        Ok(Ok(())) => text(StatusCode::OK, "ready\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the store does not answer");
            text(StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
        Err(_) => {
            tracing::warn!("not ready: the store did not answer in time");
            text(StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}

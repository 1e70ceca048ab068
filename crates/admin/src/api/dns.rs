//! `/domains/{name}/dns`: the records a domain must publish and the state of each at the last
//! check; `/domains/{name}/dns/check` checks them now. Anyone who may read the domain may do
//! both (a postmaster their own domain); a check on demand runs at most once per
//! `on_demand_every` (10 s) per domain, after which the answer is `429` with `Retry-After`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marque_hosting::dns::CheckOutcome;

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Path};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/domains/{name}/dns", &["get"], get(show)),
        route("/api/v1/domains/{name}/dns/check", &["post"], post(check)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/domains/{name}/dns",
        "The DNS records a domain must publish and their state at the last check",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/domains/{name}/dns/check",
        "Check a domain's DNS records now (at most once per 10 s per domain)",
        None,
        &[],
    ),
];

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let status = st.hosting.domain_dns(&actor, &name).await?;
    Ok(axum::Json(status).into_response())
}

async fn check(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    match st.hosting.check_domain_dns(&actor, &name).await? {
        CheckOutcome::Checked(status) => Ok(axum::Json(status).into_response()),
        CheckOutcome::TooSoon(wait) => {
            // Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3).
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let secs = secs.max(1);
            Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                format!(
                    "the DNS records of {name} were checked moments ago; try again in {secs} s"
                ),
            )
            .with("retry_after", secs)
            .header(header::RETRY_AFTER, secs.to_string()))
        }
    }
}

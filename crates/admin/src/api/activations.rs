//! `/activations`: customers waiting for approval (the queue), approve and reject.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marque_core::{ActivationId, TenantId};
use serde::Deserialize;

use super::docs::{Op, op};
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::ApiResult;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/activations", &["get"], get(list)),
        route("/api/v1/activations/{id}", &["get"], get(show)),
        route("/api/v1/activations/{id}/approve", &["post"], post(approve)),
        route("/api/v1/activations/{id}/reject", &["post"], post(reject)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/activations",
        "List activation requests",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/activations/{id}",
        "Read an activation",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/activations/{id}/approve",
        "Approve an activation",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/activations/{id}/reject",
        "Reject an activation",
        None,
        &[],
    ),
];

#[derive(Debug, Deserialize)]
struct ListQuery {
    tenant: Option<TenantId>,
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let tenant = q.tenant.unwrap_or_else(|| actor.principal.tenant());
    let items = st.core.list_activations(&actor, tenant).await?;
    Ok(axum::Json(paging::page(items, |a| paging::num(a.id.0), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let a = st.core.get_activation(&actor, ActivationId(id)).await?;
    etag::respond(&headers, StatusCode::OK, &a)
}

async fn approve(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let a = st.core.approve_activation(&actor, ActivationId(id)).await?;
    Ok(axum::Json(a).into_response())
}

async fn reject(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let a = st.core.reject_activation(&actor, ActivationId(id)).await?;
    Ok(axum::Json(a).into_response())
}

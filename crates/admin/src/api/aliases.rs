//! `/aliases`: addresses that forward to others, addressed by their own address.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::tenants::created;
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, DomainQuery, PageQuery};
use crate::problem::ApiResult;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/aliases", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/aliases/{address}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/aliases",
        "List a domain's aliases",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/aliases",
        "Create an alias",
        Some("NewAlias"),
        &[],
    ),
    op(
        "get",
        "/api/v1/aliases/{address}",
        "Read an alias",
        None,
        &[],
    ),
    op(
        "patch",
        "/api/v1/aliases/{address}",
        "Replace an alias's targets",
        Some("AliasChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/aliases/{address}",
        "Delete an alias",
        None,
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let strs = types::strings();
    json!({
        "NewAlias": types::object(json!({"address": s, "targets": strs}), &["address", "targets"]),
        "AliasChanges": types::object(json!({"targets": strs}), &["targets"]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    address: String,
    targets: Vec<String>,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let a = st.core.create_alias(&actor, &c.address, &c.targets).await?;
    created(format!("/api/v1/aliases/{}", a.address), &a)
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<DomainQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let items = st.core.list_aliases(&actor, q.required()?).await?;
    Ok(axum::Json(paging::page(items, |a| a.address.clone(), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    let a = st.core.get_alias(&actor, &address).await?;
    etag::respond(&headers, StatusCode::OK, &a)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    targets: Vec<String>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    let current = st.core.get_alias(&actor, &address).await?;
    etag::check_if_match(&headers, &current)?;
    let a = st
        .core
        .set_alias_targets(&actor, &address, &c.targets)
        .await?;
    etag::respond(&HeaderMap::new(), StatusCode::OK, &a)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    st.core.delete_alias(&actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

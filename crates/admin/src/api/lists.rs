//! `/lists`: mailing lists and their members, addressed by the list's address.

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
        route("/api/v1/lists", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/lists/{address}",
            &["get", "delete"],
            get(show).delete(remove),
        ),
        route(
            "/api/v1/lists/{address}/members",
            &["get", "put"],
            get(members).put(set_members),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/lists",
        "List a domain's mailing lists",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/lists",
        "Create a mailing list",
        Some("NewList"),
        &[],
    ),
    op(
        "get",
        "/api/v1/lists/{address}",
        "Read a mailing list",
        None,
        &[],
    ),
    op(
        "delete",
        "/api/v1/lists/{address}",
        "Delete a mailing list",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/lists/{address}/members",
        "A list's members",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/lists/{address}/members",
        "Replace a list's members",
        Some("Members"),
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let strs = types::strings();
    json!({
        "NewList": types::object(json!({"address": s, "name": s, "members": strs}), &["address", "name"]),
        "Members": types::object(json!({"members": strs}), &["members"]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    address: String,
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let l = st
        .core
        .create_list(&actor, &c.address, &c.name, &c.members)
        .await?;
    created(format!("/api/v1/lists/{}", l.address), &l)
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<DomainQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let items = st.core.list_lists(&actor, q.required()?).await?;
    Ok(axum::Json(paging::page(items, |l| l.address.clone(), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    let l = st.core.get_list(&actor, &address).await?;
    etag::respond(&headers, StatusCode::OK, &l)
}

async fn members(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    let l = st.core.get_list(&actor, &address).await?;
    Ok(axum::Json(json!({ "items": l.members, "next": null })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    members: Vec<String>,
}

async fn set_members(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
    Json(m): Json<Members>,
) -> ApiResult<Response> {
    let current = st.core.get_list(&actor, &address).await?;
    etag::check_if_match(&headers, &current)?;
    let l = st
        .core
        .set_list_members(&actor, &address, &m.members)
        .await?;
    etag::respond(&HeaderMap::new(), StatusCode::OK, &l)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    st.core.delete_list(&actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/lists`: mailing lists and their members, addressed by the list's address.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

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

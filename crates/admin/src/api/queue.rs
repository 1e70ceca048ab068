//! `/queue`: the outbound queue, scoped by [`marque_core::policy::authorize`]: the provider sees
//! every entry, a tenant admin the entries of its subtree. An entry can be shown, retried now
//! (`POST /queue/{id}/retry`) or deleted without delivery.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::docs::{Op, PAGE, op};
use super::{Route, route};
use crate::extract::{Caller, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/queue", &["get"], get(list)),
        route(
            "/api/v1/queue/{id}",
            &["get", "delete"],
            get(show).delete(remove),
        ),
        route("/api/v1/queue/{id}/retry", &["post"], post(retry)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/queue",
        "List the outbound queue's entries the caller may see",
        None,
        PAGE,
    ),
    op(
        "get",
        "/api/v1/queue/{id}",
        "Read a queue entry: envelope, recipients, schedule",
        None,
        &[],
    ),
    op(
        "delete",
        "/api/v1/queue/{id}",
        "Delete a queue entry without delivering it",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/queue/{id}/retry",
        "Make a queue entry due now",
        None,
        &[],
    ),
];

fn id(raw: &str) -> ApiResult<u64> {
    raw.parse()
        .map_err(|_| Problem::invalid("id", "a queue entry id is a positive integer"))
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let limit = page.limit()?;
    let after = match page.cursor()? {
        Some(c) => id(&c)?,
        None => 0,
    };
    let mut items = st.hosting.queue_list(&actor, after, limit + 1).await?;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|i| paging::encode(&i.id.to_string()))
    } else {
        None
    };
    Ok(axum::Json(json!({ "items": items, "next": next })).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let item = st.hosting.queue_get(&actor, id(&raw)?).await?;
    Ok(axum::Json(item).into_response())
}

async fn retry(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let item = st.hosting.queue_retry(&actor, id(&raw)?).await?;
    Ok(axum::Json(item).into_response())
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    st.hosting.queue_delete(&actor, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/webhooks`: URLs a tenant's administrators subscribe to events of the tenant's subtree,
//! and `/webhooks/{id}/deliveries`, the log of every attempt to send them. The signing secret
//! is in the creation answer only.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::TenantId;
use marque_hosting::webhook::EVENTS;
use marque_hosting::{NewWebhook, WebhookChanges, WebhookId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, PAGE, op, types};
use super::tenants::created;
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/webhooks", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/webhooks/{id}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
        route(
            "/api/v1/webhooks/{id}/deliveries",
            &["get"],
            get(deliveries),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/webhooks",
        "List a tenant's webhooks",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/webhooks",
        "Subscribe a URL to events (the secret is shown once)",
        Some("NewWebhook"),
        &[],
    ),
    op("get", "/api/v1/webhooks/{id}", "Read a webhook", None, &[]),
    op(
        "patch",
        "/api/v1/webhooks/{id}",
        "Change a webhook",
        Some("WebhookChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/webhooks/{id}",
        "Delete a webhook",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/webhooks/{id}/deliveries",
        "A webhook's delivery attempts, newest first",
        None,
        PAGE,
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let i = types::id();
    let b = types::boolean();
    let events = json!({"type": "array", "minItems": 1,
        "items": {"type": "string", "enum": event_names()}});
    json!({
        "NewWebhook": types::object(json!({"url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "events": events, "tenant": i, "enabled": b}), &["url", "events"]),
        "WebhookChanges": types::object(json!({"url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "events": events, "enabled": b}), &[]),
    })
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    url: String,
    events: Vec<String>,
    tenant: Option<TenantId>,
    #[serde(default = "default_true")]
    enabled: bool,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let new = NewWebhook {
        tenant: c.tenant,
        url: c.url,
        events: c.events,
        enabled: c.enabled,
    };
    let (w, secret) = st.hosting.create_webhook(&actor, new).await?;
    let mut body = etag::to_value(&w)?;
    body["secret"] = json!(secret);
    created(format!("/api/v1/webhooks/{}", w.id), &body)
}

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
    let items = st.hosting.list_webhooks(&actor, tenant).await?;
    let key = |w: &marque_hosting::Webhook| paging::num(w.id.0);
    Ok(axum::Json(paging::page(items, key, &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let w = st.hosting.get_webhook(&actor, WebhookId(id)).await?;
    etag::respond(&headers, StatusCode::OK, &w)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    headers: HeaderMap,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    let current = st.hosting.get_webhook(&actor, WebhookId(id)).await?;
    etag::check_if_match(&headers, &current)?;
    let ch = WebhookChanges {
        url: c.url,
        events: c.events,
        enabled: c.enabled,
    };
    let w = st.hosting.update_webhook(&actor, WebhookId(id), ch).await?;
    etag::respond(&HeaderMap::new(), StatusCode::OK, &w)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.hosting.delete_webhook(&actor, WebhookId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let before = match page.cursor()? {
        None => None,
        Some(c) => Some(
            c.parse::<u64>()
                .map_err(|_| Problem::invalid("cursor", "not a cursor this API gave out"))?,
        ),
    };
    let (items, next) = st
        .hosting
        .webhook_deliveries(&actor, WebhookId(id), before, page.limit()?)
        .await?;
    let next = next.map(|n| paging::encode(&n.to_string()));
    Ok(axum::Json(json!({ "items": items, "next": next })).into_response())
}

/// The events a webhook can subscribe to, for the OpenAPI document.
pub(crate) fn event_names() -> Vec<&'static str> {
    EVENTS.to_vec()
}

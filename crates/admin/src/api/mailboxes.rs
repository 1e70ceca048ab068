//! `/mailboxes`: addressed by email address; quota, tier, postmaster flag, enabled, password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{MailboxChanges, NewMailbox, Tier, limits};
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
        route(
            "/api/v1/mailboxes",
            &["get", "post"],
            get(list).post(create),
        ),
        route(
            "/api/v1/mailboxes/{address}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/mailboxes",
        "List a domain's mailboxes",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/mailboxes",
        "Create a mailbox",
        Some("NewMailbox"),
        &[],
    ),
    op(
        "get",
        "/api/v1/mailboxes/{address}",
        "Read a mailbox",
        None,
        &[],
    ),
    op(
        "patch",
        "/api/v1/mailboxes/{address}",
        "Resize, tier, flags, password",
        Some("MailboxChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/mailboxes/{address}",
        "Delete a mailbox",
        None,
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let b = types::boolean();
    let tier = types::tier();
    let mb1 = types::mib();
    json!({
        "NewMailbox": types::object(json!({"address": s, "password": s, "quota_mb": mb1, "tier": tier,
            "postmaster": b}), &["address", "password"]),
        "MailboxChanges": types::object(json!({"quota_mb": mb1, "tier": tier, "postmaster": b, "enabled": b,
            "password": s}), &[]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    address: String,
    password: String,
    quota_mb: Option<u64>,
    tier: Option<Tier>,
    #[serde(default)]
    postmaster: bool,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    if let Some(q) = c.quota_mb {
        limits::check_mb("quota_mb", q)?;
    }
    let new = NewMailbox {
        address: c.address,
        password: c.password,
        quota_mb: c.quota_mb,
        tier: c.tier,
        postmaster: c.postmaster,
    };
    let m = st.core.create_mailbox(&actor, new).await?;
    created(format!("/api/v1/mailboxes/{}", m.address), &m)
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<DomainQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let items = st.core.list_mailboxes(&actor, q.required()?).await?;
    Ok(axum::Json(paging::page(items, |m| m.address.clone(), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    let m = st.core.get_mailbox(&actor, &address).await?;
    etag::respond(&headers, StatusCode::OK, &m)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    quota_mb: Option<u64>,
    tier: Option<Tier>,
    postmaster: Option<bool>,
    enabled: Option<bool>,
    password: Option<String>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(address): Path<String>,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    if let Some(q) = c.quota_mb {
        limits::check_mb("quota_mb", q)?;
    }
    let current = st.core.get_mailbox(&actor, &address).await?;
    etag::check_if_match(&headers, &current)?;
    let changes = MailboxChanges {
        quota_mb: c.quota_mb,
        tier: c.tier,
        postmaster: c.postmaster,
        enabled: c.enabled,
    };
    let any = changes.quota_mb.is_some()
        || changes.tier.is_some()
        || changes.postmaster.is_some()
        || changes.enabled.is_some();
    let mut m = current;
    if any {
        m = st.core.update_mailbox(&actor, &address, changes).await?;
    }
    if let Some(pw) = c.password {
        st.core.set_password(&actor, &address, &pw).await?;
    }
    etag::respond(&HeaderMap::new(), StatusCode::OK, &m)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(address): Path<String>,
) -> ApiResult<StatusCode> {
    st.core.delete_mailbox(&actor, &address).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Sieve over HTTP: a signed-in mailbox's vacation message, forwards and filters under `/me`,
//! and, for administrators, one filter on many mailboxes (`POST /sieve/bulk`). Everything
//! goes through `marque_hosting::sieve`, which checks permissions, limits and compiles scripts.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marque_core::{Actor, PrincipalId, TenantId};
use marque_hosting::sieve::{self, Forwards, Selection, Vacation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Json, Path};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// Most addresses one bulk call may name.
pub const MAX_BULK_ADDRESSES: usize = 10_000;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route(
            "/api/v1/me/vacation",
            &["get", "put", "delete"],
            get(vacation_get).put(vacation_put).delete(vacation_delete),
        ),
        route(
            "/api/v1/me/forwards",
            &["get", "put"],
            get(forwards_get).put(forwards_put),
        ),
        route("/api/v1/me/filters", &["get"], get(filters_list)),
        route(
            "/api/v1/me/filters/{name}",
            &["get", "put", "delete"],
            get(filter_get).put(filter_put).delete(filter_delete),
        ),
        route(
            "/api/v1/me/filters/{name}/activate",
            &["post"],
            post(filter_activate),
        ),
        route(
            "/api/v1/sieve/bulk",
            &["post"],
            post(bulk).layer(DefaultBodyLimit::max(crate::state::MAX_UPLOAD)),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/me/vacation",
        "One's vacation message",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/me/vacation",
        "Set one's vacation message",
        Some("Vacation"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/me/vacation",
        "Remove one's vacation message",
        None,
        &[],
    ),
    op("get", "/api/v1/me/forwards", "One's forwards", None, &[]),
    op(
        "put",
        "/api/v1/me/forwards",
        "Set one's forwards",
        Some("Forwards"),
        &[],
    ),
    op(
        "get",
        "/api/v1/me/filters",
        "One's Sieve scripts",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/me/filters/{name}",
        "One Sieve script",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/me/filters/{name}",
        "Create or replace a Sieve script (compiled first)",
        Some("Filter"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/me/filters/{name}",
        "Delete a Sieve script (not the active one)",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/me/filters/{name}/activate",
        "Make a Sieve script the active one",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/sieve/bulk",
        "Set one Sieve script on a domain, a tenant or a list of mailboxes",
        Some("SieveBulk"),
        &[],
    ),
];

/// The request schemas of this file, added to `components/schemas`.
pub fn schemas() -> Value {
    let s = json!({"type": "string"});
    let sn = json!({"type": ["string", "null"], "format": "date"});
    let b = json!({"type": "boolean"});
    let strs = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "Vacation": {"type": "object", "additionalProperties": false, "required": ["enabled"],
            "properties": {"enabled": b, "subject": s, "body": s, "start": sn, "end": sn,
                "days": {"type": ["integer", "null"], "minimum": 1, "maximum": 365},
                "addresses": strs}},
        "Forwards": {"type": "object", "additionalProperties": false, "required": ["addresses"],
            "properties": {"addresses": strs, "keep_copy": b}},
        "Filter": {"type": "object", "additionalProperties": false, "required": ["script"],
            "properties": {"script": s}},
        "SieveBulk": {"type": "object", "additionalProperties": false,
            "required": ["name", "script"],
            "properties": {"domain": s, "tenant": {"type": "integer", "minimum": 0},
                "addresses": {"type": "array", "maxItems": MAX_BULK_ADDRESSES, "items": s},
                "name": s, "script": s, "activate": b}},
    })
}

/// The caller's own mailbox address: `/me` settings belong to mailboxes only.
fn own_mailbox(actor: &Actor) -> ApiResult<String> {
    match actor.principal.id {
        PrincipalId::Mailbox(_) => Ok(actor.principal.name.clone()),
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "the signed-in principal has no mailbox",
        )),
    }
}

fn vacation_json(v: Option<Vacation>) -> Value {
    json!(v.unwrap_or_default())
}

fn forwards_json(f: Option<Forwards>) -> Value {
    json!(f.unwrap_or_default())
}

async fn vacation_get(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let s = st.hosting.sieve_settings(&actor, &me).await?;
    Ok(axum::Json(vacation_json(s.vacation)).into_response())
}

async fn vacation_put(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(v): Json<Vacation>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let s = st.hosting.set_vacation(&actor, &me, Some(v)).await?;
    Ok(axum::Json(vacation_json(s.vacation)).into_response())
}

async fn vacation_delete(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    st.hosting.set_vacation(&actor, &me, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn forwards_get(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let s = st.hosting.sieve_settings(&actor, &me).await?;
    Ok(axum::Json(forwards_json(s.forwards)).into_response())
}

async fn forwards_put(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(f): Json<Forwards>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    // No address at all is "no forwards".
    let f = (!f.addresses.is_empty()).then_some(f);
    let s = st.hosting.set_forwards(&actor, &me, f).await?;
    Ok(axum::Json(forwards_json(s.forwards)).into_response())
}

async fn filters_list(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let scripts = st.hosting.sieve_list(&actor, &me).await?;
    let items: Vec<Value> = scripts
        .into_iter()
        .map(|s| json!({"name": s.name, "size": s.size, "active": s.active}))
        .collect();
    Ok(axum::Json(json!({"items": items, "next": null})).into_response())
}

async fn filter_get(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let script = st.hosting.sieve_get(&actor, &me, &name).await?;
    let active = st
        .hosting
        .sieve_list(&actor, &me)
        .await?
        .iter()
        .any(|s| s.active && s.name == name);
    Ok(axum::Json(json!({"name": name, "script": script, "active": active})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Filter {
    script: String,
}

async fn filter_put(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    Json(f): Json<Filter>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    let size = f.script.len();
    let warnings = st
        .hosting
        .sieve_put(&actor, &me, &name, f.script.into_bytes())
        .await?;
    Ok(axum::Json(json!({"name": name, "size": size, "warnings": warnings})).into_response())
}

async fn filter_delete(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    st.hosting.sieve_delete(&actor, &me, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn filter_activate(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let me = own_mailbox(&actor)?;
    st.hosting
        .sieve_set_active(&actor, &me, Some(&name))
        .await?;
    Ok(axum::Json(json!({"name": name, "active": true})).into_response())
}

/// `POST /sieve/bulk`: exactly one of `domain`, `tenant`, `addresses`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bulk {
    domain: Option<String>,
    tenant: Option<u64>,
    addresses: Option<Vec<String>>,
    name: String,
    script: String,
    #[serde(default)]
    activate: bool,
}

async fn bulk(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(b): Json<Bulk>,
) -> ApiResult<Response> {
    let selection = match (b.domain, b.tenant, b.addresses) {
        (Some(d), None, None) => Selection::Domain(d),
        (None, Some(t), None) => Selection::Tenant(TenantId(t)),
        (None, None, Some(a)) => {
            if a.len() > MAX_BULK_ADDRESSES {
                return Err(Problem::invalid(
                    "addresses",
                    format!("at most {MAX_BULK_ADDRESSES} addresses"),
                ));
            }
            Selection::Addresses(a)
        }
        _ => {
            return Err(Problem::invalid(
                "selection",
                "give exactly one of domain, tenant and addresses",
            ));
        }
    };
    let results = sieve::bulk_set(
        &st.hosting,
        &actor,
        selection,
        &b.name,
        &b.script,
        b.activate,
    )
    .await?;
    let mut succeeded = 0;
    let items: Vec<Value> = results
        .into_iter()
        .map(|r| match r.result {
            Ok(()) => {
                succeeded += 1;
                json!({"address": r.address, "status": 200})
            }
            Err(e) => {
                let p = Problem::from(e);
                json!({"address": r.address, "status": p.status.as_u16(), "problem": p.body()})
            }
        })
        .collect();
    let failed = items.len() - succeeded;
    Ok(axum::Json(json!({
        "name": b.name,
        "selected": items.len(),
        "succeeded": succeeded,
        "failed": failed,
        "results": items,
    }))
    .into_response())
}

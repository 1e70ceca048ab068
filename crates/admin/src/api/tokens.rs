//! `/tokens`: API tokens of the caller, or of an administrator of a tenant below it. The secret
//! is in the creation answer only.
//!
//! `POST {"manager": id}` makes a token for that manager. `POST {"tenant": id}` makes a token that acts as an administrator of that tenant: it is
//! minted for the tenant's first administrator, and when the tenant has none, one without a
//! password (login `api-admin-<id>`) is created for it first. The core decides whether the
//! caller may do either.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use marque_core::{NewStaff, NewToken, PrincipalId, Scope, StaffId, StaffKind, TenantId, TokenId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, PAGE, op, types};
use super::tenants::created;
use super::{Route, route};
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/tokens", &["get", "post"], get(list).post(create)),
        route("/api/v1/tokens/{id}", &["delete"], delete(revoke)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op("get", "/api/v1/tokens", "List one's own tokens", None, PAGE),
    op(
        "post",
        "/api/v1/tokens",
        "Create a token (secret shown once)",
        Some("NewToken"),
        &[],
    ),
    op("delete", "/api/v1/tokens/{id}", "Revoke a token", None, &[]),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let i = types::id();
    let b = types::boolean();
    json!({
        "NewToken": types::object(json!({"name": s, "tenant": i, "manager": i, "expires": {"type": "string", "format": "date-time"},
            "read_only": b}), &["name"]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    tenant: Option<TenantId>,
    /// A manager (staff id) whose rights the token carries instead.
    manager: Option<u64>,
    /// RFC 3339 date-time.
    expires: Option<String>,
    #[serde(default)]
    read_only: bool,
}

/// Parses an RFC 3339 time into ms since the epoch, in the future.
fn expiry(s: &str) -> ApiResult<u64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Problem::invalid("expires", "expected an RFC 3339 date-time"))?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    if ms <= now {
        return Err(Problem::invalid("expires", "the expiry is in the past"));
    }
    u64::try_from(ms).map_err(|_| Problem::invalid("expires", "out of range"))
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let expires_ms = c.expires.as_deref().map(expiry).transpose()?;
    let principal = match (c.tenant, c.manager) {
        (Some(_), Some(_)) => {
            return Err(Problem::invalid("manager", "give either tenant or manager"));
        }
        (None, Some(m)) => Some(PrincipalId::Staff(StaffId(m))),
        (None, None) => None,
        (Some(tenant), None) => {
            let staff = st.core.list_staff(&actor, tenant).await?;
            let admin = staff
                .iter()
                .find(|s| s.enabled && s.kind == StaffKind::Admin)
                .map(|s| s.id);
            let id = match admin {
                Some(id) => id,
                None => {
                    let new = NewStaff {
                        tenant,
                        login: format!("api-admin-{tenant}"),
                        password: None,
                        kind: StaffKind::Admin,
                    };
                    st.core.create_staff(&actor, new).await?.id
                }
            };
            Some(PrincipalId::Staff(id))
        }
    };
    let new = NewToken {
        name: c.name,
        principal,
        scope: Scope {
            read_only: c.read_only,
            subtree: None,
        },
        expires_ms,
    };
    let (token, secret) = st.core.create_token(&actor, new).await?;
    let body = json!({
        "id": token.id,
        "token": secret,
        "name": token.name,
        "tenant": token.tenant,
        "principal": token.principal,
        "read_only": token.scope.read_only,
        "expires_ms": token.expires_ms,
        "created_ms": token.created_ms,
    });
    created(format!("/api/v1/tokens/{}", token.id), &body)
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let items: Vec<_> = st
        .core
        .list_tokens(&actor)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.name,
                "tenant": t.tenant,
                "principal": t.principal,
                "read_only": t.scope.read_only,
                "subtree": t.scope.subtree,
                "expires_ms": t.expires_ms,
                "revoked": t.revoked,
                "created_ms": t.created_ms,
                "created_by": t.created_by,
            })
        })
        .collect();
    let key = |v: &serde_json::Value| paging::num(v["id"].as_u64().unwrap_or(0));
    Ok(axum::Json(paging::page(items, key, &page)?).into_response())
}

async fn revoke(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.core.revoke_token(&actor, TokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

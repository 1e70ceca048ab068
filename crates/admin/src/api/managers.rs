//! `/managers`: administrators and managers of a tenant (admin, helpdesk with its domains,
//! reseller kind with its plans and activation policy).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{ActivationPolicy, Actor, Core, NewStaff, PlanId, StaffId, StaffKind, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::tenants::created;
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/managers", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/managers/{id}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/managers",
        "List a tenant's administrators and managers",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/managers",
        "Create an administrator or manager",
        Some("NewManager"),
        &[],
    ),
    op("get", "/api/v1/managers/{id}", "Read a manager", None, &[]),
    op(
        "patch",
        "/api/v1/managers/{id}",
        "Change a manager",
        Some("ManagerChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/managers/{id}",
        "Delete a manager",
        None,
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let i = types::id();
    let b = types::boolean();
    let strs = types::strings();
    let ints = types::ids();
    json!({
        "NewManager": types::object(json!({"tenant": i, "login": s, "password": s,
            "kind": {"type": "string", "enum": ["admin", "helpdesk", "reseller"]},
            "domains": strs, "plans": ints,
            "policy": {"type": "string", "enum": ["immediate", "queue", "api"]}}), &["login", "kind"]),
        "ManagerChanges": types::object(json!({"kind": {"type": "string", "enum": ["admin", "helpdesk", "reseller"]},
            "domains": strs, "plans": ints,
            "policy": {"type": "string", "enum": ["immediate", "queue", "api"]},
            "enabled": b, "password": s}), &[]),
    })
}

/// The kind of a manager as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Admin,
    Helpdesk,
    Reseller,
}

/// Builds the core's kind; helpdesk domains are given by name.
async fn kind(
    core: &Core,
    actor: &Actor,
    kind: Kind,
    domains: Vec<String>,
    plans: Vec<PlanId>,
    policy: Option<ActivationPolicy>,
) -> ApiResult<StaffKind> {
    Ok(match kind {
        Kind::Admin => StaffKind::Admin,
        Kind::Helpdesk => {
            let mut ids = Vec::new();
            for d in domains {
                ids.push(core.get_domain(actor, &d).await?.id);
            }
            StaffKind::Helpdesk { domains: ids }
        }
        Kind::Reseller => StaffKind::ResellerManager {
            plans,
            policy: policy
                .ok_or_else(|| Problem::invalid("policy", "immediate, queue or api is required"))?,
        },
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    tenant: Option<TenantId>,
    login: String,
    password: Option<String>,
    kind: Kind,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    plans: Vec<PlanId>,
    policy: Option<ActivationPolicy>,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let kind = kind(&st.core, &actor, c.kind, c.domains, c.plans, c.policy).await?;
    let new = NewStaff {
        tenant: c.tenant.unwrap_or_else(|| actor.principal.tenant()),
        login: c.login,
        password: c.password,
        kind,
    };
    let s = st.core.create_staff(&actor, new).await?;
    created(format!("/api/v1/managers/{}", s.id), &s)
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
    let items = st.core.list_staff(&actor, tenant).await?;
    Ok(axum::Json(paging::page(items, |s| paging::num(s.id.0), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let s = st.core.get_staff(&actor, StaffId(id)).await?;
    etag::respond(&headers, StatusCode::OK, &s)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    kind: Option<Kind>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    plans: Vec<PlanId>,
    policy: Option<ActivationPolicy>,
    enabled: Option<bool>,
    password: Option<String>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    let id = StaffId(id);
    let current = st.core.get_staff(&actor, id).await?;
    etag::check_if_match(&headers, &current)?;
    let new_kind = match c.kind {
        Some(k) => Some(kind(&st.core, &actor, k, c.domains, c.plans, c.policy).await?),
        None => None,
    };
    let mut s = current;
    if new_kind.is_some() || c.enabled.is_some() {
        s = st
            .core
            .update_staff(&actor, id, new_kind, c.enabled)
            .await?;
    }
    if let Some(pw) = c.password {
        st.core.set_staff_password(&actor, id, pw).await?;
    }
    etag::respond(&HeaderMap::new(), StatusCode::OK, &s)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.core.delete_staff(&actor, StaffId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/tenants`: the tenant tree, limits and prepaid credit.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{
    Billing, Limits, LimitsOf, NewTenant, PlanId, SupportLevel, TenantChanges, TenantId, TenantKind,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, PAGE, op, types};
use super::limits::{LimitsPatch, nullable};
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/tenants", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/tenants/{id}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
        route(
            "/api/v1/tenants/{id}/credit",
            &["get", "post"],
            get(credit).post(top_up),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/tenants",
        "List child tenants",
        None,
        &["parent", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/tenants",
        "Create a reseller or customer",
        Some("NewTenant"),
        &[],
    ),
    op("get", "/api/v1/tenants/{id}", "Read a tenant", None, &[]),
    op(
        "patch",
        "/api/v1/tenants/{id}",
        "Change a tenant, its limits",
        Some("TenantChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tenants/{id}",
        "Delete an empty tenant",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/tenants/{id}/credit",
        "Credit balance and ledger",
        None,
        PAGE,
    ),
    op(
        "post",
        "/api/v1/tenants/{id}/credit",
        "Top up credit",
        Some("TopUp"),
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let i = types::id();
    let limits = types::limits();
    json!({
        "NewTenant": types::object(json!({"name": s, "kind": {"type": "string", "enum": ["reseller", "customer"]},
            "parent": i, "plan": i, "billing": {"type": "object"},
            "support": {"type": "string", "enum": ["basic", "standard", "premium"]},
            "limits": limits}), &["name", "kind"]),
        "TenantChanges": types::object(json!({"name": s, "plan": {"type": ["integer", "null"]},
            "billing": {"type": ["object", "null"]},
            "support": {"type": "string", "enum": ["basic", "standard", "premium"]},
            "limits": limits}), &[]),
        "TopUp": types::object(json!({"amount": {"type": "integer", "minimum": 1}, "note": s}), &["amount"]),
    })
}

/// `201 Created` with `Location`.
pub(crate) fn created(location: String, v: &impl serde::Serialize) -> ApiResult<Response> {
    let mut resp = etag::respond(&HeaderMap::new(), StatusCode::CREATED, v)?;
    if let Ok(l) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(resp)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    kind: TenantKind,
    parent: Option<TenantId>,
    plan: Option<PlanId>,
    billing: Option<Billing>,
    support: Option<SupportLevel>,
    limits: Option<LimitsPatch>,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    if c.kind == TenantKind::Provider {
        return Err(Problem::invalid("kind", "there is only one provider"));
    }
    let new = NewTenant {
        name: c.name,
        kind: c.kind,
        parent: c.parent.unwrap_or_else(|| actor.principal.tenant()),
        plan: c.plan,
        billing: c.billing,
        support: c.support.unwrap_or_default(),
        limits: c.limits.unwrap_or_default().apply(Limits::default()),
    };
    let made = st.core.create_tenant(&actor, new).await?;
    let location = format!("/api/v1/tenants/{}", made.tenant.id);
    let mut v = etag::to_value(&made.tenant)?;
    if let (Some(a), serde_json::Value::Object(m)) = (&made.activation, &mut v) {
        m.insert("activation".into(), etag::to_value(a)?);
    }
    created(location, &v)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    parent: Option<TenantId>,
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let parent = q.parent.unwrap_or_else(|| actor.principal.tenant());
    let items = st.core.list_tenants(&actor, parent).await?;
    Ok(axum::Json(paging::page(items, |t| paging::num(t.id.0), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let t = st.core.get_tenant(&actor, TenantId(id)).await?;
    etag::respond(&headers, StatusCode::OK, &t)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    plan: Option<Option<PlanId>>,
    #[serde(default, deserialize_with = "nullable")]
    billing: Option<Option<Billing>>,
    support: Option<SupportLevel>,
    limits: Option<LimitsPatch>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    let id = TenantId(id);
    let current = st.core.get_tenant(&actor, id).await?;
    etag::check_if_match(&headers, &current)?;
    if let Some(patch) = c.limits {
        let limits = patch.apply(current.limits.clone());
        st.core
            .set_limits(&actor, LimitsOf::Tenant(id), limits)
            .await?;
    }
    let changes = TenantChanges {
        name: c.name,
        plan: c.plan,
        billing: c.billing,
        support: c.support,
    };
    let any = changes.name.is_some()
        || changes.plan.is_some()
        || changes.billing.is_some()
        || changes.support.is_some();
    let t = if any {
        st.core.update_tenant(&actor, id, changes).await?
    } else {
        st.core.get_tenant(&actor, id).await?
    };
    etag::respond(&HeaderMap::new(), StatusCode::OK, &t)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.core.delete_tenant(&actor, TenantId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn credit(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let id = TenantId(id);
    let balance = st.core.credit(&actor, id).await?;
    let ledger = st.core.ledger(&actor, id).await?;
    let page = paging::page(ledger, |e| paging::num(e.id), &q)?;
    Ok(axum::Json(json!({
        "tenant": id,
        "balance": balance,
        "items": page["items"],
        "next": page["next"],
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopUp {
    amount: u64,
    #[serde(default)]
    note: String,
}

async fn top_up(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    Json(t): Json<TopUp>,
) -> ApiResult<Response> {
    let id = TenantId(id);
    let balance = st.core.top_up(&actor, id, t.amount, &t.note).await?;
    Ok(axum::Json(json!({ "tenant": id, "balance": balance })).into_response())
}

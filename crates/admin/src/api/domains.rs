//! `/domains`: a tenant's domains, addressed by name.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{Limits, LimitsOf, NewDomain, TenantId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::limits::LimitsPatch;
use super::tenants::created;
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::ApiResult;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/domains", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/domains/{name}",
            &["get", "patch", "delete"],
            get(show).patch(update).delete(remove),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/domains",
        "List a tenant's domains",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/domains",
        "Create a domain",
        Some("NewDomain"),
        &[],
    ),
    op("get", "/api/v1/domains/{name}", "Read a domain", None, &[]),
    op(
        "patch",
        "/api/v1/domains/{name}",
        "Enable/disable, limits",
        Some("DomainChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/domains/{name}",
        "Delete an empty domain",
        None,
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let i = types::id();
    let b = types::boolean();
    let limits = types::limits();
    json!({
        "NewDomain": types::object(json!({"name": s, "tenant": i, "limits": limits}), &["name"]),
        "DomainChanges": types::object(json!({"enabled": b, "limits": limits}), &[]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    tenant: Option<TenantId>,
    limits: Option<LimitsPatch>,
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(c): Json<Create>,
) -> ApiResult<Response> {
    let new = NewDomain {
        name: c.name,
        tenant: c.tenant.unwrap_or_else(|| actor.principal.tenant()),
        limits: c.limits.unwrap_or_default().apply(Limits::default()),
    };
    let d = st.core.create_domain(&actor, new).await?;
    created(format!("/api/v1/domains/{}", d.name), &d)
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
    let items = st.core.list_domains(&actor, tenant).await?;
    Ok(axum::Json(paging::page(items, |d| d.name.clone(), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let d = st.core.get_domain(&actor, &name).await?;
    etag::respond(&headers, StatusCode::OK, &d)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    enabled: Option<bool>,
    limits: Option<LimitsPatch>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(c): Json<Changes>,
) -> ApiResult<Response> {
    let current = st.core.get_domain(&actor, &name).await?;
    etag::check_if_match(&headers, &current)?;
    if let Some(patch) = c.limits {
        let limits = patch.apply(current.limits.clone());
        st.core
            .set_limits(&actor, LimitsOf::Domain(name.clone()), limits)
            .await?;
    }
    if let Some(e) = c.enabled {
        st.core.set_domain_enabled(&actor, &name, e).await?;
    }
    let d = st.core.get_domain(&actor, &name).await?;
    etag::respond(&HeaderMap::new(), StatusCode::OK, &d)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.core.delete_domain(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

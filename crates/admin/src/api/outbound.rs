//! Dedicated outbound identities: the source IP and EHLO name mail of a tenant
//! (`/tenants/{id}/outbound`) or a domain (`/domains/{name}/outbound`) leaves with. Setting one
//! needs the permission on the object (the core decides) and a plan with a dedicated IP.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{Actor, CoreError, TenantId};
use marque_hosting::outbound::{IdentityOf, OutboundIdentity};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Json, Path};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route(
            "/api/v1/tenants/{id}/outbound",
            &["get", "put", "delete"],
            get(show_tenant).put(set_tenant).delete(clear_tenant),
        ),
        route(
            "/api/v1/domains/{name}/outbound",
            &["get", "put", "delete"],
            get(show_domain).put(set_domain).delete(clear_domain),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/tenants/{id}/outbound",
        "A tenant's outbound source IP and EHLO name, own and effective",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/tenants/{id}/outbound",
        "Set a tenant's outbound source IP and EHLO name (dedicated IP plan)",
        Some("OutboundIdentity"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tenants/{id}/outbound",
        "Remove a tenant's outbound identity",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/domains/{name}/outbound",
        "A domain's outbound source IP and EHLO name, own and effective",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/domains/{name}/outbound",
        "Set a domain's outbound source IP and EHLO name (dedicated IP plan)",
        Some("OutboundIdentity"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/domains/{name}/outbound",
        "Remove a domain's outbound identity",
        None,
        &[],
    ),
];

/// The schemas of this file.
pub fn schemas() -> Value {
    json!({
        "OutboundIdentity": {"type": "object", "additionalProperties": false,
            "properties": {
                "source_ip": {"type": ["string", "null"]},
                "ehlo": {"type": ["string", "null"]}}},
    })
}

/// An identity as the API takes it; the address is parsed here for a clear error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    source_ip: Option<String>,
    #[serde(default)]
    ehlo: Option<String>,
}

/// The tenant whose plan applies, found through a read the actor is allowed (so that a
/// foreign object answers `404` before anything about its plan is said).
async fn owner(st: &AppState, actor: &Actor, of: &IdentityOf) -> ApiResult<TenantId> {
    Ok(match of {
        IdentityOf::Tenant(t) => st.core.get_tenant(actor, *t).await?.id,
        IdentityOf::Domain(name) => st.core.get_domain(actor, name).await?.tenant,
    })
}

async fn show(st: &AppState, actor: &Actor, of: IdentityOf) -> ApiResult<Response> {
    let own = st.hosting.get_outbound_identity(actor, of.clone()).await?;
    let tenant = owner(st, actor, &of).await?;
    let domain = match &of {
        IdentityOf::Domain(d) => Some(d.to_ascii_lowercase()),
        IdentityOf::Tenant(_) => None,
    };
    let effective = marque_hosting::outbound::outbound_identity(&st.core, tenant, domain).await?;
    Ok(axum::Json(json!({"own": own, "effective": effective})).into_response())
}

async fn set(st: &AppState, actor: &Actor, of: IdentityOf, input: Input) -> ApiResult<Response> {
    let source_ip = match input.source_ip.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<IpAddr>().map_err(|_| {
            Problem::invalid(
                "source_ip",
                format!("invalid source_ip: {raw:?} is not an IPv4 or IPv6 address"),
            )
        })?),
    };
    let ehlo = input.ehlo.filter(|e| !e.trim().is_empty());
    let identity = OutboundIdentity { source_ip, ehlo };
    if identity == OutboundIdentity::default() {
        return Err(Problem::invalid(
            "source_ip",
            "give a source_ip, an ehlo name or both (DELETE removes the identity)",
        ));
    }
    let tenant = owner(st, actor, &of).await?;
    if !st.core.plan_features(tenant).await?.dedicated_ip {
        return Err(CoreError::NotInPlan {
            feature: "a dedicated IP (features.dedicated_ip)",
            tenant: tenant.to_string(),
        }
        .into());
    }
    st.hosting
        .set_outbound_identity(actor, of.clone(), identity)
        .await?;
    show(st, actor, of).await
}

async fn clear(st: &AppState, actor: &Actor, of: IdentityOf) -> ApiResult<StatusCode> {
    if st
        .hosting
        .get_outbound_identity(actor, of.clone())
        .await?
        .is_none()
    {
        return Err(CoreError::not_found("outbound identity", "of this object").into());
    }
    st.hosting
        .set_outbound_identity(actor, of, OutboundIdentity::default())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn show_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    show(&st, &actor, IdentityOf::Tenant(TenantId(id))).await
}

async fn set_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    Json(input): Json<Input>,
) -> ApiResult<Response> {
    set(&st, &actor, IdentityOf::Tenant(TenantId(id)), input).await
}

async fn clear_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    clear(&st, &actor, IdentityOf::Tenant(TenantId(id))).await
}

async fn show_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    show(&st, &actor, IdentityOf::Domain(name)).await
}

async fn set_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    Json(input): Json<Input>,
) -> ApiResult<Response> {
    set(&st, &actor, IdentityOf::Domain(name), input).await
}

async fn clear_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    clear(&st, &actor, IdentityOf::Domain(name)).await
}

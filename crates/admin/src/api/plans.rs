//! `/plans`: tariffs a tenant offers its subtree.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{Features, NewPlan, PlanId, TenantId, Tier, limits};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::tenants::created;
use super::{Route, route};
use crate::etag;
use crate::extract::{Caller, Json, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::ApiResult;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/plans", &["get", "post"], get(list).post(create)),
        route(
            "/api/v1/plans/{id}",
            &["get", "put", "delete"],
            get(show).put(update).delete(remove),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/plans",
        "List the plans a tenant offers",
        None,
        &["owner", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/plans",
        "Create a plan",
        Some("PlanTerms"),
        &[],
    ),
    op("get", "/api/v1/plans/{id}", "Read a plan", None, &[]),
    op(
        "put",
        "/api/v1/plans/{id}",
        "Replace a plan's terms",
        Some("PlanTerms"),
        &[],
    ),
    op("delete", "/api/v1/plans/{id}", "Delete a plan", None, &[]),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    let i = types::id();
    let tier = types::tier();
    let mb1 = types::mib();
    json!({
        "PlanTerms": types::object(json!({"owner": i, "name": s, "tier": tier, "default_mailbox_mb": mb1,
            "max_mailbox_mb": mb1, "features": {"type": "object"},
            "price_credits": {"type": "integer", "minimum": 0, "maximum": limits::MAX_CREDITS}}),
            &["name", "tier", "default_mailbox_mb", "max_mailbox_mb"]),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Terms {
    owner: Option<TenantId>,
    name: String,
    tier: Tier,
    default_mailbox_mb: u64,
    max_mailbox_mb: u64,
    #[serde(default)]
    features: Features,
    #[serde(default)]
    price_credits: u64,
}

impl Terms {
    /// The terms as the core takes them, once every number is in its range (a `422` naming
    /// the field otherwise; the core checks again, and checks them against the owner's plan).
    fn into_plan(self, default_owner: TenantId) -> ApiResult<NewPlan> {
        limits::check_mb("default_mailbox_mb", self.default_mailbox_mb)?;
        limits::check_mb("max_mailbox_mb", self.max_mailbox_mb)?;
        limits::check_credits("price_credits", self.price_credits)?;
        Ok(NewPlan {
            owner: self.owner.unwrap_or(default_owner),
            name: self.name,
            tier: self.tier,
            default_mailbox_mb: self.default_mailbox_mb,
            max_mailbox_mb: self.max_mailbox_mb,
            features: self.features,
            price_credits: self.price_credits,
        })
    }
}

async fn create(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(t): Json<Terms>,
) -> ApiResult<Response> {
    let new = t.into_plan(actor.principal.tenant())?;
    let p = st.core.create_plan(&actor, new).await?;
    created(format!("/api/v1/plans/{}", p.id), &p)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    owner: Option<TenantId>,
}

async fn list(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let owner = q.owner.unwrap_or_else(|| actor.principal.tenant());
    let items = st.core.list_plans(&actor, owner).await?;
    Ok(axum::Json(paging::page(items, |p| paging::num(p.id.0), &page)?).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    let p = st.core.get_plan(&actor, PlanId(id)).await?;
    etag::respond(&headers, StatusCode::OK, &p)
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Json(t): Json<Terms>,
) -> ApiResult<Response> {
    let current = st.core.get_plan(&actor, PlanId(id)).await?;
    etag::check_if_match(&headers, &current)?;
    let terms = t.into_plan(current.owner)?;
    let p = st.core.update_plan(&actor, PlanId(id), terms).await?;
    etag::respond(&HeaderMap::new(), StatusCode::OK, &p)
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.core.delete_plan(&actor, PlanId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

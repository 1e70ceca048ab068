//! `/me`: who the caller is, and its own password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{PrincipalId, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op, types};
use super::{Route, route};
use crate::extract::{Caller, Json};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![route(
        "/api/v1/me",
        &["get", "patch"],
        get(show).patch(update),
    )]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op("get", "/api/v1/me", "The signed-in principal", None, &[]),
    op(
        "patch",
        "/api/v1/me",
        "Change one's own password",
        Some("MeChanges"),
        &[],
    ),
];

/// The request bodies of this file, in `components/schemas`.
pub fn schemas() -> Value {
    let s = types::string();
    json!({
        "MeChanges": types::object(json!({"password": s}), &[]),
    })
}

/// The caller's role as a JSON value.
pub(crate) fn role_json(role: &Role) -> serde_json::Value {
    match role {
        Role::Admin => json!({"kind": "admin"}),
        Role::Helpdesk { domains } => json!({"kind": "helpdesk", "domains": domains}),
        Role::ResellerManager { plans, policy } => {
            json!({"kind": "reseller_manager", "plans": plans, "policy": policy})
        }
        Role::Postmaster { domain, account } => {
            json!({"kind": "postmaster", "domain": domain, "account": account})
        }
        Role::User { domain, account } => {
            json!({"kind": "user", "domain": domain, "account": account})
        }
    }
}

async fn show(Caller(actor): Caller) -> impl IntoResponse {
    let p = &actor.principal;
    axum::Json(json!({
        "name": p.name,
        "tenant": p.tenant(),
        "path": p.path,
        "role": role_json(&p.role),
        "read_only": actor.scope.read_only,
        "subtree": actor.scope.subtree,
        "source": actor.source,
    }))
}

/// What the caller may change about itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeChanges {
    password: Option<String>,
}

async fn update(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Json(ch): Json<MeChanges>,
) -> ApiResult<Response> {
    if let Some(pw) = ch.password {
        match actor.principal.id {
            PrincipalId::Mailbox(_) => {
                st.core
                    .set_password(&actor, &actor.principal.name, &pw)
                    .await?
            }
            PrincipalId::Staff(id) => st.core.set_staff_password(&actor, id, pw).await?,
            PrincipalId::Operator => {
                return Err(Problem::invalid("password", "the operator has no password"));
            }
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

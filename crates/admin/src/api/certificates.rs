//! `/certificates`: the TLS certificate of each served hostname. The provider's staff manage
//! any name; a tenant's administrators the names it owns, when its plan includes TLS (the
//! core decides, through [`marque_core::policy::authorize`]). A certificate is uploaded
//! (`PUT`, checked: it parses, the key matches, it covers the name, it has not expired) or
//! ordered from the ACME server (`POST .../order`); the private key is never answered.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Json, Path};
use crate::problem::ApiResult;
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/certificates", &["get"], get(list)),
        route(
            "/api/v1/certificates/{hostname}",
            &["get", "put", "delete"],
            get(show).put(upload).delete(remove),
        ),
        route(
            "/api/v1/certificates/{hostname}/order",
            &["post"],
            post(order),
        ),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/certificates",
        "List the certificates of the hostnames the caller may see",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/certificates/{hostname}",
        "Read a hostname's certificate: source, names, expiry, last ACME error",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/certificates/{hostname}",
        "Upload a certificate chain and key for a hostname",
        Some("CertificateUpload"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/certificates/{hostname}",
        "Delete a hostname's certificate (the default one is served again)",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/certificates/{hostname}/order",
        "Order a certificate for a hostname from the ACME server now",
        None,
        &[],
    ),
];

/// The request bodies of this file.
pub fn schemas() -> Value {
    let s = json!({"type": "string", "minLength": 1});
    json!({
        "CertificateUpload": {"type": "object", "additionalProperties": false,
            "required": ["chain_pem", "key_pem"],
            "properties": {"chain_pem": s, "key_pem": s}},
    })
}

/// `PUT /certificates/{hostname}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    /// The chain, leaf first, as PEM.
    chain_pem: String,
    /// The private key (PKCS#8, PKCS#1 or SEC1), as PEM.
    key_pem: String,
}

async fn list(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let items = st.hosting.certificates(&actor).await?;
    Ok(axum::Json(json!({ "items": items })).into_response())
}

async fn show(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(hostname): Path<String>,
) -> ApiResult<Response> {
    let item = st.hosting.certificate(&actor, &hostname).await?;
    Ok(axum::Json(item).into_response())
}

async fn upload(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(hostname): Path<String>,
    Json(body): Json<Upload>,
) -> ApiResult<Response> {
    let item = st
        .hosting
        .upload_certificate(&actor, &hostname, &body.chain_pem, &body.key_pem)
        .await?;
    Ok(axum::Json(item).into_response())
}

async fn order(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(hostname): Path<String>,
) -> ApiResult<Response> {
    let item = st.hosting.request_certificate(&actor, &hostname).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(item)).into_response())
}

async fn remove(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(hostname): Path<String>,
) -> ApiResult<StatusCode> {
    st.hosting.delete_certificate(&actor, &hostname).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! ACME HTTP-01 answers (RFC 8555 §8.3): `GET /.well-known/acme-challenge/{token}` on the HTTP
//! listener answers the key authorization the ACME client published in the store while its
//! order is pending, and 404 otherwise. No authentication: the ACME server's validator asks.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use crate::state::AppState;

/// The route, outside `/api/v1` and the OpenAPI document.
pub const PATH: &str = "/.well-known/acme-challenge/{token}";

/// Answers one challenge.
pub async fn answer(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    // RFC 8555 §8.1: a token is base64url; anything else is not ours.
    let valid = !token.is_empty()
        && token.len() <= 256
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Problem::no_route().into_response();
    }
    match st.hosting.http01_answer(&token).await {
        Ok(Some(key_authorization)) => {
            let mut resp = (StatusCode::OK, key_authorization).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            resp
        }
        Ok(None) => Problem::no_route().into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "reading an ACME challenge answer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

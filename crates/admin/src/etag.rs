//! Entity tags for single objects (RFC 9110 §8.8.3): a strong tag from a hash of the JSON
//! representation, checked against `If-Match` before a change (RFC 9110 §13.1.1) and against
//! `If-None-Match` on reads (§13.1.2).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::problem::{ApiResult, Problem};

/// The entity tag of a representation.
pub fn of(v: &Value) -> String {
    let h = Sha256::digest(v.to_string().as_bytes());
    format!("\"{}\"", hex::encode(&h[..16]))
}

/// `412` unless `If-Match` is absent, `*`, or lists the current tag.
pub fn check_if_match(headers: &HeaderMap, current: &impl Serialize) -> ApiResult<()> {
    let Some(want) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let want = want.to_str().unwrap_or("");
    let tag = of(&to_value(current)?);
    let ok = want.trim() == "*" || want.split(',').any(|t| t.trim() == tag);
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "the object changed since it was read (If-Match)",
        ))
    }
}

/// The JSON value of `v`.
pub fn to_value(v: &impl Serialize) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!(error = %e, "serialisation failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request",
        )
    })
}

/// `200` with the object and its `ETag`, or `304` when `If-None-Match` names it.
pub fn respond(headers: &HeaderMap, status: StatusCode, v: &impl Serialize) -> ApiResult<Response> {
    let value = to_value(v)?;
    let tag = of(&value);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if matches && status == StatusCode::OK {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (status, axum::Json(value)).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
}

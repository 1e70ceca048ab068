//! `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first response
//! to a key is remembered, per bearer token, and replayed for a retry with the same body; the
//! same key with another body is `422`; a retry while the first request is still being
//! processed is `409`.
//!
//! Responses are kept in the store for [`crate::state::Settings::idempotency_ttl`], so every
//! process serving the API on the same data answers a key the same way: a key sent to two
//! processes at once runs once. A request claims its key before it runs; if the process dies
//! before the response is stored, the claim lapses after [`CLAIM_FOR_MS`] and a retry runs.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use marque_store::tags::meta;
use marque_store::{Key, Keyspace, Store, now_ms};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::state::AppState;

/// How long a request's claim on its key holds without an answer (longer than any request
/// takes: the bulk endpoint's largest upload included).
pub const CLAIM_FOR_MS: u64 = 10 * 60 * 1000;

/// Largest response body remembered; a larger one is answered but not kept.
const MAX_KEPT: usize = 16 * 1024 * 1024;

/// A key's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Entry {
    /// A request holds the key and is running.
    Claimed { request: [u8; 32], at_ms: u64 },
    /// The response to the key's first request.
    Answered(Stored),
}

/// A remembered response.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    request: [u8; 32],
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: Vec<u8>,
    at_ms: u64,
}

/// What the key says before the request runs.
enum Claim {
    /// The key is this request's now: run it.
    Run,
    /// The key's answer, to replay.
    Replay(Stored),
    /// The key was used with another request.
    Mismatch,
    /// The key's first request is still running.
    Busy,
}

fn slot(auth: &[u8], key: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(auth);
    h.update([0]);
    h.update(key.as_bytes());
    Key::new()
        .tag(meta::IDEMPOTENCY)
        .bytes(&h.finalize())
        .into_bytes()
}

async fn claim(
    store: &Store,
    slot: Vec<u8>,
    request: [u8; 32],
    ttl_ms: u64,
) -> marque_store::Result<Claim> {
    let now = now_ms();
    store
        .transact(move |txn| {
            let entry: Option<Entry> = match txn.get(Keyspace::Meta, &slot)? {
                Some(v) => marque_store::decode(Keyspace::Meta, &v).ok(),
                None => None,
            };
            let live = match &entry {
                Some(Entry::Claimed { at_ms, .. }) => now.saturating_sub(*at_ms) < CLAIM_FOR_MS,
                Some(Entry::Answered(s)) => now.saturating_sub(s.at_ms) < ttl_ms,
                None => false,
            };
            match entry {
                Some(Entry::Claimed { request: r, .. }) if live => Ok(if r == request {
                    Claim::Busy
                } else {
                    Claim::Mismatch
                }),
                Some(Entry::Answered(s)) if live => Ok(if s.request == request {
                    Claim::Replay(s)
                } else {
                    Claim::Mismatch
                }),
                _ => {
                    txn.put_value(
                        Keyspace::Meta,
                        slot,
                        &Entry::Claimed {
                            request,
                            at_ms: now,
                        },
                    )?;
                    Ok(Claim::Run)
                }
            }
        })
        .await
}

/// Stores the answer under the key (or frees the key when `answer` is `None`).
async fn settle(store: &Store, slot: Vec<u8>, answer: Option<Stored>) -> marque_store::Result<()> {
    store
        .transact(move |txn| {
            match answer {
                Some(s) => txn.put_value(Keyspace::Meta, slot, &Entry::Answered(s))?,
                None => txn.delete(Keyspace::Meta, slot),
            }
            Ok(())
        })
        .await
}

/// Removes the answers older than `ttl_ms` and the lapsed claims; returns how many.
pub async fn purge(store: &Store, ttl_ms: u64) -> marque_store::Result<usize> {
    let now = now_ms();
    crate::housekeeping::remove_expired(store, meta::IDEMPOTENCY, move |v| {
        match marque_store::decode::<Entry>(Keyspace::Meta, v) {
            Ok(Entry::Claimed { at_ms, .. }) => now.saturating_sub(at_ms) >= CLAIM_FOR_MS,
            Ok(Entry::Answered(s)) => now.saturating_sub(s.at_ms) >= ttl_ms,
            Err(_) => true,
        }
    })
    .await
}

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn replay(s: Stored) -> Response {
    let status = StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, s.body).into_response();
    let h = resp.headers_mut();
    if let Some(ct) = s.content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Some(l) = s.location.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::LOCATION, l);
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}

fn unavailable(e: marque_store::Error) -> Response {
    tracing::warn!(error = %e, "an Idempotency-Key could not be read or written");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the request could not be recorded; retry it",
    )
    .into_response()
}

/// The middleware.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| sha(v.as_bytes()));
    let (Some(key), Some(auth), true) = (key, auth, req.method() == Method::POST) else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 255 {
        return Problem::invalid("Idempotency-Key", "needs 1 to 255 characters").into_response();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, crate::state::MAX_UPLOAD.max(state.settings.max_json)).await
    else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "the body is too large",
        )
        .into_response();
    };
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(parts.uri.path().as_bytes());
        h.update([0]);
        h.update(&bytes);
        <[u8; 32]>::from(h.finalize())
    };
    let store = state.core.store().clone();
    let slot = slot(&auth, &key);
    let ttl_ms = state.settings.idempotency_ttl.as_millis() as u64;
    match claim(&store, slot.clone(), fingerprint, ttl_ms).await {
        Err(e) => return unavailable(e),
        Ok(Claim::Replay(s)) => return replay(s),
        Ok(Claim::Mismatch) => {
            return Problem::invalid("Idempotency-Key", "this key was used with another request")
                .into_response();
        }
        Ok(Claim::Busy) => {
            return Problem::new(
                StatusCode::CONFLICT,
                "in-progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .into_response();
        }
        Ok(Claim::Run) => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Only answers that changed something (2xx) or refused for good (4xx but 429) are kept;
    // for the others the key is freed, so that a retry runs.
    let status = resp.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        if let Err(e) = settle(&store, slot, None).await {
            tracing::warn!(error = %e, "an Idempotency-Key could not be freed");
        }
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let Ok(rbytes) = to_bytes(rbody, MAX_KEPT).await else {
        if let Err(e) = settle(&store, slot, None).await {
            tracing::warn!(error = %e, "an Idempotency-Key could not be freed");
        }
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the response could not be stored",
        )
        .into_response();
    };
    let text = |name| {
        rparts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let stored = Stored {
        request: fingerprint,
        status: status.as_u16(),
        content_type: text(header::CONTENT_TYPE),
        location: text(header::LOCATION),
        body: rbytes.to_vec(),
        at_ms: now_ms(),
    };
    if let Err(e) = settle(&store, slot, Some(stored)).await {
        // The change is made; only its replay is lost: a retry would be refused as busy until
        // the claim lapses, so say so in the log.
        tracing::warn!(error = %e, "an answer could not be remembered under its Idempotency-Key");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

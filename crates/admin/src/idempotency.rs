//! `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first response
//! to a key is remembered, per bearer token, and replayed for a retry with the same body; the
//! same key with another body is `422`. Responses are kept in memory (bounded in count, bytes
//! and age),
//! so a restart forgets them.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::state::AppState;

/// A remembered response.
#[derive(Debug, Clone)]
pub struct Stored {
    request: [u8; 32],
    status: StatusCode,
    content_type: Option<HeaderValue>,
    location: Option<HeaderValue>,
    body: Vec<u8>,
    at: Instant,
}

/// The cache: at most `max` entries, none older than `ttl`.
#[derive(Debug)]
pub struct Cache {
    max: usize,
    ttl: Duration,
    map: HashMap<String, Stored>,
    order: VecDeque<String>,
    /// Bytes of the bodies held.
    bytes: usize,
}

/// Most bytes of remembered bodies, all keys together.
const MAX_BYTES: usize = 64 * 1024 * 1024;

impl Cache {
    /// An empty cache.
    pub fn new(max: usize, ttl: Duration) -> Self {
        Cache {
            max,
            ttl,
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
        }
    }

    fn get(&mut self, key: &str) -> Option<Stored> {
        let s = self.map.get(key)?;
        if s.at.elapsed() > self.ttl {
            if let Some(gone) = self.map.remove(key) {
                self.bytes -= gone.body.len();
            }
            return None;
        }
        Some(s.clone())
    }

    fn put(&mut self, key: String, s: Stored) {
        while self.map.len() >= self.max.max(1) || self.bytes + s.body.len() > MAX_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.map.remove(&old) {
                self.bytes -= gone.body.len();
            }
        }
        self.bytes += s.body.len();
        self.order.push_back(key.clone());
        if let Some(prev) = self.map.insert(key, s) {
            self.bytes -= prev.body.len();
        }
    }
}

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn replay(s: &Stored) -> Response {
    let mut resp = (s.status, s.body.clone()).into_response();
    let h = resp.headers_mut();
    if let Some(ct) = &s.content_type {
        h.insert(header::CONTENT_TYPE, ct.clone());
    }
    if let Some(l) = &s.location {
        h.insert(header::LOCATION, l.clone());
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
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
    let slot = format!("{}:{key}", hex::encode(auth));
    if let Some(s) = state.idempotency.lock().get(&slot) {
        if s.request != fingerprint {
            return Problem::invalid("Idempotency-Key", "this key was used with another request")
                .into_response();
        }
        return replay(&s);
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Only answers that changed something (2xx) or refused for good (4xx but 429) are kept.
    let status = resp.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let Ok(rbytes) = to_bytes(rbody, 16 * 1024 * 1024).await else {
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the response could not be stored",
        )
        .into_response();
    };
    let stored = Stored {
        request: fingerprint,
        status,
        content_type: rparts.headers.get(header::CONTENT_TYPE).cloned(),
        location: rparts.headers.get(header::LOCATION).cloned(),
        body: rbytes.to_vec(),
        at: Instant::now(),
    };
    state.idempotency.lock().put(slot, stored);
    Response::from_parts(rparts, Body::from(rbytes))
}

//! Request extractors: the signed-in caller, JSON bodies and query strings, each failing with
//! a problem document.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use marque_core::authlog::Attempt;
use marque_core::{Actor, Via};
use serde::de::DeserializeOwned;

use crate::problem::Problem;
use crate::state::{AppState, ClientIp};

/// The signed-in caller (RFC 6750 §2.1 bearer token), with the client's IP as its source.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let client = parts.extensions.get::<ClientIp>().map(|c| c.0);
        let ip = client
            .map(|c| c.to_string())
            .unwrap_or_else(|| "unknown".into());
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                // RFC 9110 §11.1: the scheme is case-insensitive.
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|s| !s.is_empty());
        let Some(secret) = secret else {
            return Err(Problem::unauthorized("a bearer token is required"));
        };
        // The secret never reaches the log; only a short hash of it, to tell tries apart.
        let tag = hex::encode(&marque_core::token::hash(secret)[..4]);
        let token_login = format!("token:{tag}");
        let attempt = Attempt {
            protocol: "api",
            login: &token_login,
            remote: &ip,
            mechanism: "bearer",
        };
        // The sign-in throttle shared with every service: a wrong token counts against the
        // client's address and is answered after its delay; a refused address is refused.
        match state.core.sign_in_token(attempt, secret).await {
            Ok(actor) => {
                let key = match actor.via {
                    Via::Token(id) => format!("token:{id}"),
                    _ => format!("principal:{}", actor.principal.name),
                };
                if let Err(wait) = state.take(&key).await {
                    return Err(Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate-limited",
                        "too many requests for this token",
                    )
                    .with("retry_after", wait)
                    .header(header::RETRY_AFTER, wait.to_string()));
                }
                record_use(state, &actor, &key, client, &ip).await;
                Ok(Caller(actor.with_source(ip)))
            }
            Err(marque_core::CoreError::AuthFailed) => {
                // Guessing is rate-limited per client address, like use is per token.
                if let Err(wait) = state.take(&format!("ip:{ip}")).await {
                    return Err(Problem::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate-limited",
                        "too many failed sign-ins from this address",
                    )
                    .with("retry_after", wait)
                    .header(header::RETRY_AFTER, wait.to_string()));
                }
                let recorded = state
                    .core
                    .record_auth(attempt, &[], "failure", "unknown, expired or revoked token")
                    .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "could not record a failed API sign-in");
                }
                Err(Problem::unauthorized("invalid, expired or revoked token"))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Writes a token's successful use to the authentication log of its principal's tenants, once
/// per token and client address per [`crate::state::Settings::token_use_every`], so that
/// a busy integration does not flood the log.
async fn record_use(
    state: &AppState,
    actor: &Actor,
    key: &str,
    client: Option<std::net::IpAddr>,
    ip: &str,
) {
    let addr = client.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if !state.token_use_due(key, addr).await {
        return;
    }
    let attempt = Attempt {
        protocol: "api",
        login: &actor.principal.name,
        remote: ip,
        mechanism: "bearer",
    };
    let reason = match actor.via {
        Via::Token(id) => format!("token {id}"),
        _ => String::new(),
    };
    let recorded = state
        .core
        .record_auth(attempt, &actor.principal.path, "success", &reason)
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record an API token's use");
    }
}

/// A JSON body whose rejections are problem documents: `400` when it is not JSON, `422` when
/// it does not fit the schema (unknown fields included), `413` when it is too large.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> Problem {
    let detail = rej.body_text();
    match rej {
        JsonRejection::JsonDataError(_) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
        }
        JsonRejection::JsonSyntaxError(_) => Problem::bad_request(detail),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "the body is too large",
        ),
        other => Problem::new(other.status(), "bad-request", detail),
    }
}

/// A query string whose rejections are `400` problem documents.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rej) => Err(query_rejection(rej)),
        }
    }
}

fn query_rejection(rej: QueryRejection) -> Problem {
    Problem::bad_request(rej.body_text())
}

/// A path parameter whose rejection is a `400` problem document.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rej) => Err(Problem::bad_request(rej.body_text())),
        }
    }
}

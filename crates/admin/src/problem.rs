//! RFC 9457 problem details: every error the API answers with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marque_core::CoreError;
use serde_json::{Map, Value, json};

/// The media type of a problem document (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: status, title, detail and extension members.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    /// A short, stable identifier appended to `urn:marque:problem:` as the `type` member.
    pub kind: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`...).
    pub headers: Vec<(header::HeaderName, String)>,
}

impl Problem {
    /// A problem with no extension members.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            status,
            kind,
            detail: detail.into(),
            extra: Map::new(),
            headers: Vec::new(),
        }
    }

    /// Adds an extension member (RFC 9457 §3.2).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `400`: a body or a parameter that cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// `422` naming the field.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail).with("field", field)
    }

    /// `401` with the challenge of RFC 6750 §3.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            .header(header::WWW_AUTHENTICATE, "Bearer realm=\"marque\"")
    }

    /// `404` for a path that names no route.
    pub fn no_route() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }

    /// The JSON document.
    pub fn body(&self) -> Value {
        let mut doc = json!({
            "type": format!("urn:marque:problem:{}", self.kind),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Value::Object(m) = &mut doc {
            for (k, v) in &self.extra {
                m.insert(k.clone(), v.clone());
            }
        }
        doc
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut resp = (self.status, body).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        resp
    }
}

impl From<CoreError> for Problem {
    fn from(e: CoreError) -> Self {
        use CoreError::*;
        match e {
            NotFound { what, key } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{what} not found: {key}"),
            ),
            Forbidden { what, key, .. } => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("not permitted on {what} {key}"),
            ),
            NotInPlan { feature, tenant } => Problem::new(
                StatusCode::FORBIDDEN,
                "not-in-plan",
                format!("the plan of tenant {tenant} does not include {feature}"),
            ),
            AlreadyExists { what, key } => Problem::new(
                StatusCode::CONFLICT,
                "already-exists",
                format!("{what} already exists: {key}"),
            ),
            HostnameNotOwned { host, reason } => Problem::new(
                StatusCode::CONFLICT,
                "hostname-not-owned",
                format!("host name {host} cannot be used: {reason}"),
            )
            .with("hostname", host),
            Invalid { field, reason } => {
                Problem::invalid(field, format!("invalid {field}: {reason}"))
            }
            LimitExceeded {
                limit,
                used,
                requested,
                max,
            } => Problem::new(
                StatusCode::CONFLICT,
                "limit-exceeded",
                format!("limit exceeded: {limit}"),
            )
            .with("limit", limit)
            .with("used", used)
            .with("requested", requested)
            .with("max", max),
            NotEmpty { what, key, reason } => Problem::new(
                StatusCode::CONFLICT,
                "not-empty",
                format!("{what} {key} is not empty: {reason}"),
            ),
            State { what, key, reason } => Problem::new(
                StatusCode::CONFLICT,
                "state",
                format!("{what} {key}: {reason}"),
            ),
            AuthFailed => Problem::unauthorized("authentication failed"),
            SignInRefused { retry_after_secs } => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many failed sign-ins from this address",
            )
            .with("retry_after", retry_after_secs)
            .header(header::RETRY_AFTER, retry_after_secs.to_string()),
            other => {
                // Internals stay in the server's log, never in the answer.
                tracing::error!(error = %other, "request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server could not complete the request",
                )
            }
        }
    }
}

/// Result of a route.
pub type ApiResult<T> = Result<T, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_status() {
        let cases: Vec<(CoreError, u16)> = vec![
            (CoreError::not_found("domain", "x"), 404),
            (
                CoreError::Forbidden {
                    action: marque_core::Action::LimitsSet,
                    what: "tenant",
                    key: "2".into(),
                },
                403,
            ),
            (
                CoreError::AlreadyExists {
                    what: "domain",
                    key: "x".into(),
                },
                409,
            ),
            (CoreError::invalid("name", "empty"), 422),
            (
                CoreError::HostnameNotOwned {
                    host: "mail.platform.test".into(),
                    reason: "it is the platform's own host name".into(),
                },
                409,
            ),
            (
                CoreError::LimitExceeded {
                    limit: "mailboxes".into(),
                    used: 1,
                    requested: 1,
                    max: 1,
                },
                409,
            ),
            (CoreError::AuthFailed, 401),
            (CoreError::Task("secret detail".into()), 500),
        ];
        for (e, status) in cases {
            let p = Problem::from(e);
            assert_eq!(p.status.as_u16(), status);
            let b = p.body();
            assert_eq!(b["status"], status);
            assert!(
                b["type"]
                    .as_str()
                    .unwrap()
                    .starts_with("urn:marque:problem:")
            );
            assert!(!b.to_string().contains("secret detail"));
        }
    }
}

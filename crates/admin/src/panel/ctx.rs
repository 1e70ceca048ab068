//! What every panel handler starts from: [`Ctx`], the signed-in session with the state and the
//! request's host, and [`Posted`], a form post whose CSRF token and `Origin` were checked.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use marque_core::{Actor, CoreError};
use marque_store::now_ms;

use super::Tls;
use super::layout;
use super::session::{Session, Sessions, cookie_value};
use crate::problem::Problem;
use crate::state::{AppState, ClientIp};

/// The request's host name (without port), lowercased, from `Host`.
pub fn host_of(headers: &HeaderMap) -> String {
    let h = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if h.starts_with('[') {
        h.split(']').next().map(|s| &s[1..]).unwrap_or("")
    } else {
        h.rsplit_once(':').map(|(n, _)| n).unwrap_or(h)
    };
    name.to_ascii_lowercase()
}

/// The client's address as text, for the logs.
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientIp>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A signed-in page request.
#[derive(Clone)]
pub struct Ctx {
    pub st: AppState,
    pub sessions: Sessions,
    pub session: Session,
    pub host: String,
    /// The client's address for this request.
    pub ip: String,
    pub tls: bool,
    /// The message left by the previous form, if any.
    pub flash: Option<(bool, String)>,
    /// The brand of the host the panel was reached on.
    pub brand: layout::Brand,
}

impl Ctx {
    /// The signed-in actor.
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }

    /// A full page.
    pub fn page(&self, title: &str, body: maud::Markup) -> Response {
        layout::page(self, title, body).into_response()
    }

    /// A core error as a page with the API's status and a readable message.
    pub fn error(&self, e: CoreError) -> Response {
        let p = Problem::from(e);
        let status = p.status;
        let title = if status == StatusCode::NOT_FOUND {
            "Not found"
        } else {
            "Cannot do that"
        };
        let mut resp = self.page(title, layout::message(true, &p.detail));
        *resp.status_mut() = status;
        resp
    }

    /// After a form: a message for the next page, then a redirect (303) to `to`.
    pub async fn done(&self, to: &str, outcome: Result<String, CoreError>) -> Response {
        let (error, text) = match outcome {
            Ok(text) => (false, text),
            Err(e) => (true, Problem::from(e).detail),
        };
        let left = self
            .sessions
            .set_flash(&self.session.id, error, text, now_ms())
            .await;
        if let Err(e) = left {
            // The change is made; only the message about it is lost.
            tracing::warn!(error = %e, "could not leave a message for the next panel page");
        }
        Redirect::to(to).into_response()
    }
}

/// Where a request without a live session goes.
fn to_login() -> Response {
    Redirect::to("/admin/login").into_response()
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let sessions = parts
            .extensions
            .get::<Sessions>()
            .cloned()
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
        let id = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(cookie_value)
            .map(str::to_string)
            .ok_or_else(to_login)?;
        let mut session = match sessions.touch(&id, now_ms()).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(to_login()),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a panel session");
                return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        };
        let flash = session.flash.take();
        let brand = super::brand::for_host(st, &parts.headers).await;
        Ok(Ctx {
            st: st.clone(),
            host: host_of(&parts.headers),
            ip: client_ip(parts),
            tls: parts.extensions.get::<Tls>().is_some_and(|t| t.0),
            sessions,
            session,
            flash,
            brand,
        })
    }
}

/// `Origin` (RFC 6454 §7), when the browser sends one, must name this host; a form posted
/// from another site is refused even before its CSRF token is looked at.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    rest.eq_ignore_ascii_case(host)
}

/// Constant-time comparison of two tokens.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Largest form accepted (a Sieve script is the biggest thing posted).
pub const MAX_FORM: usize = 256 * 1024;

/// A form post from a signed-in session with a valid CSRF token (field `csrf`) and origin.
pub struct Posted {
    pub ctx: Ctx,
    pub fields: HashMap<String, String>,
}

impl Posted {
    /// A field's value, trimmed; empty if absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|s| s.trim()).unwrap_or("")
    }

    /// A field's value as given (passwords, scripts).
    pub fn raw(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// The answer to a refused post.
pub fn forbidden(brand: &layout::Brand, text: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        layout::bare_branded("Refused", brand, layout::message(true, text)),
    )
        .into_response()
}

/// Reads an `application/x-www-form-urlencoded` body of at most [`MAX_FORM`] bytes.
pub async fn read_form(
    req: Request,
    brand: &layout::Brand,
) -> Result<HashMap<String, String>, Response> {
    let body = axum::body::to_bytes(req.into_body(), MAX_FORM)
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                layout::bare_branded(
                    "Too large",
                    brand,
                    layout::message(true, "The form is too large."),
                ),
            )
                .into_response()
        })?;
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
    Ok(pairs.into_iter().collect())
}

fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, st).await?;
        if !same_origin(&parts.headers) {
            return Err(forbidden(
                &ctx.brand,
                "This form was sent from another site.",
            ));
        }
        let fields = read_form(Request::from_parts(parts, body), &ctx.brand).await?;
        let given = fields.get("csrf").map(String::as_str).unwrap_or("");
        if !same_token(given, &ctx.session.csrf) {
            return Err(forbidden(
                &ctx.brand,
                "This form has expired or did not come from this panel. Reload the page and try again.",
            ));
        }
        Ok(Posted { ctx, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "mail.example.test:8080".parse().unwrap());
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            "http://mail.example.test:8080".parse().unwrap(),
        );
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, "https://evil.test".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(!same_origin(&h));
        assert_eq!(host_of(&h), "mail.example.test");
    }

    #[test]
    fn tokens() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("", "abc"));
    }
}

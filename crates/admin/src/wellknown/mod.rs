//! Client configuration and MTA-STS on the http/https listeners, next to `/api/v1`, without
//! sign-in: what a mail client or a sending server asks before it has any credentials. Every
//! answer names the hosts of the brand the domain resolves to ([`marque_core::Core::
//! brand_for_domain`]), so a customer's users see the customer's names, never another's.
//!
//! - `GET /mail/config-v1.1.xml?emailaddress=` and
//!   `GET /.well-known/autoconfig/mail/config-v1.1.xml`: Thunderbird autoconfig.
//! - `POST /autodiscover/autodiscover.xml` (any case): Outlook autodiscover, POX.
//! - `GET /apple/mobileconfig?email=`: an Apple configuration profile (unsigned).
//! - `GET /.well-known/mta-sts.txt` on host `mta-sts.<domain>`: the MTA-STS policy.
//!
//! A domain not hosted here answers `404`.

mod render;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use marque_core::{CoreError, validate};
use marque_hosting::EffectiveBrand;
use serde::Deserialize;

use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use render::Account;

/// Largest autodiscover request read (the real ones are a few hundred bytes).
const MAX_REQUEST: usize = 16 * 1024;

/// The ports clients are told to use: `[dns] public_ports`, the same ports the domain's SRV
/// records name (they may differ from the listeners' behind a port mapping).
pub use marque_hosting::dns::PublicPorts as ClientPorts;

/// The MTA-STS policy mode (RFC 8461 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MtaStsMode {
    /// Senders report failures but deliver anyway: the safe start.
    #[default]
    Testing,
    Enforce,
    None,
}

impl MtaStsMode {
    /// The policy's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MtaStsMode::Testing => "testing",
            MtaStsMode::Enforce => "enforce",
            MtaStsMode::None => "none",
        }
    }
}

/// The MTA-STS policy served for every hosted domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MtaSts {
    pub mode: MtaStsMode,
    /// How long senders cache the policy (RFC 8461 §3.2: at most 31557600).
    pub max_age_secs: u64,
}

impl Default for MtaSts {
    fn default() -> Self {
        MtaSts {
            mode: MtaStsMode::Testing,
            max_age_secs: 604_800,
        }
    }
}

/// The routes of this module (merged into the API's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail/config-v1.1.xml", get(autoconfig))
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(autoconfig),
        )
        .route("/autodiscover/autodiscover.xml", post(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", post(autodiscover))
        .route("/AutoDiscover/AutoDiscover.xml", post(autodiscover))
        .route("/apple/mobileconfig", get(mobileconfig))
        .route("/.well-known/mta-sts.txt", get(mta_sts))
}

/// The request's host name, lower-case, without a port.
fn host(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::HOST)?.to_str().ok()?.trim();
    let name = if raw.starts_with('[') {
        return None;
    } else {
        raw.rsplit_once(':')
            .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
            .map_or(raw, |(h, _)| h)
    };
    Some(name.trim_end_matches('.').to_ascii_lowercase())
}

/// The domain of an address, checked.
fn domain_of(address: &str) -> ApiResult<String> {
    let a = validate::address(address).map_err(|e| Problem::invalid("email", e.to_string()))?;
    Ok(validate::domain_of(&a).to_string())
}

/// The brand of a hosted domain; `404` for any other.
async fn brand(st: &AppState, domain: &str) -> ApiResult<EffectiveBrand> {
    st.hosting
        .brand_for_domain(domain)
        .await
        .map_err(|e| match e {
            CoreError::Invalid { .. } | CoreError::NotFound { .. } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no mail service here for {domain}"),
            ),
            other => other.into(),
        })
}

fn document(
    content_type: &'static str,
    body: String,
    extra: &[(header::HeaderName, String)],
) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name.clone(), v);
        }
    }
    resp
}

#[derive(Debug, Deserialize)]
struct AutoconfigQuery {
    emailaddress: Option<String>,
}

/// Thunderbird asks `autoconfig.<domain>/mail/config-v1.1.xml` and
/// `<domain>/.well-known/autoconfig/...`, with the address when it knows it.
async fn autoconfig(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AutoconfigQuery>,
) -> ApiResult<Response> {
    let (email, domain) = match q.emailaddress.as_deref().filter(|e| !e.is_empty()) {
        Some(e) => (e.trim().to_string(), domain_of(e)?),
        None => {
            let h = host(&headers)
                .ok_or_else(|| Problem::invalid("emailaddress", "give the address"))?;
            let d = h.strip_prefix("autoconfig.").unwrap_or(&h).to_string();
            (format!("%EMAILADDRESS%@{d}"), d)
        }
    };
    let b = brand(&st, &domain).await?;
    let account = Account {
        email: &email,
        domain: &domain,
        display: &b.brand.name,
        host: &b.brand.hostnames[0],
    };
    let body = render::thunderbird(&account, &st.hosting.dns_settings().public_ports);
    Ok(document("application/xml; charset=utf-8", body, &[]))
}

/// The text between `<EMailAddress>` and its end tag (namespace prefixes allowed).
fn requested_address(xml: &str) -> Option<String> {
    let lower = xml.to_ascii_lowercase();
    let start = lower.find("emailaddress>")? + "emailaddress>".len();
    let end = start + lower[start..].find("</")?;
    let v = xml[start..end].trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Outlook's POX autodiscover: the request names the address; the answer the IMAP and SMTP
/// settings in the `outlook` response schema.
async fn autodiscover(State(st): State<AppState>, body: Body) -> ApiResult<Response> {
    let bytes = axum::body::to_bytes(body, MAX_REQUEST).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "an autodiscover request is a few hundred bytes",
        )
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Problem::bad_request("the request is not UTF-8"))?;
    let email = requested_address(text)
        .ok_or_else(|| Problem::bad_request("the request names no EMailAddress"))?;
    let domain = domain_of(&email)?;
    let b = brand(&st, &domain).await?;
    let account = Account {
        email: &email,
        domain: &domain,
        display: &b.brand.name,
        host: &b.brand.hostnames[0],
    };
    let body = render::outlook(&account, &st.hosting.dns_settings().public_ports);
    Ok(document("application/xml; charset=utf-8", body, &[]))
}

#[derive(Debug, Deserialize)]
struct ProfileQuery {
    email: Option<String>,
}

/// An Apple profile for one address, downloaded as a file.
async fn mobileconfig(
    State(st): State<AppState>,
    Query(q): Query<ProfileQuery>,
) -> ApiResult<Response> {
    let email = q
        .email
        .ok_or_else(|| Problem::invalid("email", "give the address: ?email=user@domain"))?;
    let email = validate::address(&email).map_err(|e| Problem::invalid("email", e.to_string()))?;
    let domain = validate::domain_of(&email).to_string();
    let b = brand(&st, &domain).await?;
    let account = Account {
        email: &email,
        domain: &domain,
        display: &b.brand.name,
        host: &b.brand.hostnames[0],
    };
    let body = render::mobileconfig(&account, &st.hosting.dns_settings().public_ports);
    let file = format!("attachment; filename=\"{domain}.mobileconfig\"");
    Ok(document(
        "application/x-apple-aspen-config",
        body,
        &[(header::CONTENT_DISPOSITION, file)],
    ))
}

/// The MTA-STS policy of the domain named by the host `mta-sts.<domain>` (RFC 8461 §3.3).
async fn mta_sts(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let h = host(&headers).unwrap_or_default();
    let Some(domain) = h.strip_prefix("mta-sts.") else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "the policy is served on mta-sts.<domain>",
        ));
    };
    let b = brand(&st, domain).await?;
    let body = render::mta_sts(&b.brand.hostnames[0], &st.settings.mta_sts);
    Ok(document("text/plain; charset=utf-8", body, &[]))
}

//! Brands: `/brands` (the records the caller may see), the record of a tenant or a domain
//! (`/tenants/{id}/brand`, `/domains/{name}/brand`), its logo (`.../brand/logo`, the raw image
//! as the body), what a domain shows (`/domains/{name}/brand/effective`), and the public
//! `/brand/logo/{id}` the panel loads before sign-in. The core decides permissions and plan
//! features; a plan without custom branding or custom TLS answers `403` saying which.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use marque_core::{Actor, CoreError, TenantId};
use marque_hosting::brand::{LOGO_MAX_BYTES, LOGO_TYPES};
use marque_hosting::{Brand, BrandOf, Colours};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{IMAGE_BODY, Op, op};
use super::{Route, route};
use crate::extract::{Caller, Json, Path};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/brands", &["get"], get(list)),
        route(
            "/api/v1/tenants/{id}/brand",
            &["get", "put", "delete"],
            get(show_tenant).put(set_tenant).delete(clear_tenant),
        ),
        route(
            "/api/v1/domains/{name}/brand",
            &["get", "put", "delete"],
            get(show_domain).put(set_domain).delete(clear_domain),
        ),
        route(
            "/api/v1/tenants/{id}/brand/logo",
            &["put", "delete"],
            put(logo_tenant)
                .delete(unlogo_tenant)
                .layer(DefaultBodyLimit::disable()),
        ),
        route(
            "/api/v1/domains/{name}/brand/logo",
            &["put", "delete"],
            put(logo_domain)
                .delete(unlogo_domain)
                .layer(DefaultBodyLimit::disable()),
        ),
        route(
            "/api/v1/domains/{name}/brand/effective",
            &["get"],
            get(effective),
        ),
        route("/brand/logo/{id}", &["get"], get(public_logo)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/brands",
        "The brand records the caller may see",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/tenants/{id}/brand",
        "A tenant's own brand",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/tenants/{id}/brand",
        "Set a tenant's brand (custom branding plan; own hostnames need custom TLS)",
        Some("BrandInput"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tenants/{id}/brand",
        "Remove a tenant's brand and free its hostnames",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/domains/{name}/brand",
        "A domain's own brand",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/domains/{name}/brand",
        "Set a domain's brand, overriding its tenant's",
        Some("BrandInput"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/domains/{name}/brand",
        "Remove a domain's brand and free its hostnames",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/tenants/{id}/brand/logo",
        "Upload a tenant brand's logo (PNG, JPEG or WebP, at most 256 KiB)",
        Some(IMAGE_BODY),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tenants/{id}/brand/logo",
        "Remove a tenant brand's logo",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/domains/{name}/brand/logo",
        "Upload a domain brand's logo (PNG, JPEG or WebP, at most 256 KiB)",
        Some(IMAGE_BODY),
        &[],
    ),
    op(
        "delete",
        "/api/v1/domains/{name}/brand/logo",
        "Remove a domain brand's logo",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/domains/{name}/brand/effective",
        "The brand a domain shows, and where it comes from",
        None,
        &[],
    ),
    op(
        "get",
        "/brand/logo/{id}",
        "A logo image (public)",
        None,
        &[],
    ),
];

/// The schemas of this file.
pub fn schemas() -> Value {
    let colour = json!({"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"});
    json!({
        "BrandInput": {"type": "object", "additionalProperties": false,
            "required": ["name", "colours"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "hostnames": {"type": "array", "maxItems": marque_hosting::brand::HOSTNAMES_MAX,
                    "items": {"type": "string"}},
                "colours": {"type": "object", "additionalProperties": false,
                    "required": ["primary", "accent"],
                    "properties": {"primary": colour, "accent": colour}},
                "support_url": {"type": ["string", "null"], "pattern": "^[Hh][Tt][Tt][Pp][Ss]://"}}},
    })
}

/// A brand as the API takes it; the logo has its own resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    name: String,
    #[serde(default)]
    hostnames: Vec<String>,
    colours: Colours,
    #[serde(default)]
    support_url: Option<String>,
}

impl From<Input> for Brand {
    fn from(i: Input) -> Brand {
        Brand {
            name: i.name,
            hostnames: i.hostnames,
            colours: i.colours,
            support_url: i.support_url,
            logo: None,
        }
    }
}

fn brand_json(of: &BrandOf, b: &Brand) -> Value {
    let logo_url = b.logo.as_ref().map(|l| format!("/brand/logo/{}", l.id));
    json!({"of": of, "brand": b, "logo_url": logo_url})
}

async fn list(State(st): State<AppState>, Caller(actor): Caller) -> ApiResult<Response> {
    let items: Vec<Value> = st
        .hosting
        .list_brands(&actor)
        .await?
        .iter()
        .map(|e| {
            let mut v = brand_json(&e.of, &e.brand);
            v["tenant"] = json!(e.tenant);
            v
        })
        .collect();
    Ok(axum::Json(json!({ "items": items, "next": null })).into_response())
}

async fn show(st: &AppState, actor: &Actor, of: BrandOf) -> ApiResult<Response> {
    let b = st
        .hosting
        .get_brand(actor, of.clone())
        .await?
        .ok_or_else(|| CoreError::not_found("brand", &of))?;
    Ok(axum::Json(brand_json(&of, &b)).into_response())
}

async fn set(st: &AppState, actor: &Actor, of: BrandOf, input: Input) -> ApiResult<Response> {
    st.hosting
        .set_brand(actor, of.clone(), input.into())
        .await?;
    show(st, actor, of).await
}

async fn show_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<Response> {
    show(&st, &actor, BrandOf::Tenant(TenantId(id))).await
}

async fn set_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    Json(input): Json<Input>,
) -> ApiResult<Response> {
    set(&st, &actor, BrandOf::Tenant(TenantId(id)), input).await
}

async fn clear_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.hosting
        .clear_brand(&actor, BrandOf::Tenant(TenantId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn show_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    show(&st, &actor, BrandOf::Domain(name)).await
}

async fn set_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    Json(input): Json<Input>,
) -> ApiResult<Response> {
    set(&st, &actor, BrandOf::Domain(name), input).await
}

async fn clear_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.hosting
        .clear_brand(&actor, BrandOf::Domain(name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-large",
        format!("a logo may have at most {LOGO_MAX_BYTES} bytes (256 KiB)"),
    )
}

fn unsupported(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        detail,
    )
}

/// Reads a logo upload: the declared type, and the body up to the limit (never more in
/// memory); the core then checks the bytes themselves.
async fn upload(
    st: &AppState,
    actor: &Actor,
    of: BrandOf,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            unsupported(format!(
                "send the image with its Content-Type: one of {}",
                LOGO_TYPES.join(", ")
            ))
        })?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > LOGO_MAX_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, LOGO_MAX_BYTES + 1)
        .await
        .map_err(|_| too_large())?;
    let logo = st
        .hosting
        .set_brand_logo(actor, of, &content_type, bytes.to_vec())
        .await
        .map_err(|e| match e {
            CoreError::Invalid {
                field: "logo size",
                reason,
            } if !bytes.is_empty() => too_large().with("reason", reason),
            CoreError::Invalid {
                field: "logo type",
                reason,
            } => unsupported(format!("invalid logo type: {reason}")),
            other => other.into(),
        })?;
    let url = format!("/brand/logo/{}", logo.id);
    Ok(axum::Json(json!({"logo": logo, "logo_url": url})).into_response())
}

async fn logo_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    upload(&st, &actor, BrandOf::Tenant(TenantId(id)), &headers, body).await
}

async fn logo_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    upload(&st, &actor, BrandOf::Domain(name), &headers, body).await
}

async fn unlogo_tenant(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    st.hosting
        .clear_brand_logo(&actor, BrandOf::Tenant(TenantId(id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn unlogo_domain(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    st.hosting
        .clear_brand_logo(&actor, BrandOf::Domain(name))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a domain shows, for who may read the domain.
async fn effective(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let d = st.core.get_domain(&actor, &name).await?;
    let e = st.hosting.brand_for_domain(&d.name).await?;
    let mut v = brand_json(&e.source, &e.brand);
    v["source"] = json!(e.source);
    v["tenant"] = json!(e.tenant);
    Ok(axum::Json(v).into_response())
}

/// A logo by id, without sign-in. Ids are never reused for other content, so the answer can
/// be cached for good; `nosniff` and a closed content policy keep a browser from treating it
/// as anything but an image.
async fn public_logo(State(st): State<AppState>, Path(raw): Path<String>) -> ApiResult<Response> {
    let id: u64 = raw
        .parse()
        .map_err(|_| Problem::invalid("id", "a logo id is a positive integer"))?;
    let (content_type, bytes) = st
        .hosting
        .brand_logo(id)
        .await?
        .ok_or_else(|| CoreError::not_found("logo", id))?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(resp)
}

//! The brand a page shows, chosen by the `Host` the panel was reached on: a registered brand
//! hostname (`mail.customer.tld`, the reseller's own) shows that brand's name, logo, colours and
//! support link (or none); any other name shows the provider's brand. Logos are served from
//! `/admin/brand/logo/{id}`, colours through `/admin/assets/brand.css`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marque_core::PROVIDER;
use marque_hosting::EffectiveBrand;

use super::assets::stylesheet;
use super::ctx::host_of;
use super::layout::{Brand, secure};
use crate::state::AppState;

impl Brand {
    /// The panel's view of a resolved brand.
    pub fn from_effective(eb: &EffectiveBrand) -> Brand {
        let b = &eb.brand;
        Brand {
            name: b.name.clone(),
            logo: b
                .logo
                .as_ref()
                .map(|l| format!("/admin/brand/logo/{}", l.id)),
            support_url: b.support_url.clone(),
            primary: colour(&b.colours.primary),
            accent: colour(&b.colours.accent),
        }
    }
}

/// A `#rrggbb` colour, or nothing (so that no other text reaches the stylesheet).
fn colour(c: &str) -> Option<String> {
    let hex = c.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| c.to_string())
}

/// The brand for a request's `Host`: the hostname's brand, else the provider's.
pub async fn for_host(st: &AppState, headers: &HeaderMap) -> Brand {
    let host = host_of(headers);
    let found = match st.hosting.brand_for_host(&host).await {
        Ok(Some(eb)) => Ok(eb),
        Ok(None) => st.hosting.brand_for_tenant(PROVIDER).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(eb) => Brand::from_effective(&eb),
        Err(e) => {
            tracing::warn!(error = %e, "could not resolve the panel's brand");
            Brand::named(&st.hostname)
        }
    }
}

/// `GET /admin/brand/logo/{id}`: a brand's logo (public: shown before sign-in).
pub async fn logo(State(st): State<AppState>, Path(id): Path<u64>) -> Response {
    match st.hosting.brand_logo(id).await {
        Ok(Some((content_type, bytes))) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            // A new logo gets a new id, so this one never changes.
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            secure(r)
        }
        Ok(None) => secure(StatusCode::NOT_FOUND.into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "could not read a brand logo");
            secure(StatusCode::SERVICE_UNAVAILABLE.into_response())
        }
    }
}

/// `GET /admin/assets/brand.css`: the brand's colours as custom properties.
pub async fn css(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let b = for_host(&st, &headers).await;
    let mut text = String::from(":root {\n");
    if let Some(p) = &b.primary {
        text.push_str(&format!("  --brand: {p};\n"));
    }
    if let Some(a) = &b.accent {
        text.push_str(&format!("  --accent: {a};\n"));
    }
    text.push_str("}\n");
    stylesheet(text, "no-cache")
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_are_checked() {
        assert_eq!(super::colour("#12abEF").as_deref(), Some("#12abEF"));
        assert_eq!(super::colour("red; } body { x"), None);
        assert_eq!(super::colour("#1234567"), None);
    }
}

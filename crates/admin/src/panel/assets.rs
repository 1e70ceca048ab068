//! The panel's stylesheet, embedded in the binary (nothing is fetched from elsewhere at run
//! time), and the per-host brand stylesheet with the brand's colours as custom properties.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::layout::secure;

/// The stylesheet.
pub const CSS: &str = include_str!("../../assets/panel.css");

/// `GET /admin/assets/panel.css`: cached for a day (it changes only with the binary).
pub async fn css() -> Response {
    stylesheet(CSS.to_string(), "public, max-age=86400")
}

/// A stylesheet answer.
pub fn stylesheet(text: String, cache: &'static str) -> Response {
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    secure(resp)
}

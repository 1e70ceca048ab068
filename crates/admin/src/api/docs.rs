//! The OpenAPI 3.1 document (`/api/v1/openapi.json`) and the interactive docs page
//! (`/api/docs`), self-contained: no CDN, no external asset.
//!
//! Every resource file keeps, beside its routes, the table of its operations (`OPS`, built with
//! [`op`]) and the schemas of its request bodies (`schemas`, built from [`types`]); the document
//! is assembled from [`super::RESOURCES`], the same list the router is built from, so that the
//! test `every_route_is_documented` keeps both complete.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::limits;
use serde_json::{Map, Value, json};

use super::{Route, route};

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/openapi.json", &["get"], get(openapi)),
        route("/api/docs", &["get"], get(page)),
    ]
}

/// One operation: method, path, summary, request body schema (a name under
/// `components/schemas`), query parameters.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub body: Option<&'static str>,
    pub query: &'static [&'static str],
}

pub const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    query: &'static [&'static str],
) -> Op {
    Op {
        method,
        path,
        summary,
        body,
        query,
    }
}

/// The body name of an image upload (a logo): the document lists the image types it takes.
pub const IMAGE_BODY: &str = "image";

/// The query parameters of a paged list.
pub const PAGE: &[&str] = &["limit", "cursor"];

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op("get", "/api/v1/openapi.json", "This document", None, &[]),
    op("get", "/api/docs", "Interactive documentation", None, &[]),
];

/// Pieces of the request schemas that the resource files share.
pub mod types {
    use marque_core::limits;
    use serde_json::{Value, json};

    /// A closed object: these properties, these required.
    pub fn object(props: Value, required: &[&str]) -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
    }

    pub fn string() -> Value {
        json!({"type": "string"})
    }

    /// An id: tenants, plans, managers.
    pub fn id() -> Value {
        json!({"type": "integer", "minimum": 0})
    }

    pub fn boolean() -> Value {
        json!({"type": "boolean"})
    }

    pub fn strings() -> Value {
        json!({"type": "array", "items": {"type": "string"}})
    }

    pub fn ids() -> Value {
        json!({"type": "array", "items": {"type": "integer", "minimum": 0}})
    }

    /// A mailbox tier.
    pub fn tier() -> Value {
        json!({"type": "string", "enum": ["LIGHT", "STANDARD", "PREMIUM"]})
    }

    /// A size in MiB, bounded ([`limits::MAX_MB`]).
    pub fn mib() -> Value {
        json!({"type": "integer", "minimum": 1, "maximum": limits::MAX_MB})
    }

    /// The shared `Limits` schema.
    pub fn limits() -> Value {
        json!({"$ref": "#/components/schemas/Limits"})
    }
}

/// The schemas every resource file refers to.
fn shared_schemas() -> Value {
    let s = types::string();
    let sn = json!({"type": ["string", "null"]});
    // Sizes in MiB and counts are bounded (marque_core::limits).
    let mb_or_null = json!({"type": ["integer", "null"], "minimum": 0, "maximum": limits::MAX_MB});
    let count = json!({"type": "integer", "minimum": 0, "maximum": limits::MAX_COUNT});
    let count_or_null =
        json!({"type": ["integer", "null"], "minimum": 0, "maximum": limits::MAX_COUNT});
    json!({
        "Problem": {"type": "object", "properties": {
            "type": s, "title": s, "status": {"type": "integer"}, "detail": s}},
        "Page": {"type": "object", "properties": {"items": {"type": "array"}, "next": sn}},
        "Limits": {"type": "object", "additionalProperties": false, "properties": {
            "domains": count_or_null,
            "mailboxes": {"type": "object", "additionalProperties": count},
            "aliases": count_or_null,
            "lists": count_or_null,
            "max_mailbox_mb": mb_or_null,
            "storage_mb": mb_or_null}},
    })
}

/// The shared schemas and those of every resource file.
fn all_schemas() -> Value {
    let mut all = shared_schemas();
    for r in super::RESOURCES {
        if let (Value::Object(m), Value::Object(more)) = (&mut all, (r.schemas)()) {
            m.extend(more);
        }
    }
    all
}

fn problem_ref() -> Value {
    json!({"description": "Problem details (RFC 9457)",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

fn query_param(name: &str) -> Value {
    let schema = match name {
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        "parent" | "tenant" | "owner" => json!({"type": "integer", "minimum": 0}),
        "format" => json!({"type": "string", "enum": ["csv", "json"]}),
        "month" => json!({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}),
        _ => json!({"type": "string"}),
    };
    json!({"name": name, "in": "query", "required": false, "schema": schema})
}

/// Every operation, from every resource file.
fn all_ops() -> impl Iterator<Item = &'static Op> {
    super::RESOURCES.iter().flat_map(|r| r.ops)
}

/// The OpenAPI 3.1 document.
pub fn spec() -> Value {
    let mut paths = Map::new();
    for o in all_ops() {
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        let mut params: Vec<Value> = o.query.iter().map(|q| query_param(q)).collect();
        for seg in o.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let schema = if o.path.starts_with("/api/v1/logs/transactions/") {
                    json!({"type": "string", "pattern": "^[0-9]+-[0-9]+$"})
                } else if name == "id" {
                    json!({"type": "integer", "minimum": 0})
                } else {
                    json!({"type": "string"})
                };
                params
                    .push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
            }
        }
        let ok = match (o.method, o.path) {
            ("delete", _) => json!({"204": {"description": "Done"}}),
            ("post", p)
                if !p.ends_with("approve")
                    && !p.ends_with("reject")
                    && !p.ends_with("credit")
                    && !p.ends_with("bulk")
                    && !p.ends_with("activate")
                    && !p.ends_with("retry")
                    && !p.ends_with("/dns/check")
                    && !p.ends_with("order") =>
            {
                json!({"201": {"description": "Created", "content": {"application/json": {"schema": {"type": "object"}}}}})
            }
            ("get", "/api/docs") => {
                json!({"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}})
            }
            ("get", "/api/v1/usage") => json!({"200": {"description": "Usage", "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}}),
            ("patch", "/api/v1/me") => json!({"204": {"description": "Done"}}),
            ("get", "/brand/logo/{id}") => {
                let image = json!({"schema": {"type": "string", "format": "binary"}});
                let types: Map<String, Value> = marque_hosting::brand::LOGO_TYPES
                    .iter()
                    .map(|t| (t.to_string(), image.clone()))
                    .collect();
                json!({"200": {"description": "The image", "content": types}})
            }
            ("post", "/api/v1/certificates/{hostname}/order") => {
                json!({"202": {"description": "Ordered",
                "content": {"application/json": {"schema": {"type": "object"}}}}})
            }
            _ => {
                json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}})
            }
        };
        let mut responses = ok;
        if let Value::Object(r) = &mut responses {
            r.insert("default".into(), problem_ref());
        }
        let mut operation = json!({
            "summary": o.summary,
            "operationId": format!("{}{}", o.method, o.path.replace(['/', '{', '}', '.'], "_")),
            "parameters": params,
            "responses": responses,
        });
        if o.path == "/api/v1/openapi.json"
            || o.path == "/api/docs"
            || o.path.starts_with("/brand/")
        {
            operation["security"] = json!([]);
        }
        if o.body == Some(IMAGE_BODY) {
            let image = json!({"schema": {"type": "string", "format": "binary",
                "maxLength": marque_hosting::brand::LOGO_MAX_BYTES}});
            let types: Map<String, Value> = marque_hosting::brand::LOGO_TYPES
                .iter()
                .map(|t| (t.to_string(), image.clone()))
                .collect();
            operation["requestBody"] = json!({"required": true, "content": types});
        } else if let Some(b) = o.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{b}")}}}});
        }
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Marque admin API", "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "AGPL-3.0-only", "identifier": "AGPL-3.0-only"}},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": all_schemas(),
        },
    })
}

async fn openapi() -> Response {
    axum::Json(spec()).into_response()
}

/// The docs page: lists the operations of the spec and sends requests with a pasted token.
const PAGE_HTML: &str = include_str!("docs.html");

async fn page() -> Response {
    let mut resp = PAGE_HTML.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Nothing from elsewhere: the page works offline and cannot be made to load anything.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented() {
        let doc = spec();
        let mut routed = 0;
        for r in crate::api::routes() {
            for m in r.methods {
                routed += 1;
                assert!(
                    doc["paths"][r.path][*m].is_object(),
                    "{m} {} is missing from the OpenAPI document",
                    r.path
                );
            }
        }
        assert_eq!(
            routed,
            all_ops().count(),
            "the document lists operations the router lacks"
        );
        for o in all_ops() {
            if let Some(b) = o.body.filter(|b| *b != IMAGE_BODY) {
                assert!(doc["components"]["schemas"][b].is_object(), "schema {b}");
            }
        }
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        assert!(!PAGE_HTML.contains("http://") && !PAGE_HTML.contains("https://"));
        assert!(!PAGE_HTML.contains(" src="));
    }
}

//! The OpenAPI 3.1 document (`/api/v1/openapi.json`), built from the table of operations below,
//! and the interactive docs page (`/api/docs`), self-contained: no CDN, no external asset.

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

const fn op(
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

const PAGE: &[&str] = &["limit", "cursor"];

/// Every operation of the API (the test `every_route_is_documented` keeps this complete).
pub const OPS: &[Op] = &[
    op("get", "/api/v1/me", "The signed-in principal", None, &[]),
    op(
        "patch",
        "/api/v1/me",
        "Change one's own password",
        Some("MeChanges"),
        &[],
    ),
    op(
        "get",
        "/api/v1/tenants",
        "List child tenants",
        None,
        &["parent", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/tenants",
        "Create a reseller or customer",
        Some("NewTenant"),
        &[],
    ),
    op("get", "/api/v1/tenants/{id}", "Read a tenant", None, &[]),
    op(
        "patch",
        "/api/v1/tenants/{id}",
        "Change a tenant, its limits",
        Some("TenantChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/tenants/{id}",
        "Delete an empty tenant",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/tenants/{id}/credit",
        "Credit balance and ledger",
        None,
        PAGE,
    ),
    op(
        "post",
        "/api/v1/tenants/{id}/credit",
        "Top up credit",
        Some("TopUp"),
        &[],
    ),
    op(
        "get",
        "/api/v1/domains",
        "List a tenant's domains",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/domains",
        "Create a domain",
        Some("NewDomain"),
        &[],
    ),
    op("get", "/api/v1/domains/{name}", "Read a domain", None, &[]),
    op(
        "get",
        "/api/v1/domains/{name}/dns",
        "The DNS records a domain must publish and their state at the last check",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/domains/{name}/dns/check",
        "Check a domain's DNS records now (at most once per 10 s per domain)",
        None,
        &[],
    ),
    op(
        "patch",
        "/api/v1/domains/{name}",
        "Enable/disable, limits",
        Some("DomainChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/domains/{name}",
        "Delete an empty domain",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/mailboxes",
        "List a domain's mailboxes",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/mailboxes",
        "Create a mailbox",
        Some("NewMailbox"),
        &[],
    ),
    op(
        "post",
        "/api/v1/mailboxes/bulk",
        "Create many mailboxes (JSON or CSV), a result per row",
        Some("BulkMailboxes"),
        &[],
    ),
    op(
        "get",
        "/api/v1/mailboxes/{address}",
        "Read a mailbox",
        None,
        &[],
    ),
    op(
        "patch",
        "/api/v1/mailboxes/{address}",
        "Resize, tier, flags, password",
        Some("MailboxChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/mailboxes/{address}",
        "Delete a mailbox",
        None,
        &[],
    ),
    op("get", "/api/v1/tokens", "List one's own tokens", None, PAGE),
    op(
        "post",
        "/api/v1/tokens",
        "Create a token (secret shown once)",
        Some("NewToken"),
        &[],
    ),
    op("delete", "/api/v1/tokens/{id}", "Revoke a token", None, &[]),
    op(
        "get",
        "/api/v1/aliases",
        "List a domain's aliases",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/aliases",
        "Create an alias",
        Some("NewAlias"),
        &[],
    ),
    op(
        "get",
        "/api/v1/aliases/{address}",
        "Read an alias",
        None,
        &[],
    ),
    op(
        "patch",
        "/api/v1/aliases/{address}",
        "Replace an alias's targets",
        Some("AliasChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/aliases/{address}",
        "Delete an alias",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/lists",
        "List a domain's mailing lists",
        None,
        &["domain", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/lists",
        "Create a mailing list",
        Some("NewList"),
        &[],
    ),
    op(
        "get",
        "/api/v1/lists/{address}",
        "Read a mailing list",
        None,
        &[],
    ),
    op(
        "delete",
        "/api/v1/lists/{address}",
        "Delete a mailing list",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/lists/{address}/members",
        "A list's members",
        None,
        &[],
    ),
    op(
        "put",
        "/api/v1/lists/{address}/members",
        "Replace a list's members",
        Some("Members"),
        &[],
    ),
    op(
        "get",
        "/api/v1/plans",
        "List the plans a tenant offers",
        None,
        &["owner", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/plans",
        "Create a plan",
        Some("PlanTerms"),
        &[],
    ),
    op("get", "/api/v1/plans/{id}", "Read a plan", None, &[]),
    op(
        "put",
        "/api/v1/plans/{id}",
        "Replace a plan's terms",
        Some("PlanTerms"),
        &[],
    ),
    op("delete", "/api/v1/plans/{id}", "Delete a plan", None, &[]),
    op(
        "get",
        "/api/v1/managers",
        "List a tenant's administrators and managers",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/managers",
        "Create an administrator or manager",
        Some("NewManager"),
        &[],
    ),
    op("get", "/api/v1/managers/{id}", "Read a manager", None, &[]),
    op(
        "patch",
        "/api/v1/managers/{id}",
        "Change a manager",
        Some("ManagerChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/managers/{id}",
        "Delete a manager",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/activations",
        "List activation requests",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/activations/{id}",
        "Read an activation",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/activations/{id}/approve",
        "Approve an activation",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/activations/{id}/reject",
        "Reject an activation",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/usage",
        "Usage now, or a month's export (CSV or JSON)",
        None,
        &["tenant", "domain", "month", "format"],
    ),
    op(
        "get",
        "/api/v1/logs/auth",
        "Authentication log",
        None,
        &["tenant", "address", "ip", "from", "to", "limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/logs/transactions",
        "SMTP transaction log",
        None,
        &[
            "tenant",
            "address",
            "ip",
            "message_id",
            "from",
            "to",
            "limit",
            "cursor",
        ],
    ),
    op(
        "get",
        "/api/v1/logs/transactions/{id}",
        "One SMTP transaction with its conversation",
        None,
        &["tenant"],
    ),
    op(
        "get",
        "/api/v1/webhooks",
        "List a tenant's webhooks",
        None,
        &["tenant", "limit", "cursor"],
    ),
    op(
        "post",
        "/api/v1/webhooks",
        "Subscribe a URL to events (the secret is shown once)",
        Some("NewWebhook"),
        &[],
    ),
    op("get", "/api/v1/webhooks/{id}", "Read a webhook", None, &[]),
    op(
        "patch",
        "/api/v1/webhooks/{id}",
        "Change a webhook",
        Some("WebhookChanges"),
        &[],
    ),
    op(
        "delete",
        "/api/v1/webhooks/{id}",
        "Delete a webhook",
        None,
        &[],
    ),
    op(
        "get",
        "/api/v1/webhooks/{id}/deliveries",
        "A webhook's delivery attempts, newest first",
        None,
        PAGE,
    ),
    op(
        "get",
        "/api/v1/audit",
        "Audit trail",
        None,
        &["tenant", "domain", "limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/queue",
        "List the outbound queue's entries the caller may see",
        None,
        PAGE,
    ),
    op(
        "get",
        "/api/v1/queue/{id}",
        "Read a queue entry: envelope, recipients, schedule",
        None,
        &[],
    ),
    op(
        "delete",
        "/api/v1/queue/{id}",
        "Delete a queue entry without delivering it",
        None,
        &[],
    ),
    op(
        "post",
        "/api/v1/queue/{id}/retry",
        "Make a queue entry due now",
        None,
        &[],
    ),
    op("get", "/api/v1/openapi.json", "This document", None, &[]),
    op("get", "/api/docs", "Interactive documentation", None, &[]),
];

fn obj(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
}

fn schemas() -> Value {
    let s = json!({"type": "string"});
    let sn = json!({"type": ["string", "null"]});
    let i = json!({"type": "integer", "minimum": 0});
    let b = json!({"type": "boolean"});
    let strs = json!({"type": "array", "items": {"type": "string"}});
    let ints = json!({"type": "array", "items": {"type": "integer", "minimum": 0}});
    let tier = json!({"type": "string", "enum": ["LIGHT", "STANDARD", "PREMIUM"]});
    // Sizes in MiB and counts are bounded (marque_core::limits).
    let mb1 = json!({"type": "integer", "minimum": 1, "maximum": limits::MAX_MB});
    let mb_or_null = json!({"type": ["integer", "null"], "minimum": 0, "maximum": limits::MAX_MB});
    let count = json!({"type": "integer", "minimum": 0, "maximum": limits::MAX_COUNT});
    let count_or_null =
        json!({"type": ["integer", "null"], "minimum": 0, "maximum": limits::MAX_COUNT});
    let limits = json!({"$ref": "#/components/schemas/Limits"});
    let events = json!({"type": "array", "minItems": 1,
        "items": {"type": "string", "enum": super::webhooks::event_names()}});
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
        "MeChanges": obj(json!({"password": s}), &[]),
        "NewTenant": obj(json!({"name": s, "kind": {"type": "string", "enum": ["reseller", "customer"]},
            "parent": i, "plan": i, "billing": {"type": "object"},
            "support": {"type": "string", "enum": ["basic", "standard", "premium"]},
            "limits": limits}), &["name", "kind"]),
        "TenantChanges": obj(json!({"name": s, "plan": {"type": ["integer", "null"]},
            "billing": {"type": ["object", "null"]},
            "support": {"type": "string", "enum": ["basic", "standard", "premium"]},
            "limits": limits}), &[]),
        "TopUp": obj(json!({"amount": {"type": "integer", "minimum": 1}, "note": s}), &["amount"]),
        "NewDomain": obj(json!({"name": s, "tenant": i, "limits": limits}), &["name"]),
        "DomainChanges": obj(json!({"enabled": b, "limits": limits}), &[]),
        "NewMailbox": obj(json!({"address": s, "password": s, "quota_mb": mb1, "tier": tier,
            "postmaster": b}), &["address", "password"]),
        "BulkMailboxes": obj(json!({"mailboxes": {"type": "array", "maxItems": 10000, "items": obj(json!({
            "address": s, "password": s, "quota_mb": mb1, "tier": tier, "postmaster": b}), &["address", "password"])}}),
            &["mailboxes"]),
        "MailboxChanges": obj(json!({"quota_mb": mb1, "tier": tier, "postmaster": b, "enabled": b,
            "password": s}), &[]),
        "NewToken": obj(json!({"name": s, "tenant": i, "manager": i, "expires": {"type": "string", "format": "date-time"},
            "read_only": b}), &["name"]),
        "NewAlias": obj(json!({"address": s, "targets": strs}), &["address", "targets"]),
        "AliasChanges": obj(json!({"targets": strs}), &["targets"]),
        "NewList": obj(json!({"address": s, "name": s, "members": strs}), &["address", "name"]),
        "Members": obj(json!({"members": strs}), &["members"]),
        "PlanTerms": obj(json!({"owner": i, "name": s, "tier": tier, "default_mailbox_mb": mb1,
            "max_mailbox_mb": mb1, "features": {"type": "object"},
            "price_credits": {"type": "integer", "minimum": 0, "maximum": limits::MAX_CREDITS}}),
            &["name", "tier", "default_mailbox_mb", "max_mailbox_mb"]),
        "NewManager": obj(json!({"tenant": i, "login": s, "password": s,
            "kind": {"type": "string", "enum": ["admin", "helpdesk", "reseller"]},
            "domains": strs, "plans": ints,
            "policy": {"type": "string", "enum": ["immediate", "queue", "api"]}}), &["login", "kind"]),
        "ManagerChanges": obj(json!({"kind": {"type": "string", "enum": ["admin", "helpdesk", "reseller"]},
            "domains": strs, "plans": ints,
            "policy": {"type": "string", "enum": ["immediate", "queue", "api"]},
            "enabled": b, "password": s}), &[]),
        "NewWebhook": obj(json!({"url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "events": events, "tenant": i, "enabled": b}), &["url", "events"]),
        "WebhookChanges": obj(json!({"url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
            "events": events, "enabled": b}), &[]),
    })
}

/// The schemas of this file and of the files that keep their own.
fn all_schemas() -> Value {
    let mut all = schemas();
    for more in [
        super::sieve::schemas(),
        super::brands::schemas(),
        super::outbound::schemas(),
        super::certificates::schemas(),
    ] {
        if let (Value::Object(m), Value::Object(more)) = (&mut all, more) {
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

/// Every operation: this file's and those of the files that keep their own.
fn all_ops() -> impl Iterator<Item = &'static Op> {
    OPS.iter()
        .chain(super::sieve::OPS)
        .chain(super::brands::OPS)
        .chain(super::outbound::OPS)
        .chain(super::certificates::OPS)
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
                let types: Map<String, Value> = marque_core::brand::LOGO_TYPES
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
        if o.body == Some(super::brands::LOGO_BODY) {
            let image = json!({"schema": {"type": "string", "format": "binary",
                "maxLength": marque_core::brand::LOGO_MAX_BYTES}});
            let types: Map<String, Value> = marque_core::brand::LOGO_TYPES
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
            if let Some(b) = o.body.filter(|b| *b != crate::api::brands::LOGO_BODY) {
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

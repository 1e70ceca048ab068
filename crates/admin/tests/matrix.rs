//! The role × endpoint × tenant matrix over real HTTP (curl): every role tries each endpoint on
//! an object of its own tenant ("own") and on another reseller's ("foreign"); the expected
//! status of every cell is in the table below.

mod common;

use common::{ADMIN, Server, start};
use marque_core::{AccountId, Actor, NewToken, PrincipalId};
use serde_json::{Value, json};

/// The roles, in table column order.
const ROLES: [&str; 5] = ["provider", "reseller", "helpdesk", "postmaster", "user"];

/// One row: method, path and body for "own" and "foreign" (`{role}` makes names unique), and
/// the expected (own, foreign) status for each role, in [`ROLES`] order.
struct Row {
    method: &'static str,
    own: &'static str,
    foreign: &'static str,
    body: Option<&'static str>,
    expect: [(u16, u16); 5],
}

const TABLE: &[Row] = &[
    Row {
        method: "GET",
        own: "/api/v1/tenants/{A}",
        foreign: "/api/v1/tenants/{B}",
        body: None,
        expect: [(200, 200), (200, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "PATCH",
        own: "/api/v1/tenants/{A}",
        foreign: "/api/v1/tenants/{B}",
        body: Some(r#"{"limits": {"aliases": 50}}"#),
        expect: [(200, 200), (403, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/webhooks?tenant={A}",
        foreign: "/api/v1/webhooks?tenant={B}",
        body: None,
        expect: [(200, 200), (200, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "POST",
        own: "/api/v1/webhooks#{A}",
        foreign: "/api/v1/webhooks#{B}",
        body: Some(
            r#"{"url": "http://127.0.0.1:9/{role}-{side}", "events": ["mailbox.created"], "tenant": {T}}"#,
        ),
        expect: [(201, 201), (201, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/domains/a.example",
        foreign: "/api/v1/domains/b.example",
        body: None,
        expect: [(200, 200), (200, 404), (200, 404), (200, 404), (404, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/domains/a.example/dns",
        foreign: "/api/v1/domains/b.example/dns",
        body: None,
        expect: [(200, 200), (200, 404), (200, 404), (200, 404), (404, 404)],
    },
    Row {
        method: "POST",
        own: "/api/v1/domains#{A}",
        foreign: "/api/v1/domains#{B}",
        body: Some(r#"{"name": "{role}-{side}.example", "tenant": {T}}"#),
        expect: [(201, 201), (201, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/mailboxes?domain=a.example",
        foreign: "/api/v1/mailboxes?domain=b.example",
        body: None,
        // A user's list holds its own mailbox only (checked below).
        expect: [(200, 200), (200, 404), (200, 404), (200, 404), (200, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/mailboxes/u@a.example",
        foreign: "/api/v1/mailboxes/x@b.example",
        body: None,
        expect: [(200, 200), (200, 404), (200, 404), (200, 404), (200, 404)],
    },
    Row {
        method: "POST",
        own: "/api/v1/mailboxes#a.example",
        foreign: "/api/v1/mailboxes#b.example",
        body: Some(
            r#"{"address": "new-{role}@{D}", "password": "correct horse battery", "quota_mb": 10}"#,
        ),
        expect: [(201, 201), (201, 404), (201, 404), (201, 404), (404, 404)],
    },
    Row {
        method: "POST",
        own: "/api/v1/mailboxes#a.example",
        foreign: "/api/v1/mailboxes#b.example",
        body: Some(
            r#"{"address": "pm-{role}@{D}", "password": "correct horse battery", "quota_mb": 10, "postmaster": true}"#,
        ),
        // The help desk makes no postmasters; a postmaster may make another of its domain.
        expect: [(201, 201), (201, 404), (403, 404), (201, 404), (404, 404)],
    },
    Row {
        method: "POST",
        own: "/api/v1/plans#{A}",
        foreign: "/api/v1/plans#{B}",
        body: Some(
            r#"{"owner": {T}, "name": "{role}-{side}", "tier": "STANDARD", "default_mailbox_mb": 10, "max_mailbox_mb": 100}"#,
        ),
        expect: [(201, 201), (201, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "PATCH",
        own: "/api/v1/tenants/{A}",
        foreign: "/api/v1/tenants/{B}",
        body: Some(r#"{"limits": {"storage_mb": 18446744073709551615}}"#),
        // Out of range whoever asks; the foreign tenant stays invisible.
        expect: [(422, 422), (422, 404), (404, 404), (404, 404), (404, 404)],
    },
    Row {
        method: "GET",
        own: "/api/v1/audit?domain=a.example",
        foreign: "/api/v1/audit?domain=b.example",
        body: None,
        expect: [(200, 200), (200, 404), (200, 404), (200, 404), (404, 404)],
    },
    Row {
        method: "DELETE",
        own: "/api/v1/domains/a.example",
        foreign: "/api/v1/domains/b.example",
        body: None,
        // Both domains still hold mailboxes: those who may delete are told so (409).
        expect: [(409, 409), (409, 404), (403, 404), (403, 404), (404, 404)],
    },
];

/// A token for a mailbox, made by the operator at the core (the API mints tokens for staff).
async fn mailbox_token(s: &Server, created: &Value) -> String {
    let id = created["id"].as_u64().expect("mailbox id");
    let (_, secret) = s
        .core
        .create_token(
            &Actor::operator(),
            NewToken {
                name: "matrix".into(),
                principal: Some(PrincipalId::Mailbox(AccountId(id))),
                ..NewToken::default()
            },
        )
        .await
        .expect("mailbox token");
    secret
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_on_every_endpoint_own_and_foreign() {
    let s = start().await;
    let (a, tok_a) = s.reseller("Reseller A").await;
    let (b, tok_b) = s.reseller("Reseller B").await;
    s.create(
        "/api/v1/domains",
        &tok_a,
        json!({"name": "a.example", "tenant": a}),
    )
    .await;
    s.create(
        "/api/v1/domains",
        &tok_b,
        json!({"name": "b.example", "tenant": b}),
    )
    .await;
    let mb = |addr: &str, postmaster: bool| {
        json!({"address": addr, "password": "correct horse battery", "quota_mb": 10,
               "postmaster": postmaster})
    };
    let pm = s
        .create("/api/v1/mailboxes", &tok_a, mb("pm@a.example", true))
        .await;
    let user = s
        .create("/api/v1/mailboxes", &tok_a, mb("u@a.example", false))
        .await;
    s.create("/api/v1/mailboxes", &tok_b, mb("x@b.example", false))
        .await;
    let help = s
        .create(
            "/api/v1/managers",
            &tok_a,
            json!({"login": "help", "kind": "helpdesk", "domains": ["a.example"]}),
        )
        .await;
    let tok_help = s
        .create(
            "/api/v1/tokens",
            &tok_a,
            json!({"name": "help", "manager": help["id"]}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let tokens = [
        ADMIN.to_string(),
        tok_a.clone(),
        tok_help,
        mailbox_token(&s, &pm).await,
        mailbox_token(&s, &user).await,
    ];

    let mut wrong = Vec::new();
    let mut cells = 0;
    for row in TABLE {
        for (r, role) in ROLES.iter().enumerate() {
            for (side, template, want) in [
                ("own", row.own, row.expect[r].0),
                ("foreign", row.foreign, row.expect[r].1),
            ] {
                let (path, hint) = template.split_once('#').unwrap_or((template, ""));
                let fill = |t: &str| {
                    t.replace("{A}", &a.to_string())
                        .replace("{B}", &b.to_string())
                        .replace("{role}", role)
                        .replace("{side}", side)
                        .replace("{D}", hint)
                        .replace(
                            "{T}",
                            &hint
                                .replace("{A}", &a.to_string())
                                .replace("{B}", &b.to_string()),
                        )
                };
                let path = fill(path);
                let body = row.body.map(fill);
                let reply = s
                    .call(row.method, &path, Some(&tokens[r]), body.as_deref(), &[])
                    .await;
                cells += 1;
                if reply.status >= 400 {
                    reply.assert_problem(reply.status);
                }
                if reply.status != want {
                    wrong.push(format!(
                        "{role} {} {path} ({side}): want {want}, got {} {}",
                        row.method, reply.status, reply.body
                    ));
                }
            }
        }
    }
    assert_eq!(cells, TABLE.len() * ROLES.len() * 2);
    let listed = s
        .get("/api/v1/mailboxes?domain=a.example", &tokens[4])
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["address"], "u@a.example");
    assert!(wrong.is_empty(), "cells that differ:\n{}", wrong.join("\n"));
}

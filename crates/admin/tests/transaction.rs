//! One SMTP transaction by id (`GET /api/v1/logs/transactions/{id}`): the id the search lists
//! leads to the record with its conversation, scoped like the search.

mod common;

use common::{ADMIN, start};
use marque_core::{PROVIDER, TenantId};
use marque_store::logs::{self, LogKind, Term};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_with_its_conversation() {
    let s = start().await;
    let (r, tok) = s.reseller("Logs Reseller").await;
    let (_, other) = s.reseller("Someone Else").await;
    // The record as the SMTP side writes it: for the reseller and the provider.
    let record = json!({
        "when": 1_700_000_000_000u64, "direction": "inbound", "service": "smtp",
        "client_ip": "192.0.2.7", "server_ip": "127.0.0.1", "helo": "mx.elsewhere.example",
        "user": null, "sender": "x@elsewhere.example",
        "recipients": [{"address": "ann@logs.example", "outcome": "delivered", "reason": ""}],
        "message_id": "<one@elsewhere.example>", "size": 321, "tls": false,
        "conversation": ["S: 220 mx.test ESMTP", "C: EHLO mx.elsewhere.example",
                         "C: MAIL FROM:<x@elsewhere.example>", "C: RCPT TO:<ann@logs.example>",
                         "S: 250 2.1.5 OK", "C: DATA", "C: (message content)", "S: 250 2.0.0 OK"],
    });
    let body = record.to_string();
    s.core
        .store()
        .transact(move |txn| {
            logs::append(
                txn,
                &[PROVIDER, TenantId(r)],
                LogKind::Transaction,
                1_700_000_000_000,
                &[
                    (Term::Address, "ann@logs.example"),
                    (Term::MessageId, "<one@elsewhere.example>"),
                ],
                body.as_bytes(),
            )
        })
        .await
        .expect("log written");

    let found = s
        .get("/api/v1/logs/transactions?address=ann@logs.example", &tok)
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let id = found.json()["items"][0]["id"]
        .as_str()
        .expect("a string id")
        .to_string();
    let one = s
        .get(&format!("/api/v1/logs/transactions/{id}"), &tok)
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    let v = one.json();
    assert_eq!(v["id"], id);
    assert_eq!(
        v["record"]["conversation"][3],
        "C: RCPT TO:<ann@logs.example>"
    );
    assert_eq!(v["record"]["message_id"], "<one@elsewhere.example>");
    // The provider reads it in its own log too.
    assert_eq!(
        s.get(&format!("/api/v1/logs/transactions/{id}"), ADMIN)
            .await
            .status,
        200
    );

    // Another reseller reads neither its own copy (there is none) nor the reseller's.
    s.get(&format!("/api/v1/logs/transactions/{id}"), &other)
        .await
        .assert_problem(404);
    s.get(
        &format!("/api/v1/logs/transactions/{id}?tenant={r}"),
        &other,
    )
    .await
    .assert_problem(404);
    // Ids that were never given out.
    s.get("/api/v1/logs/transactions/1700000000000-999999", &tok)
        .await
        .assert_problem(404);
    s.get("/api/v1/logs/transactions/banana", &tok)
        .await
        .assert_problem(422);
}

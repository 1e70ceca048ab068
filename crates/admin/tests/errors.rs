//! Problem details for every error class, the authentication log, the audit trail's source
//! address, idempotency keys and rate limits, over real HTTP (curl).

mod common;

use common::{ADMIN, start, start_with};
use marque_admin::Settings;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn every_error_class_is_a_problem_document() {
    let s = start().await;
    // 401 without a token, with the challenge (RFC 6750 §3).
    let r = s.call("GET", "/api/v1/me", None, None, &[]).await;
    r.assert_problem(401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    // 401 with a wrong token.
    s.get("/api/v1/me", "mq_not-a-real-token")
        .await
        .assert_problem(401);
    // 400: not JSON.
    s.call(
        "POST",
        "/api/v1/tenants",
        Some(ADMIN),
        Some("{\"name\": "),
        &[],
    )
    .await
    .assert_problem(400);
    // 415: not declared as JSON.
    s.call(
        "POST",
        "/api/v1/tenants",
        Some(ADMIN),
        None,
        &["Content-Type: text/plain"],
    )
    .await
    .assert_problem(415);
    // 422: a field the schema does not know, a missing one, a bad value.
    s.post(
        "/api/v1/tenants",
        ADMIN,
        &json!({"name": "X", "kind": "customer", "tenant_id": 4}),
    )
    .await
    .assert_problem(422);
    s.post("/api/v1/tenants", ADMIN, &json!({"kind": "customer"}))
        .await
        .assert_problem(422);
    let p = s
        .post("/api/v1/domains", ADMIN, &json!({"name": "not a domain"}))
        .await
        .assert_problem(422);
    assert_eq!(p["field"], "domain name");
    s.get("/api/v1/tenants?limit=0", ADMIN)
        .await
        .assert_problem(422);
    s.get("/api/v1/tenants?cursor=zz", ADMIN)
        .await
        .assert_problem(422);
    // 404: no such route, no such object.
    s.get("/api/v1/nothing-here", ADMIN)
        .await
        .assert_problem(404);
    s.get("/api/v1/domains/none.example", ADMIN)
        .await
        .assert_problem(404);
    // 405.
    s.call("PUT", "/api/v1/me", Some(ADMIN), Some("{}"), &[])
        .await
        .assert_problem(405);
    // 409: taken, not empty.
    s.create("/api/v1/domains", ADMIN, json!({"name": "dup.example"}))
        .await;
    s.post("/api/v1/domains", ADMIN, &json!({"name": "dup.example"}))
        .await
        .assert_problem(409);
    s.create(
        "/api/v1/mailboxes",
        ADMIN,
        json!({"address": "a@dup.example", "password": "correct horse battery", "quota_mb": 5}),
    )
    .await;
    s.call(
        "DELETE",
        "/api/v1/domains/dup.example",
        Some(ADMIN),
        None,
        &[],
    )
    .await
    .assert_problem(409);
    // 409 with the limit that was hit.
    let t = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Small", "kind": "customer", "limits": {"domains": 1}}),
        )
        .await;
    let tid = t["id"].as_u64().unwrap();
    s.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "one.example", "tenant": tid}),
    )
    .await;
    let p = s
        .post(
            "/api/v1/domains",
            ADMIN,
            &json!({"name": "two.example", "tenant": tid}),
        )
        .await
        .assert_problem(409);
    assert!(p["limit"].is_string(), "{p}");
    // 413: a body over the limit.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    // Announced by Content-Length and refused before the body is sent (RFC 9110 §10.1.1).
    s.call(
        "POST",
        "/api/v1/tenants",
        Some(ADMIN),
        Some(&big),
        &["Expect: 100-continue"],
    )
    .await
    .assert_problem(413);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_token_use_is_in_the_auth_log_and_actions_in_the_audit_trail() {
    let s = start().await;
    s.get("/api/v1/me", "mq_wrong-secret-value")
        .await
        .assert_problem(401);
    let log = s.get("/api/v1/logs/auth?ip=127.0.0.1", ADMIN).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let items = log.json()["items"].as_array().unwrap().clone();
    // The provider's own (successful) use of its token is there too, newest first.
    assert_eq!(items[0]["protocol"], "api");
    assert_eq!(items[0]["outcome"], "success");
    let rec = items
        .iter()
        .find(|r| r["protocol"] == "api" && r["outcome"] == "failure")
        .unwrap_or_else(|| panic!("no failed API sign-in in {items:?}"));
    assert_eq!(rec["remote"], "127.0.0.1");
    assert!(
        !rec.to_string().contains("wrong-secret"),
        "the secret leaked"
    );

    let t = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Audited", "kind": "customer"}),
        )
        .await;
    let audit = s.get("/api/v1/audit?limit=50", ADMIN).await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let v = audit.json();
    let rec = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["what"] == "tenant.create")
        .unwrap_or_else(|| panic!("no tenant.create in {v}"))
        .clone();
    assert_eq!(rec["from"], "127.0.0.1");
    assert!(
        rec["target"]
            .as_str()
            .unwrap()
            .contains(&t["id"].to_string())
    );
    // Paging through the audit trail one record at a time ends.
    let mut path = "/api/v1/audit?limit=1".to_string();
    let mut n = 0;
    while n < 100 {
        let p = s.get(&path, ADMIN).await.json();
        n += 1;
        match p["next"].as_str() {
            Some(c) => path = format!("/api/v1/audit?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert!(n > 1 && n < 100);
    // Transactions: none yet, but the search answers.
    let r = s
        .get(
            "/api/v1/logs/transactions?address=a@b.example&from=2020-01-01T00:00:00Z",
            ADMIN,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_downloads_as_csv_and_json() {
    let s = start().await;
    let month = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    let r = s
        .get(&format!("/api/v1/usage?month={month}&format=csv"), ADMIN)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.header("content-disposition").unwrap().contains(".csv"));
    assert!(
        r.body
            .starts_with("time,event,customer,customer_name,plan,manager\r\n")
    );
    let r = s
        .get(&format!("/api/v1/usage?month={month}&format=json"), ADMIN)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["counts"].is_object());
    let r = s.get("/api/v1/usage", ADMIN).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["tenant"]["counts"].is_object());
    s.get("/api/v1/usage?month=2026-13", ADMIN)
        .await
        .assert_problem(422);
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_replay_the_first_answer() {
    let s = start().await;
    let body = json!({"name": "Once", "kind": "customer"}).to_string();
    let key = "Idempotency-Key: 7c1e-create-once";
    let first = s
        .call("POST", "/api/v1/tenants", Some(ADMIN), Some(&body), &[key])
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = s
        .call("POST", "/api/v1/tenants", Some(ADMIN), Some(&body), &[key])
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let list = s.get("/api/v1/tenants", ADMIN).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let other = json!({"name": "Twice", "kind": "customer"}).to_string();
    s.call("POST", "/api/v1/tenants", Some(ADMIN), Some(&other), &[key])
        .await
        .assert_problem(422);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_over_its_rate_is_told_to_wait() {
    let s = start_with(Settings {
        burst: 3,
        per_second: 0.01,
        ..Settings::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(s.get("/api/v1/me", ADMIN).await.status, 200);
    }
    let r = s.get("/api/v1/me", ADMIN).await;
    r.assert_problem(429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
    // Guessing tokens is limited per client address.
    for _ in 0..3 {
        s.get("/api/v1/me", "mq_guess").await.assert_problem(401);
    }
    s.get("/api/v1/me", "mq_guess").await.assert_problem(429);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_spec_and_the_docs_page_are_served() {
    let s = start().await;
    let r = s.call("GET", "/api/v1/openapi.json", None, None, &[]).await;
    assert_eq!(r.status, 200);
    let spec = r.json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/v1/mailboxes/{address}"]["patch"].is_object());
    let r = s.call("GET", "/api/docs", None, None, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("/api/v1/openapi.json"));
    assert!(!r.body.contains("https://"));
}

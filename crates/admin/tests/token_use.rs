//! API sign-ins in the authentication log: a token's successful use once per token and client
//! address per interval (a busy integration does not flood the log), every failure each time.

mod common;

use common::{ADMIN, start};
use serde_json::Value;

fn api_records(v: &Value, outcome: &str) -> Vec<Value> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["protocol"] == "api" && r["outcome"] == outcome)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn token_use_is_recorded_without_flooding() {
    let s = start().await;
    let (r, tok) = s.reseller("Audited").await;
    for _ in 0..5 {
        assert_eq!(s.get("/api/v1/me", &tok).await.status, 200);
    }
    let me = s.get("/api/v1/me", &tok).await.json();
    let login = me["name"].as_str().expect("name").to_string();

    // The reseller reads its own use: once, from 127.0.0.1, with the token's id.
    let log = s
        .get(&format!("/api/v1/logs/auth?tenant={r}"), &tok)
        .await
        .json();
    let used = api_records(&log, "success");
    assert_eq!(used.len(), 1, "{log}");
    assert_eq!(used[0]["login"], login);
    assert_eq!(used[0]["remote"], "127.0.0.1");
    assert_eq!(used[0]["mechanism"], "bearer");
    assert!(used[0]["reason"].as_str().unwrap().starts_with("token "));

    // A second token of the same reseller is its own entry.
    let second = s
        .create(
            "/api/v1/tokens",
            &tok,
            serde_json::json!({"name": "second"}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.get("/api/v1/me", &second).await.status, 200);
    assert_eq!(s.get("/api/v1/me", &second).await.status, 200);
    let log = s
        .get(&format!("/api/v1/logs/auth?tenant={r}"), &tok)
        .await
        .json();
    assert_eq!(api_records(&log, "success").len(), 2, "{log}");

    // Every failure is recorded, each time, without the secret.
    for _ in 0..3 {
        s.get("/api/v1/me", "mq_not-a-real-token")
            .await
            .assert_problem(401);
    }
    let log = s.get("/api/v1/logs/auth", ADMIN).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let failed = api_records(&log.json(), "failure");
    assert_eq!(failed.len(), 3, "{}", log.body);
    assert!(!log.body.contains("not-a-real-token"));
}

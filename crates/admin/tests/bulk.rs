//! Bulk creation of mailboxes over HTTP (curl): a JSON body and a CSV upload, a result per row.

mod common;

use common::start;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn mailboxes_in_bulk_from_json_and_csv() {
    let s = start().await;
    let (r, tok) = s.reseller("Bulk Reseller").await;
    s.create(
        "/api/v1/domains",
        &tok,
        json!({"name": "bulk.example", "tenant": r}),
    )
    .await;
    let body = json!({"mailboxes": [
        {"address": "a@bulk.example", "password": "correct horse battery", "quota_mb": 10},
        {"address": "not an address", "password": "correct horse battery", "quota_mb": 10},
        {"address": "b@bulk.example", "password": "correct horse battery", "quota_mb": 10,
         "tier": "PREMIUM"},
        {"address": "a@bulk.example", "password": "correct horse battery", "quota_mb": 10},
    ]});
    let reply = s.post("/api/v1/mailboxes/bulk", &tok, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(v["failed"], 2);
    let statuses: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 422, 201, 409]);
    assert_eq!(v["results"][1]["problem"]["status"], 422);

    // One hundred rows as CSV, with a quoted password.
    let mut csv = String::from("address,password,quota_mb,tier\r\n");
    for i in 0..100 {
        csv.push_str(&format!("m{i}@bulk.example,\"pass, word {i}\",5,light\r\n"));
    }
    let reply = s
        .call(
            "POST",
            "/api/v1/mailboxes/bulk",
            Some(&tok),
            Some(&csv),
            &["Content-Type: text/csv"],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["created"], 100);
    let usage = s
        .get("/api/v1/usage?domain=bulk.example", &tok)
        .await
        .json();
    assert_eq!(usage["counts"]["mailboxes"]["LIGHT"], 100, "{usage}");

    // A CSV with an unknown column is refused as a whole; a token of another reseller sees
    // no domain to create in.
    let reply = s
        .call(
            "POST",
            "/api/v1/mailboxes/bulk",
            Some(&tok),
            Some("address,password,role\r\nz@bulk.example,x,admin\r\n"),
            &["Content-Type: text/csv"],
        )
        .await;
    reply.assert_problem(422);
    let (_, other) = s.reseller("Other").await;
    let reply = s
        .post(
            "/api/v1/mailboxes/bulk",
            &other,
            &json!({"mailboxes": [{"address": "q@bulk.example", "password": "correct horse battery", "quota_mb": 1}]}),
        )
        .await;
    assert_eq!(reply.json()["results"][0]["status"], 404);
}

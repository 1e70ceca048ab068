//! Sieve over HTTP (curl): a user's vacation, forwards and filters under `/me`, and bulk
//! filters for administrators, with a foreign tenant and a postmaster kept to their scope.

mod common;

use common::{ADMIN, Server, start};
use marque_core::{AccountId, Actor, NewToken, PrincipalId};
use serde_json::{Value, json};

const FILTER: &str = "require \"fileinto\";\r\nif header :contains \"subject\" \"spam\" {\r\n  fileinto \"Junk\";\r\n}\r\n";

async fn mailbox(s: &Server, tok: &str, address: &str, postmaster: bool) -> String {
    let m = s
        .create(
            "/api/v1/mailboxes",
            tok,
            json!({"address": address, "password": "correct horse battery", "quota_mb": 10,
                   "postmaster": postmaster}),
        )
        .await;
    let id = m["id"].as_u64().expect("mailbox id");
    let (_, secret) = s
        .core
        .create_token(
            &Actor::operator(),
            NewToken {
                name: "sieve".into(),
                principal: Some(PrincipalId::Mailbox(AccountId(id))),
                ..NewToken::default()
            },
        )
        .await
        .expect("mailbox token");
    secret
}

async fn put(s: &Server, path: &str, tok: &str, body: &Value) -> common::Reply {
    s.call("PUT", path, Some(tok), Some(&body.to_string()), &[])
        .await
}

async fn delete(s: &Server, path: &str, tok: &str) -> common::Reply {
    s.call("DELETE", path, Some(tok), None, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_manages_vacation_forwards_and_filters() {
    let s = start().await;
    let (r, tok) = s.reseller("Sieve Reseller").await;
    s.create(
        "/api/v1/domains",
        &tok,
        json!({"name": "a.example", "tenant": r}),
    )
    .await;
    let user = mailbox(&s, &tok, "u@a.example", false).await;

    let vacation = json!({"enabled": true, "subject": "Away", "body": "Back on Monday.",
        "start": "2026-07-01", "end": "2026-07-31", "days": 7, "addresses": []});
    let reply = put(&s, "/api/v1/me/vacation", &user, &vacation).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let got = s.get("/api/v1/me/vacation", &user).await.json();
    assert_eq!(got["subject"], "Away");
    assert_eq!(got["days"], 7);
    let list = s.get("/api/v1/me/filters", &user).await.json();
    assert_eq!(list["items"][0]["name"], "marque", "{list}");
    assert_eq!(list["items"][0]["active"], true);

    // The user's own filter: compiled first; then activated, with the section kept on top.
    let bad = put(
        &s,
        "/api/v1/me/filters/mine",
        &user,
        &json!({"script": "fileinto \"x\";"}),
    )
    .await;
    let p = bad.assert_problem(422);
    assert!(p["detail"].as_str().unwrap().contains("line 1"), "{p}");
    let reply = put(
        &s,
        "/api/v1/me/filters/mine",
        &user,
        &json!({"script": FILTER}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = s
        .post("/api/v1/me/filters/mine/activate", &user, &json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = put(
        &s,
        "/api/v1/me/forwards",
        &user,
        &json!({"addresses": ["copy@b.example"], "keep_copy": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mine = s.get("/api/v1/me/filters/mine", &user).await.json();
    let script = mine["script"].as_str().unwrap();
    assert!(script.starts_with("# BEGIN marque-managed"), "{script}");
    assert!(script.contains("redirect :copy \"copy@b.example\";"));
    assert!(script.ends_with(FILTER));
    assert_eq!(mine["active"], true);

    // Off again: the script is the user's own, byte for byte.
    assert_eq!(delete(&s, "/api/v1/me/vacation", &user).await.status, 204);
    let reply = put(&s, "/api/v1/me/forwards", &user, &json!({"addresses": []})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mine = s.get("/api/v1/me/filters/mine", &user).await.json();
    assert_eq!(mine["script"], FILTER);

    // The active script stays; another one goes.
    delete(&s, "/api/v1/me/filters/mine", &user)
        .await
        .assert_problem(409);
    assert_eq!(
        delete(&s, "/api/v1/me/filters/marque", &user).await.status,
        204
    );
    s.get("/api/v1/me/filters/marque", &user)
        .await
        .assert_problem(404);
    // Bad settings: a clear error.
    put(
        &s,
        "/api/v1/me/vacation",
        &user,
        &json!({"enabled": true, "body": "x", "start": "July"}),
    )
    .await
    .assert_problem(422);
    // Staff have no mailbox settings of their own.
    s.get("/api/v1/me/vacation", ADMIN)
        .await
        .assert_problem(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_filters_stay_within_the_callers_scope() {
    let s = start().await;
    let (a, tok_a) = s.reseller("Reseller A").await;
    let (b, tok_b) = s.reseller("Reseller B").await;
    for (name, t, tok) in [
        ("a.example", a, &tok_a),
        ("a2.example", a, &tok_a),
        ("b.example", b, &tok_b),
    ] {
        s.create("/api/v1/domains", tok, json!({"name": name, "tenant": t}))
            .await;
    }
    for i in 0..3 {
        mailbox(&s, &tok_a, &format!("m{i}@a.example"), false).await;
    }
    let pm = mailbox(&s, &tok_a, "pm@a.example", true).await;
    mailbox(&s, &tok_a, "x@a2.example", false).await;
    mailbox(&s, &tok_b, "y@b.example", false).await;

    let body = |sel: Value| {
        let mut v = json!({"name": "provider", "script": FILTER, "activate": true});
        if let (Value::Object(m), Value::Object(sel)) = (&mut v, sel) {
            m.extend(sel);
        }
        v
    };

    // The reseller over its whole tenant.
    let reply = s
        .post("/api/v1/sieve/bulk", &tok_a, &body(json!({"tenant": a})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["selected"], 5, "{v}");
    assert_eq!(v["succeeded"], 5);

    // Another reseller's domain or tenant does not exist for it.
    s.post(
        "/api/v1/sieve/bulk",
        &tok_b,
        &body(json!({"domain": "a.example"})),
    )
    .await
    .assert_problem(404);
    s.post("/api/v1/sieve/bulk", &tok_b, &body(json!({"tenant": a})))
        .await
        .assert_problem(404);

    // The postmaster: its own domain only.
    let reply = s
        .post(
            "/api/v1/sieve/bulk",
            &pm,
            &body(json!({"domain": "a.example"})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["selected"], 4);
    s.post(
        "/api/v1/sieve/bulk",
        &pm,
        &body(json!({"domain": "a2.example"})),
    )
    .await
    .assert_problem(404);
    s.post("/api/v1/sieve/bulk", &pm, &body(json!({"tenant": a})))
        .await
        .assert_problem(404);
    let reply = s
        .post(
            "/api/v1/sieve/bulk",
            &pm,
            &body(json!({"addresses": ["m1@a.example", "x@a2.example", "y@b.example"]})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let statuses: Vec<u64> = reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 404, 404]);

    // A script that does not compile, or no selection: refused as a whole.
    s.post(
        "/api/v1/sieve/bulk",
        &tok_a,
        &json!({"domain": "a.example", "name": "x", "script": "fileinto \"x\";"}),
    )
    .await
    .assert_problem(422);
    s.post(
        "/api/v1/sieve/bulk",
        &tok_a,
        &json!({"name": "x", "script": "keep;"}),
    )
    .await
    .assert_problem(422);

    // One audit record per call, readable by the reseller.
    let audit = s
        .get(&format!("/api/v1/audit?tenant={a}"), &tok_a)
        .await
        .json();
    let bulk = audit["items"]
        .as_array()
        .or(audit["records"].as_array())
        .unwrap()
        .iter()
        .filter(|r| r["what"] == "sieve.bulk")
        .count();
    assert!(bulk >= 2, "{audit}");
}

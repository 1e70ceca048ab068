//! The admin API over real HTTP (curl), against a bootstrapped core on 127.0.0.1:0.

mod common;

use common::{ADMIN, start};
use serde_json::json;

/// Provider → reseller (through a token minted for it) → customer → domain → mailboxes.
#[tokio::test(flavor = "multi_thread")]
async fn reseller_builds_customer_domain_and_mailboxes() {
    let s = start().await;
    let me = s.get("/api/v1/me", ADMIN).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["role"]["kind"], "admin");

    let (reseller, tok) = s.reseller("Acme Hosting").await;
    let me = s.get("/api/v1/me", &tok).await.json();
    assert_eq!(me["tenant"], reseller);

    let customer = s
        .create(
            "/api/v1/tenants",
            &tok,
            json!({"name": "Bakery", "kind": "customer", "support": "premium"}),
        )
        .await;
    assert_eq!(customer["parent"], reseller);
    let cid = customer["id"].as_u64().unwrap();
    let d = s
        .create(
            "/api/v1/domains",
            &tok,
            json!({"name": "bakery.example", "tenant": cid}),
        )
        .await;
    assert_eq!(d["name"], "bakery.example");
    for i in 0..5 {
        let m = s
            .create(
                "/api/v1/mailboxes",
                &tok,
                json!({"address": format!("u{i}@bakery.example"), "password": "correct horse battery", "quota_mb": 100}),
            )
            .await;
        assert_eq!(m["quota_mb"], 100);
    }
    let r = s.get("/api/v1/mailboxes/u1@bakery.example", &tok).await;
    assert_eq!(r.status, 200);
    let tag = r.header("etag").expect("ETag").to_string();

    // If-None-Match with the current tag: 304.
    let r = s
        .call(
            "GET",
            "/api/v1/mailboxes/u1@bakery.example",
            Some(&tok),
            None,
            &[&format!("If-None-Match: {tag}")],
        )
        .await;
    assert_eq!(r.status, 304);

    // PATCH with the current tag succeeds; again with the old one fails with 412.
    let body = json!({"quota_mb": 200, "tier": "PREMIUM", "postmaster": true}).to_string();
    let r = s
        .call(
            "PATCH",
            "/api/v1/mailboxes/u1@bakery.example",
            Some(&tok),
            Some(&body),
            &[&format!("If-Match: {tag}")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["quota_mb"], 200);
    assert_eq!(r.json()["tier"], "PREMIUM");
    let r = s
        .call(
            "PATCH",
            "/api/v1/mailboxes/u1@bakery.example",
            Some(&tok),
            Some(&json!({"enabled": false}).to_string()),
            &[&format!("If-Match: {tag}")],
        )
        .await;
    r.assert_problem(412);

    // Password reset through PATCH: the new one signs in.
    let r = s
        .patch(
            "/api/v1/mailboxes/u2@bakery.example",
            &tok,
            &json!({"password": "another long secret"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Pagination: five mailboxes, two at a time.
    let mut seen = Vec::new();
    let mut path = "/api/v1/mailboxes?domain=bakery.example&limit=2".to_string();
    loop {
        let page = s.get(&path, &tok).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let v = page.json();
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|m| m["address"].as_str().unwrap().to_string()),
        );
        match v["next"].as_str() {
            Some(c) => path = format!("/api/v1/mailboxes?domain=bakery.example&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);

    // Lists of tenants and domains, and deletion.
    let l = s.get("/api/v1/tenants", &tok).await.json();
    assert_eq!(l["items"].as_array().unwrap().len(), 1);
    let l = s
        .get(&format!("/api/v1/domains?tenant={cid}"), &tok)
        .await
        .json();
    assert_eq!(l["items"][0]["name"], "bakery.example");
    let r = s
        .call(
            "DELETE",
            "/api/v1/mailboxes/u4@bakery.example",
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 204);
    s.get("/api/v1/mailboxes/u4@bakery.example", &tok)
        .await
        .assert_problem(404);
}

/// A reseller's token sees nothing of another reseller's, and cannot set what only its
/// ancestors may.
#[tokio::test(flavor = "multi_thread")]
async fn a_reseller_token_is_confined_to_its_subtree() {
    let s = start().await;
    let (a, tok_a) = s.reseller("Reseller A").await;
    let (b, tok_b) = s.reseller("Reseller B").await;
    s.create(
        "/api/v1/domains",
        &tok_b,
        json!({"name": "b.example", "tenant": b}),
    )
    .await;
    s.create(
        "/api/v1/mailboxes",
        &tok_b,
        json!({"address": "x@b.example", "password": "correct horse battery", "quota_mb": 10}),
    )
    .await;

    // B's objects do not exist for A.
    for path in [
        format!("/api/v1/tenants/{b}"),
        "/api/v1/domains/b.example".to_string(),
        "/api/v1/mailboxes/x@b.example".to_string(),
        format!("/api/v1/domains?tenant={b}"),
        "/api/v1/mailboxes?domain=b.example".to_string(),
        format!("/api/v1/audit?tenant={b}"),
        format!("/api/v1/logs/auth?tenant={b}"),
    ] {
        s.get(&path, &tok_a).await.assert_problem(404);
    }
    s.patch(
        "/api/v1/mailboxes/x@b.example",
        &tok_a,
        &json!({"quota_mb": 1}),
    )
    .await
    .assert_problem(404);
    s.call(
        "DELETE",
        "/api/v1/domains/b.example",
        Some(&tok_a),
        None,
        &[],
    )
    .await
    .assert_problem(404);
    s.post(
        "/api/v1/domains",
        &tok_a,
        &json!({"name": "sneaky.example", "tenant": b}),
    )
    .await
    .assert_problem(404);

    // Its own limits belong to the provider: 403.
    let p = s
        .patch(
            &format!("/api/v1/tenants/{a}"),
            &tok_a,
            &json!({"limits": {"domains": 1000}}),
        )
        .await
        .assert_problem(403);
    assert!(p["detail"].as_str().unwrap().contains("tenant"));
    // Fields nobody may set through this resource are rejected, not ignored: 422.
    let p = s
        .post(
            "/api/v1/tenants",
            &tok_a,
            &json!({"name": "C", "kind": "customer", "role": "admin"}),
        )
        .await
        .assert_problem(422);
    assert!(p["detail"].as_str().unwrap().contains("role"));
    s.patch(
        &format!("/api/v1/tenants/{a}"),
        &tok_a,
        &json!({"parent": 1}),
    )
    .await
    .assert_problem(422);
    // A token for a tenant outside its subtree cannot be minted.
    s.post(
        "/api/v1/tokens",
        &tok_a,
        &json!({"name": "steal", "tenant": b}),
    )
    .await
    .assert_problem(404);
    // The provider sees both.
    assert_eq!(
        s.get(&format!("/api/v1/tenants/{b}"), ADMIN).await.status,
        200
    );
}

/// Aliases and mailing lists: create, read, change, delete.
#[tokio::test(flavor = "multi_thread")]
async fn aliases_and_lists_round_trip() {
    let s = start().await;
    let (r, tok) = s.reseller("Lists Reseller").await;
    s.create(
        "/api/v1/domains",
        &tok,
        json!({"name": "l.example", "tenant": r}),
    )
    .await;
    let a = s
        .create(
            "/api/v1/aliases",
            &tok,
            json!({"address": "info@l.example", "targets": ["someone@else.example"]}),
        )
        .await;
    assert_eq!(a["targets"], json!(["someone@else.example"]));
    let r2 = s
        .patch(
            "/api/v1/aliases/info@l.example",
            &tok,
            &json!({"targets": ["a@else.example", "b@else.example"]}),
        )
        .await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    let l = s.get("/api/v1/aliases?domain=l.example", &tok).await.json();
    assert_eq!(l["items"][0]["targets"].as_array().unwrap().len(), 2);

    s.create(
        "/api/v1/lists",
        &tok,
        json!({"address": "team@l.example", "name": "Team", "members": ["x@else.example"]}),
    )
    .await;
    let r3 = s
        .call(
            "PUT",
            "/api/v1/lists/team@l.example/members",
            Some(&tok),
            Some(&json!({"members": ["x@else.example", "y@else.example"]}).to_string()),
            &[],
        )
        .await;
    assert_eq!(r3.status, 200, "{}", r3.body);
    let m = s
        .get("/api/v1/lists/team@l.example/members", &tok)
        .await
        .json();
    assert_eq!(m["items"].as_array().unwrap().len(), 2);
    let lists = s.get("/api/v1/lists?domain=l.example", &tok).await.json();
    assert_eq!(lists["items"][0]["address"], "team@l.example");
    assert_eq!(lists["items"][0]["members"].as_array().unwrap().len(), 2);
    for path in [
        "/api/v1/aliases/info@l.example",
        "/api/v1/lists/team@l.example",
    ] {
        let d = s.call("DELETE", path, Some(&tok), None, &[]).await;
        assert_eq!(d.status, 204, "{path}: {}", d.body);
        s.get(path, &tok).await.assert_problem(404);
    }
}

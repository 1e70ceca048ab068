//! Brands and dedicated outbound identities over HTTP (curl): a reseller brands its customer
//! and the customer's domain, uploads a logo that is then served publicly with cache headers,
//! and sets a source IP; a foreign reseller sees none of it (404), a postmaster is refused
//! (403), a plan without the feature answers 403, and bad images answer 413/415.

mod common;

use common::{ADMIN, Server, start};
use marque_core::{AccountId, Actor, NewToken, PrincipalId};
use serde_json::{Value, json};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

async fn put(s: &Server, path: &str, token: &str, body: &Value) -> common::Reply {
    s.call("PUT", path, Some(token), Some(&body.to_string()), &[])
        .await
}

async fn delete(s: &Server, path: &str, token: &str) -> common::Reply {
    s.call("DELETE", path, Some(token), None, &[]).await
}

/// PUTs raw bytes with a content type through curl; returns (status, body, headers dump).
async fn upload(s: &Server, path: &str, token: &str, ctype: &str, bytes: &[u8]) -> (u16, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("logo");
    std::fs::write(&file, bytes).expect("write image");
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "-X", "PUT", "-w", "\n%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg("-H")
        .arg(format!("Content-Type: {ctype}"))
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(s.url(path))
        .output()
        .await
        .expect("curl must be installed (Debian package curl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let (body, code) = text.rsplit_once('\n').expect("status");
    (
        code.trim().parse().expect("code"),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// GETs a public image through curl: status, headers (lower-cased names), body bytes.
async fn fetch(s: &Server, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (head, body) = (dir.path().join("head"), dir.path().join("body"));
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "-w", "%{http_code}", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .arg(s.url(path))
        .output()
        .await
        .expect("curl must be installed (Debian package curl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("code");
    let headers = std::fs::read_to_string(&head)
        .expect("headers")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (code, headers, std::fs::read(&body).unwrap_or_default())
}

fn brand(name: &str, hosts: &[&str]) -> Value {
    json!({"name": name, "hostnames": hosts,
           "colours": {"primary": "#102030", "accent": "#405060"},
           "support_url": "https://help.example/"})
}

async fn plan(s: &Server, name: &str, on: bool) -> u64 {
    s.create(
        "/api/v1/plans",
        ADMIN,
        json!({"name": name, "tier": "STANDARD", "default_mailbox_mb": 100,
               "max_mailbox_mb": 1000,
               "features": {"custom_branding": on, "tls": on, "dedicated_ip": on,
                            "api_access": true}}),
    )
    .await["id"]
        .as_u64()
        .expect("plan id")
}

#[tokio::test(flavor = "multi_thread")]
async fn brands_logos_and_outbound_identities_over_http() {
    let s = start().await;
    let full = plan(&s, "Full", true).await;
    let bare = plan(&s, "Bare", false).await;
    let (r, rtok) = s.reseller("Reseller").await;
    let (_, foreign) = s.reseller("Other").await;
    let set_plan = |t: u64, p: u64| {
        let s = &s;
        async move {
            let r = s
                .patch(&format!("/api/v1/tenants/{t}"), ADMIN, &json!({"plan": p}))
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    };
    set_plan(r, full).await;
    let c = s
        .create(
            "/api/v1/tenants",
            &rtok,
            json!({"name": "Customer", "kind": "customer", "plan": full}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    s.create(
        "/api/v1/domains",
        &rtok,
        json!({"name": "c.example", "tenant": c}),
    )
    .await;

    // The reseller brands its customer; the domain shows it.
    let tb = format!("/api/v1/tenants/{c}/brand");
    let r1 = put(&s, &tb, &rtok, &brand("Customer Mail", &["mail.c.example"])).await;
    assert_eq!(r1.status, 200, "{}", r1.body);
    assert_eq!(r1.json()["brand"]["hostnames"][0], "mail.c.example");
    let eff = s
        .get("/api/v1/domains/c.example/brand/effective", &rtok)
        .await;
    assert_eq!(eff.status, 200, "{}", eff.body);
    assert_eq!(eff.json()["brand"]["name"], "Customer Mail");
    assert_eq!(eff.json()["source"]["tenant"], c);
    // A taken hostname is a conflict; a bad one is invalid.
    put(
        &s,
        &format!("/api/v1/tenants/{r}/brand"),
        ADMIN,
        &brand("R", &["mail.c.example"]),
    )
    .await
    .assert_problem(409);
    put(&s, &tb, &rtok, &brand("X", &["not a host"]))
        .await
        .assert_problem(422);
    put(
        &s,
        &tb,
        &rtok,
        &json!({"name": "X", "colours": {"primary": "red", "accent": "#000000"}}),
    )
    .await
    .assert_problem(422);

    // The domain overrides it.
    let db = "/api/v1/domains/c.example/brand";
    assert_eq!(put(&s, db, &rtok, &brand("Domain", &[])).await.status, 200);
    let eff = s
        .get("/api/v1/domains/c.example/brand/effective", &rtok)
        .await
        .json();
    assert_eq!(eff["brand"]["name"], "Domain");
    assert_eq!(eff["brand"]["hostnames"][0], "mail.c.example", "inherited");
    let listed = s.get("/api/v1/brands", &rtok).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");

    // Logos: type by content, size limit, public and cacheable.
    let logo = format!("{tb}/logo");
    assert_eq!(
        upload(&s, &logo, &rtok, "image/svg+xml", b"<svg/>").await.0,
        415
    );
    assert_eq!(
        upload(&s, &logo, &rtok, "image/png", b"<svg/>").await.0,
        415
    );
    let big = [PNG, &vec![0u8; 300 * 1024]].concat();
    assert_eq!(upload(&s, &logo, &rtok, "image/png", &big).await.0, 413);
    let (status, up) = upload(&s, &logo, &rtok, "image/png", PNG).await;
    assert_eq!(status, 200, "{up}");
    let url = up["logo_url"].as_str().unwrap().to_string();
    let (status, headers, bytes) = fetch(&s, &url).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "image/png");
    assert!(header("cache-control").contains("immutable"), "{headers:?}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(fetch(&s, "/brand/logo/999999").await.0, 404);
    assert_eq!(s.get(&tb, &rtok).await.json()["logo_url"], url.as_str());

    // Outbound identity with a dedicated IP plan.
    let ob = format!("/api/v1/tenants/{c}/outbound");
    let o = put(
        &s,
        &ob,
        &rtok,
        &json!({"source_ip": "127.0.0.9", "ehlo": "out.c.example"}),
    )
    .await;
    assert_eq!(o.status, 200, "{}", o.body);
    assert_eq!(o.json()["own"]["source_ip"], "127.0.0.9");
    let o = s
        .get("/api/v1/domains/c.example/outbound", &rtok)
        .await
        .json();
    assert_eq!(o["own"], Value::Null);
    assert_eq!(o["effective"]["ehlo"], "out.c.example");
    put(&s, &ob, &rtok, &json!({"source_ip": "not-an-ip"}))
        .await
        .assert_problem(422);
    put(&s, &ob, &rtok, &json!({"ehlo": "bad name"}))
        .await
        .assert_problem(422);

    // Another reseller sees nothing of it.
    for path in [
        tb.clone(),
        db.to_string(),
        ob.clone(),
        "/api/v1/domains/c.example/brand/effective".into(),
        "/api/v1/domains/c.example/outbound".into(),
    ] {
        s.get(&path, &foreign).await.assert_problem(404);
        if !path.ends_with("effective") {
            let body = if path.ends_with("outbound") {
                json!({"source_ip": "127.0.0.8"})
            } else {
                brand("X", &[])
            };
            put(&s, &path, &foreign, &body).await.assert_problem(404);
            delete(&s, &path, &foreign).await.assert_problem(404);
        }
    }
    assert_eq!(upload(&s, &logo, &foreign, "image/png", PNG).await.0, 404);
    let listed = s.get("/api/v1/brands", &foreign).await.json();
    assert_eq!(listed["items"], json!([]));

    // A postmaster reads its domain's brand but may not change it.
    let pm = s
        .create(
            "/api/v1/mailboxes",
            &rtok,
            json!({"address": "pm@c.example", "password": "a password", "postmaster": true}),
        )
        .await;
    let (_, pmtok) = s
        .core
        .create_token(
            &Actor::operator(),
            NewToken {
                name: "pm".into(),
                principal: Some(PrincipalId::Mailbox(AccountId(pm["id"].as_u64().unwrap()))),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(s.get(db, &pmtok).await.status, 200);
    put(&s, db, &pmtok, &brand("PM", &[]))
        .await
        .assert_problem(403);
    delete(&s, db, &pmtok).await.assert_problem(403);
    put(
        &s,
        "/api/v1/domains/c.example/outbound",
        &pmtok,
        &json!({"source_ip": "127.0.0.7"}),
    )
    .await
    .assert_problem(403);
    let listed = s.get("/api/v1/brands", &pmtok).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    // A plan without the features: 403 naming them; the records stop showing.
    set_plan(c, bare).await;
    let p = put(&s, db, &rtok, &brand("Again", &[]))
        .await
        .assert_problem(403);
    assert!(
        p["detail"].as_str().unwrap().contains("custom branding"),
        "{p}"
    );
    let p = put(&s, &ob, &rtok, &json!({"source_ip": "127.0.0.9"}))
        .await
        .assert_problem(403);
    assert!(
        p["detail"].as_str().unwrap().contains("dedicated IP"),
        "{p}"
    );
    let eff = s
        .get("/api/v1/domains/c.example/brand/effective", &rtok)
        .await
        .json();
    assert_eq!(eff["source"]["tenant"], 1, "the built-in brand: {eff}");

    // Removing frees the hostname and the logo.
    assert_eq!(delete(&s, &tb, &rtok).await.status, 204);
    assert_eq!(fetch(&s, &url).await.0, 404);
    s.get(&tb, &rtok).await.assert_problem(404);
    assert_eq!(delete(&s, &ob, &rtok).await.status, 204);
    delete(&s, &ob, &rtok).await.assert_problem(404);
    set_plan(r, full).await;
    let again = put(
        &s,
        &format!("/api/v1/tenants/{r}/brand"),
        ADMIN,
        &brand("R", &["mail.c.example"]),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
}

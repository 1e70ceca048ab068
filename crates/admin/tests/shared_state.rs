//! Two API servers over the same store (as two processes or machines over one database): an
//! Idempotency-Key sent to both runs once, a token's rate limit counts the requests of both,
//! and a panel session opened on one is good on the other.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::panel::PanelClient;
use common::{ADMIN, Server, start_with};
use marque_admin::{Api, Settings};
use marque_tests::services::loopback;
use marque_tests::{Offer, Services};
use serde_json::json;

/// A second API over `s`'s store; its URL base and what keeps it running.
async fn second(s: &Server, settings: Settings) -> (String, Services) {
    let tcp = loopback().await;
    let base = format!("http://{}", tcp.local_addr().expect("address"));
    let services = Services::new(Duration::from_secs(1));
    let api = Arc::new(Api::new(&s.hosting, "admin.test", settings));
    services.serve("http", tcp, Offer::Plain, api);
    (base, services)
}

/// `curl` of `url` with a bearer token, a JSON body and headers: (status, body).
async fn curl(method: &str, url: &str, body: Option<&str>, headers: &[&str]) -> (u16, String) {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "30",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ])
    .args(["-H", &format!("Authorization: Bearer {ADMIN}")]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-raw", b]);
    }
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().await.expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.trim().parse().expect("status"), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_sent_to_two_servers_creates_one_resource() {
    let a = start_with(Settings::default()).await;
    let (b, _b) = second(&a, Settings::default()).await;
    let body = json!({"name": "Once", "kind": "customer"}).to_string();
    let key = "Idempotency-Key: same-key-on-two-servers";
    let url_a = a.url("/api/v1/tenants");
    let url_b = format!("{b}/api/v1/tenants");
    let headers = [key];
    let (ra, rb) = tokio::join!(
        curl("POST", &url_a, Some(&body), &headers),
        curl("POST", &url_b, Some(&body), &headers),
    );
    // One of them ran; the other replayed its answer or was told it is still running.
    let statuses = [ra.0, rb.0];
    assert!(statuses.contains(&201), "{ra:?} {rb:?}");
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{ra:?} {rb:?}"
    );
    let created = if ra.0 == 201 { &ra.1 } else { &rb.1 };
    let id = serde_json::from_str::<serde_json::Value>(created).unwrap()["id"].clone();
    // Once the first has answered, a retry on either server replays it.
    for url in [&url_a, &url_b] {
        let (status, again) = curl("POST", url, Some(&body), &[key]).await;
        assert_eq!(status, 201, "{again}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&again).unwrap()["id"],
            id
        );
    }
    let list = a.get("/api/v1/tenants", ADMIN).await.json();
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Once")]);
    // The same key with another body is refused on the server that did not run it, too.
    let other = json!({"name": "Twice", "kind": "customer"}).to_string();
    let (status, _) = curl("POST", &url_b, Some(&other), &[key]).await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_counts_the_requests_of_every_server() {
    let settings = Settings {
        burst: 4,
        per_second: 0.01,
        ..Settings::default()
    };
    let a = start_with(settings).await;
    let (b, _b) = second(&a, settings).await;
    for url in [a.url("/api/v1/me"), format!("{b}/api/v1/me")] {
        for _ in 0..2 {
            assert_eq!(curl("GET", &url, None, &[]).await.0, 200);
        }
    }
    // Four taken, two on each: the fifth is refused on both.
    assert_eq!(curl("GET", &a.url("/api/v1/me"), None, &[]).await.0, 429);
    assert_eq!(
        curl("GET", &format!("{b}/api/v1/me"), None, &[]).await.0,
        429
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panel_session_is_good_on_every_server_and_ends_on_every_server() {
    let a = start_with(Settings::default()).await;
    let (b, _b) = second(&a, Settings::default()).await;
    let customer = a
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Bakery", "kind": "customer"}),
        )
        .await;
    a.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "bakery.example", "tenant": customer["id"]}),
    )
    .await;
    a.create(
        "/api/v1/mailboxes",
        ADMIN,
        json!({"address": "pm@bakery.example", "password": "postmaster-password",
               "quota_mb": 100, "postmaster": true}),
    )
    .await;
    let mut panel = PanelClient::new(&a);
    panel.sign_in("pm@bakery.example", "postmaster-password");
    assert_eq!(panel.get("/admin/domains/bakery.example").status, 200);
    // The same cookie on the other server (cookies do not depend on the port).
    panel.base = b.clone();
    let page = panel.get("/admin/domains/bakery.example");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("bakery.example"));
    // Signing out on one ends the session on both.
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token in the page")
        .to_string();
    let out = panel.run("POST", "/admin/logout", Some(&format!("csrf={csrf}")));
    assert_eq!(out.status, 303, "{}", out.body);
    panel.base = a.url("");
    let gone = panel.get("/admin/domains/bakery.example");
    assert_eq!(gone.status, 303);
    assert!(gone.headers.contains("location: /admin/login"));
}

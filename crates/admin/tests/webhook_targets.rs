//! Where webhooks may go, over real HTTP (curl for the API, Python's `http.server` as
//! receivers, a hickory-server zone on loopback for names): internal addresses in every
//! spelling are refused when a webhook is created or changed; at delivery the name is
//! resolved and vetted again (a name that now points inside is not sent to), a redirect to an
//! internal address is not followed, and the delivery log keeps only the answer's status.

mod common;

use std::time::Duration;

use common::{Server, start_at};
use marque_admin::Settings;
use marque_admin::webhooks::{DispatchSettings, Dispatcher};
use marque_hosting::Hosting;
use marque_hosting::dns::DnsSettings;
use marque_hosting::webhook_target::TargetPolicy;
use marque_session::Shutdown;
use marque_tests::dns::{self, RecordType, TestDns, Zone, rr};
use serde_json::{Value, json};

/// A receiver on `argv[1]` that records every request's path in `argv[2]` and answers
/// `/redirect` with a 302 to `argv[3]`, anything else with 200 and a body.
const RECEIVER: &str = r#"
import http.server, sys
host, log, target = sys.argv[1], sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "a") as f:
            f.write(self.path + "\n")
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", target)
            body = b"moved to " + target.encode()
        else:
            self.send_response(500)
            body = b"internal page: secret-banner-text"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer((host, 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct Receiver {
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl Receiver {
    async fn start(host: &str, redirect_to: &str) -> Receiver {
        use tokio::io::AsyncBufReadExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("paths");
        let mut child = tokio::process::Command::new("python3")
            .args(["-c", RECEIVER, host])
            .arg(&log)
            .arg(redirect_to)
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 must be installed (Debian package python3)");
        let out = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::io::BufReader::new(out)
            .read_line(&mut line)
            .await
            .expect("receiver port");
        Receiver {
            port: line.trim().parse().expect("a port number"),
            log,
            _dir: dir,
            _child: child,
        }
    }

    fn paths(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// An API whose webhooks may reach `allow` only (besides public addresses), names answered
/// by `dns`.
async fn server(dns: &TestDns, allow: &[&str]) -> Server {
    let settings = DnsSettings {
        nameservers: vec![dns.addr],
        timeout: Duration::from_secs(3),
        ..DnsSettings::default()
    };
    let allow = allow.iter().map(|n| n.parse().expect("range")).collect();
    start_at(Settings::default(), move |core, api| {
        Hosting::new(core)
            .with_dns(settings)
            .with_webhook_targets(TargetPolicy {
                allow,
                own: vec![api],
            })
    })
    .await
}

fn dispatcher(s: &Server) -> Shutdown {
    let stop = Shutdown::new();
    let settings = DispatchSettings {
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
        max_attempts: 2,
        roots: "/nonexistent/roots.pem".into(),
        ..DispatchSettings::default()
    };
    let d = Dispatcher::new(&s.hosting, settings).expect("dispatcher");
    tokio::spawn(d.run(stop.signal()));
    stop
}

fn hook(url: &str) -> Value {
    json!({"url": url, "events": ["mailbox.created"]})
}

/// Creates a mailbox in a new domain of `tenant`: one `mailbox.created` event.
async fn event(s: &Server, tok: &str, tenant: u64, domain: &str) {
    s.create(
        "/api/v1/domains",
        tok,
        json!({"name": domain, "tenant": tenant}),
    )
    .await;
    s.create(
        "/api/v1/mailboxes",
        tok,
        json!({"address": format!("u@{domain}"), "password": "correct horse battery",
               "quota_mb": 10}),
    )
    .await;
}

/// The delivery log of webhook `id`, once it holds more than `more_than` entries and its
/// newest entry's outcome is `outcome`.
async fn log_until(s: &Server, tok: &str, id: u64, more_than: usize, outcome: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for _ in 0..400 {
        let r = s
            .get(&format!("/api/v1/webhooks/{id}/deliveries"), tok)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        items = r.json()["items"].as_array().cloned().unwrap_or_default();
        if items.len() > more_than && items.first().is_some_and(|i| i["outcome"] == outcome) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {outcome} delivery: {items:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_targets_are_refused_in_every_spelling() {
    let dns = dns::serve(["hooks.test"].map(Zone::new)).await;
    dns.add(rr("inside.hooks.test", "A", "10.0.0.1")).await;
    dns.add(rr("meta.hooks.test", "A", "169.254.169.254")).await;
    dns.add(rr("public.hooks.test", "A", "93.184.215.14")).await;
    let s = server(&dns, &[]).await;
    let (_, tok) = s.reseller("Hooks").await;
    let api = s.addr.port();

    for (url, why) in [
        ("http://127.0.0.1:8080/x".to_string(), "loopback"),
        ("http://[::1]/x".into(), "loopback"),
        ("http://localhost/x".into(), "loopback"),
        ("http://LocalHost./x".into(), "loopback"),
        ("http://api.localhost/x".into(), "loopback"),
        ("http://2130706433/x".into(), "loopback"),
        ("http://0x7f.0.0.1/x".into(), "loopback"),
        ("http://0177.0.0.1/x".into(), "loopback"),
        ("http://127.1/x".into(), "loopback"),
        ("http://[::ffff:127.0.0.1]/x".into(), "loopback"),
        ("http://0.0.0.0/x".into(), "unspecified"),
        (
            "http://169.254.169.254/latest/meta-data/".into(),
            "link-local",
        ),
        ("http://10.0.0.1/x".into(), "private"),
        ("http://192.168.1.10/x".into(), "private"),
        ("http://100.64.0.1/x".into(), "CGNAT"),
        ("http://[fd00::1]/x".into(), "unique-local"),
        ("http://[fe80::1]/x".into(), "link-local"),
        ("http://[::ffff:10.0.0.1]/x".into(), "private"),
        ("http://224.0.0.1/x".into(), "multicast"),
        (
            "https://inside.hooks.test/x".into(),
            "inside.hooks.test resolves to it",
        ),
        ("http://meta.hooks.test/x".into(), "link-local"),
        ("http://nowhere.hooks.test/x".into(), "no address"),
        (
            format!("http://127.0.0.1:{api}/api/v1/tenants"),
            "platform's own listeners",
        ),
    ] {
        let r = s.post("/api/v1/webhooks", &tok, &hook(&url)).await;
        let p = r.assert_problem(422);
        assert_eq!(p["field"], "url", "{url}: {p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "{url}: {detail}");
    }
    // A public address is accepted; changing it to an internal one is not.
    let w = s
        .create(
            "/api/v1/webhooks",
            &tok,
            hook("https://public.hooks.test/in"),
        )
        .await;
    let id = w["id"].as_u64().expect("id");
    let r = s
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &tok,
            &json!({"url": "http://2130706433/x"}),
        )
        .await;
    assert!(
        r.assert_problem(422)["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("written 2130706433")
    );
    let listed = s.get("/api/v1/webhooks", &tok).await.json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn allowed_ranges_still_exclude_the_platform_itself() {
    let dns = dns::serve(["hooks.test"].map(Zone::new)).await;
    let s = server(&dns, &["127.0.0.0/8"]).await;
    let (_, tok) = s.reseller("Hooks").await;
    let own = format!("http://127.0.0.1:{}/api/v1/tenants", s.addr.port());
    let p = s
        .post("/api/v1/webhooks", &tok, &hook(&own))
        .await
        .assert_problem(422);
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("platform's own listeners"), "{detail}");
    s.create("/api/v1/webhooks", &tok, hook("http://127.0.0.9:9/allowed"))
        .await;
    s.post("/api/v1/webhooks", &tok, &hook("http://10.0.0.1/x"))
        .await
        .assert_problem(422);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed_and_names_are_vetted_at_each_delivery() {
    let dns = dns::serve(["hooks.test"].map(Zone::new)).await;
    // The internal service a redirect points at, on 127.0.0.1, which webhooks may not reach.
    let inside = Receiver::start("127.0.0.1", "").await;
    let stolen = format!("http://127.0.0.1:{}/stolen", inside.port);
    // The receivers webhooks may reach, on 127.0.0.2.
    let outside = Receiver::start("127.0.0.2", &stolen).await;
    dns.add(rr("hooks.hooks.test", "A", "127.0.0.2")).await;
    let s = server(&dns, &["127.0.0.2/32"]).await;
    let stop = dispatcher(&s);
    let (t, tok) = s.reseller("Hooks").await;

    let redirecting = s
        .create(
            "/api/v1/webhooks",
            &tok,
            hook(&format!("http://127.0.0.2:{}/redirect", outside.port)),
        )
        .await;
    let failing = s
        .create(
            "/api/v1/webhooks",
            &tok,
            hook(&format!("http://hooks.hooks.test:{}/plain", outside.port)),
        )
        .await;
    event(&s, &tok, t, "one.example").await;

    // The redirect is answered, not followed: its status is all that is kept.
    let id = redirecting["id"].as_u64().expect("id");
    let items = log_until(&s, &tok, id, 0, "failed").await;
    assert!(
        items
            .iter()
            .all(|i| i["status"] == 302 && i["error"].is_null()),
        "{items:#?}"
    );
    let id = failing["id"].as_u64().expect("id");
    let items = log_until(&s, &tok, id, 0, "failed").await;
    assert!(items.iter().all(|i| i["status"] == 500), "{items:#?}");
    let before = items.len();
    let text = json!(items).to_string();
    assert!(
        !text.contains("secret-banner-text") && !text.contains("stolen"),
        "{text}"
    );
    assert!(outside.paths().iter().any(|p| p == "/redirect"));
    assert!(inside.paths().is_empty(), "{:?}", inside.paths());

    // The name now points inside (DNS rebinding): vetted again, it is not sent to.
    dns.remove("hooks.hooks.test", RecordType::A).await;
    dns.add(rr("hooks.hooks.test", "A", "127.0.0.1")).await;
    let plain = |r: &Receiver| r.paths().iter().filter(|p| *p == "/plain").count();
    let seen = plain(&outside);
    event(&s, &tok, t, "two.example").await;
    let items = log_until(&s, &tok, id, before, "failed").await;
    let newest = &items[0];
    assert!(newest["status"].is_null(), "{newest}");
    let error = newest["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("loopback") && error.contains("hooks.hooks.test"),
        "{error}"
    );
    assert_eq!(
        newest["attempt"], 1,
        "a refused target is not retried: {items:#?}"
    );
    assert_eq!(plain(&outside), seen);
    assert!(inside.paths().is_empty(), "{:?}", inside.paths());
    stop.trigger();
}

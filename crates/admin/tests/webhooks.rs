//! Webhooks end to end: a real HTTP receiver (Python's `http.server` on 127.0.0.1) checks every
//! signature with Python's own `hmac`, answers `500` twice to one webhook to see the retries,
//! and records what each webhook received, so that the test can see that no tenant's webhook
//! ever receives another tenant's events.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{ADMIN, Server, start};
use marque_admin::webhooks::{DispatchSettings, Dispatcher};
use marque_core::AccountId;
use marque_session::Shutdown;
use marque_store::lease::Holder;
use serde_json::{Value, json};

/// The receiver: `/fail2/...` answers 500 to the first two tries of each delivery, everything
/// else 200. Each request is appended to `log.jsonl` with whether its signature verified
/// against the secret `secrets.json` holds for its path.
const RECEIVER: &str = r#"
import hashlib, hmac, http.server, json, os, sys, threading
root = sys.argv[1]
lock = threading.Lock()
tries = {}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sig = self.headers.get("X-Marque-Signature", "")
        parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
        with open(os.path.join(root, "secrets.json")) as f:
            secret = json.load(f).get(self.path, "")
        want = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body,
                        hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(want, parts.get("v1", ""))
        delivery = self.headers.get("X-Marque-Delivery", "")
        with lock:
            n = tries.get((self.path, delivery), 0) + 1
            tries[(self.path, delivery)] = n
            status = 500 if self.path.startswith("/fail2") and n <= 2 else 200
            rec = {"path": self.path, "event": self.headers.get("X-Marque-Event"),
                   "delivery": delivery, "valid": valid, "status": status,
                   "body": json.loads(body)}
            with open(os.path.join(root, "log.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct Receiver {
    port: u16,
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl Receiver {
    async fn start() -> Receiver {
        use tokio::io::AsyncBufReadExt;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("secrets.json"), "{}").expect("secrets");
        let mut child = tokio::process::Command::new("python3")
            .args(["-c", RECEIVER])
            .arg(dir.path())
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
        let port = line.trim().parse().expect("a port number");
        Receiver { port, dir, child }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn secrets(&self, map: &Value) {
        std::fs::write(self.dir.path().join("secrets.json"), map.to_string()).expect("secrets");
    }

    fn log(&self) -> Vec<Value> {
        read_log(&self.dir.path().join("log.jsonl"))
    }

    /// Waits until `done` holds for the log (the dispatcher runs on its own schedule).
    async fn until(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..600 {
            let log = self.log();
            if done(&log) {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: not seen; the receiver got {:#?}", self.log());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn read_log(p: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn on<'a>(log: &'a [Value], path: &str) -> Vec<&'a Value> {
    log.iter().filter(|r| r["path"] == path).collect()
}

/// Starts a dispatcher with short waits; dropping the [`Shutdown`] does not stop it, trigger it.
fn dispatcher(s: &Server) -> Shutdown {
    dispatcher_as(s, Holder::local())
}

/// [`dispatcher`] claiming deliveries as `node`.
fn dispatcher_as(s: &Server, node: Holder) -> Shutdown {
    let stop = Shutdown::new();
    let settings = DispatchSettings {
        node,
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(400),
        max_attempts: 5,
        roots: "/nonexistent/roots.pem".into(),
        ..DispatchSettings::default()
    };
    let d = Dispatcher::new(&s.hosting, settings).expect("dispatcher");
    tokio::spawn(d.run(stop.signal()));
    stop
}

async fn mailbox(s: &Server, tok: &str, tenant: u64, domain: &str, local: &str) -> u64 {
    s.create(
        "/api/v1/domains",
        tok,
        json!({"name": domain, "tenant": tenant}),
    )
    .await;
    let m = s
        .create(
            "/api/v1/mailboxes",
            tok,
            json!({"address": format!("{local}@{domain}"), "password": "correct horse battery",
                   "quota_mb": 10}),
        )
        .await;
    m["id"].as_u64().expect("account id")
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_retried_and_scoped_to_the_subtree() {
    let s = start().await;
    let rx = Receiver::start().await;
    let stop = dispatcher(&s);
    let (a, tok_a) = s.reseller("Alpha").await;
    let (b, tok_b) = s.reseller("Beta").await;

    let hook = |url: String, events: Value| json!({"url": url, "events": events});
    let wa = s
        .create(
            "/api/v1/webhooks",
            &tok_a,
            hook(
                rx.url("/a"),
                json!(["mailbox.created", "mailbox.deleted", "mailbox.over_quota"]),
            ),
        )
        .await;
    let wb = s
        .create(
            "/api/v1/webhooks",
            &tok_b,
            hook(rx.url("/fail2/b"), json!(["mailbox.created"])),
        )
        .await;
    let wp = s
        .create(
            "/api/v1/webhooks",
            ADMIN,
            hook(rx.url("/p"), json!(["mailbox.created"])),
        )
        .await;
    for w in [&wa, &wb, &wp] {
        assert!(w["secret"].as_str().unwrap().starts_with("whsec_"), "{w}");
        assert_eq!(w["enabled"], true);
    }
    rx.secrets(&json!({"/a": wa["secret"], "/fail2/b": wb["secret"], "/p": wp["secret"]}));
    let (id_a, id_b) = (wa["id"].as_u64().unwrap(), wb["id"].as_u64().unwrap());

    // The secret is shown once; another reseller sees neither the webhook nor its log.
    let shown = s.get(&format!("/api/v1/webhooks/{id_a}"), &tok_a).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.json().get("secret").is_none(), "{}", shown.body);
    s.get(&format!("/api/v1/webhooks/{id_a}"), &tok_b)
        .await
        .assert_problem(404);
    s.get(&format!("/api/v1/webhooks/{id_a}/deliveries"), &tok_b)
        .await
        .assert_problem(404);
    let listed = s.get("/api/v1/webhooks", &tok_b).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    mailbox(&s, &tok_a, a, "alpha.example", "ann").await;
    mailbox(&s, &tok_b, b, "beta.example", "bob").await;

    // Beta's receiver answered 500 twice: the same delivery came three times.
    let log = rx
        .until("three tries of beta's delivery", |l| {
            on(l, "/fail2/b").len() >= 3
        })
        .await;
    let tries = on(&log, "/fail2/b");
    assert_eq!(tries.len(), 3, "{tries:#?}");
    assert!(tries.iter().all(|t| t["delivery"] == tries[0]["delivery"]));
    assert_eq!(
        tries
            .iter()
            .map(|t| t["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert_eq!(tries[0]["body"]["data"]["address"], "bob@beta.example");
    assert_eq!(tries[0]["event"], "mailbox.created");
    rx.until("the provider sees both", |l| on(l, "/p").len() >= 2)
        .await;

    // Alpha's mailbox goes; the over-quota event comes once however often delivery is refused.
    s.call(
        "DELETE",
        "/api/v1/mailboxes/ann@alpha.example",
        Some(&tok_a),
        None,
        &[],
    )
    .await;
    let acct_a2 = mailbox(&s, &tok_a, a, "alpha2.example", "amy").await;
    s.core.report_over_quota(AccountId(acct_a2), "smtp").await;
    s.core.report_over_quota(AccountId(acct_a2), "imap").await;
    // The provider's webhook gets amy's creation on its own schedule: wait for it too.
    let log = rx
        .until("alpha's four events and the provider's third", |l| {
            on(l, "/a").len() >= 4 && on(l, "/p").len() >= 3
        })
        .await;
    // Deliveries sent in the same round may arrive in any order.
    let mut events: Vec<&str> = on(&log, "/a")
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            "mailbox.created",
            "mailbox.created",
            "mailbox.deleted",
            "mailbox.over_quota"
        ],
        "{log:#?}"
    );

    // Every request was signed with its webhook's secret, and no webhook saw the other
    // reseller's mail.
    let log = rx.log();
    assert!(log.iter().all(|r| r["valid"] == true), "{log:#?}");
    let text = |path: &str| json!(on(&log, path)).to_string();
    assert!(!text("/a").contains("beta.example"));
    assert!(!text("/fail2/b").contains("alpha"));
    assert!(text("/p").contains("alpha.example") && text("/p").contains("beta.example"));
    assert_eq!(on(&log, "/p").len(), 3, "the provider sees every creation");

    // Beta's delivery log: newest first, two failures then the success. The receiver logs a
    // request before it answers, so the dispatcher may not have recorded the answer yet.
    let mut items = Vec::new();
    for _ in 0..600 {
        let d = s
            .get(&format!("/api/v1/webhooks/{id_b}/deliveries"), &tok_b)
            .await;
        assert_eq!(d.status, 200, "{}", d.body);
        items = d.json()["items"].as_array().unwrap().clone();
        if items.first().is_some_and(|i| i["outcome"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen: Vec<(u64, Option<u64>, &str)> = items
        .iter()
        .map(|i| {
            (
                i["attempt"].as_u64().unwrap(),
                i["status"].as_u64(),
                i["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (3, Some(200), "delivered"),
            (2, Some(500), "retrying"),
            (1, Some(500), "retrying")
        ]
    );
    stop.trigger();
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_logged_and_given_up() {
    let s = start().await;
    let stop = dispatcher(&s);
    let (r, tok) = s.reseller("Gamma").await;
    // Nothing listens on this port once the listener is dropped.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let w = s
        .create(
            "/api/v1/webhooks",
            &tok,
            json!({"url": format!("http://127.0.0.1:{port}/gone"), "events": ["mailbox.created"]}),
        )
        .await;
    let id = w["id"].as_u64().unwrap();
    mailbox(&s, &tok, r, "gamma.example", "gil").await;
    let mut items = Vec::new();
    for _ in 0..600 {
        items = s
            .get(&format!("/api/v1/webhooks/{id}/deliveries"), &tok)
            .await
            .json()["items"]
            .as_array()
            .unwrap()
            .clone();
        if items.first().is_some_and(|i| i["outcome"] == "failed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(items.len(), 5, "{items:#?}");
    assert_eq!(items[0]["outcome"], "failed");
    assert!(items.iter().all(|i| i["status"].is_null()));
    assert!(
        items[0]["error"].as_str().unwrap().contains("connect"),
        "{items:#?}"
    );
    stop.trigger();
}

#[tokio::test(flavor = "multi_thread")]
async fn only_http_urls_and_known_events() {
    let s = start().await;
    let (_, tok) = s.reseller("Delta").await;
    for (url, events) in [
        ("ftp://127.0.0.1/x", json!(["mailbox.created"])),
        ("http://user:pw@127.0.0.1/x", json!(["mailbox.created"])),
        ("http:///x", json!(["mailbox.created"])),
        ("http://127.0.0.1/x", json!(["mailbox.exploded"])),
        ("http://127.0.0.1/x", json!([])),
    ] {
        s.post(
            "/api/v1/webhooks",
            &tok,
            &json!({"url": url, "events": events}),
        )
        .await
        .assert_problem(422);
    }
    let w = s
        .create(
            "/api/v1/webhooks",
            &tok,
            json!({"url": "https://127.0.0.1/x", "events": ["activation.requested"]}),
        )
        .await;
    let id = w["id"].as_u64().unwrap();
    let p = s
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &tok,
            &json!({"enabled": false, "events": ["activation.approved", "activation.rejected"]}),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.json()["enabled"], false);
    let gone = s
        .call(
            "DELETE",
            &format!("/api/v1/webhooks/{id}"),
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, 204);
    s.get(&format!("/api/v1/webhooks/{id}"), &tok)
        .await
        .assert_problem(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_dispatchers_deliver_each_event_once() {
    let s = start().await;
    let rx = Receiver::start().await;
    // Two nodes' dispatchers over one store: each delivery is claimed by one of them.
    let stops = [
        dispatcher_as(&s, Holder::start("node-a")),
        dispatcher_as(&s, Holder::start("node-b")),
    ];
    let (tenant, tok) = s.reseller("Twice").await;
    let w = s
        .create(
            "/api/v1/webhooks",
            &tok,
            json!({"url": rx.url("/once"), "events": ["mailbox.created"]}),
        )
        .await;
    rx.secrets(&json!({"/once": w["secret"]}));
    const EVENTS: usize = 12;
    for i in 0..EVENTS {
        mailbox(&s, &tok, tenant, &format!("d{i}.twice.example"), "ann").await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while on(&rx.log(), "/once").len() < EVENTS {
        assert!(std::time::Instant::now() < deadline, "{:?}", rx.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for a second dispatcher to send anything twice.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let log = rx.log();
    let got = on(&log, "/once");
    let mut ids: Vec<&str> = got
        .iter()
        .map(|r| r["delivery"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(got.len(), EVENTS, "each delivery once: {got:?}");
    assert_eq!(ids.len(), EVENTS);
    assert!(got.iter().all(|r| r["valid"] == true));
    for stop in stops {
        stop.trigger();
    }
}

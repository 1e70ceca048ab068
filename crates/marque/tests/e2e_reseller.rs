//! Reselling end to end through the real binary: the provider creates a reseller and gives it
//! credit; the reseller defines a plan and a reseller-kind manager with the `queue` policy;
//! the manager sells a customer (the activation waits), the reseller approves (the credit is
//! debited); the manager creates the customer's domain and bulk-creates 100 mailboxes; one of
//! them signs in over IMAP (curl); the usage CSV shows the activation, the usage counts the
//! mailboxes, and the reseller's webhook (a Python receiver on 127.0.0.1) got every event.

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{MARQUE, api, call, write_config};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// Answers 200 to every POST and appends the `X-Marque-Event` header to `events.txt`.
const RECEIVER: &str = r#"
import http.server, os, sys
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(root, "events.txt"), "a") as f:
            f.write(self.headers.get("X-Marque-Event", "") + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

#[test]
fn a_manager_sells_a_customer_with_a_hundred_mailboxes() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["imap", "http"]);
    let server = MARQUE.serve(&config, &[], &[]);
    let admin = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let admin = admin.trim();

    let hooks = tempfile::tempdir().unwrap();
    let mut receiver = Command::new("python3")
        .args(["-c", RECEIVER])
        .arg(hooks.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed (Debian package python3)");
    let mut port = String::new();
    std::io::BufReader::new(receiver.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port = port.trim().to_string();

    // The provider: a reseller, its token, its credit.
    let r = api(
        &server,
        admin,
        "POST",
        "/tenants",
        Some(json!({"name": "Reseller", "kind": "reseller", "parent": 1})),
    )["id"]
        .as_u64()
        .unwrap();
    let rtok = api(
        &server,
        admin,
        "POST",
        "/tokens",
        Some(json!({"name": "reseller", "tenant": r})),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();
    let credit = api(
        &server,
        admin,
        "POST",
        &format!("/tenants/{r}/credit"),
        Some(json!({"amount": 100, "note": "prepaid"})),
    );
    assert_eq!(credit["balance"], 100);

    // The reseller: a webhook, a plan, a queue-policy manager and its token.
    api(
        &server,
        &rtok,
        "POST",
        "/webhooks",
        Some(json!({
        "url": format!("http://127.0.0.1:{port}/hook"),
        "events": ["activation.requested", "activation.approved", "mailbox.created"]})),
    );
    let plan = api(
        &server,
        &rtok,
        "POST",
        "/plans",
        Some(json!({"name": "Standard",
        "tier": "STANDARD", "default_mailbox_mb": 10, "max_mailbox_mb": 100,
        "price_credits": 30})),
    )["id"]
        .as_u64()
        .unwrap();
    let mgr = api(
        &server,
        &rtok,
        "POST",
        "/managers",
        Some(json!({"login": "sales",
        "kind": "reseller", "plans": [plan], "policy": "queue"})),
    )["id"]
        .as_u64()
        .unwrap();
    let mtok = api(
        &server,
        &rtok,
        "POST",
        "/tokens",
        Some(json!({"name": "sales", "manager": mgr})),
    )["token"]
        .as_str()
        .unwrap()
        .to_string();

    // The manager sells a customer: it waits for the reseller.
    let sold = api(
        &server,
        &mtok,
        "POST",
        "/tenants",
        Some(json!({"name": "Florist", "kind": "customer", "plan": plan})),
    );
    assert_eq!(sold["activation"]["state"], "awaiting_approval", "{sold}");
    let customer = sold["id"].as_u64().unwrap();
    let act = sold["activation"]["id"].as_u64().unwrap();
    let (status, _) = call(
        &server,
        &mtok,
        "POST",
        &format!("/activations/{act}/approve"),
        Some(&json!({})),
    );
    assert!(
        matches!(status, 403 | 404),
        "the manager cannot approve its own sale"
    );
    let approved = api(
        &server,
        &rtok,
        "POST",
        &format!("/activations/{act}/approve"),
        Some(json!({})),
    );
    assert_eq!(approved["state"], "active", "{approved}");
    let credit = api(&server, &rtok, "GET", &format!("/tenants/{r}/credit"), None);
    assert_eq!(credit["balance"], 70, "{credit}");

    // The manager sets the customer up: a domain and 100 mailboxes in one request.
    api(
        &server,
        &mtok,
        "POST",
        "/domains",
        Some(json!({"name": "florist.example", "tenant": customer})),
    );
    let rows: Vec<Value> = (0..100)
        .map(|i| json!({"address": format!("m{i}@florist.example"), "password": PASSWORD}))
        .collect();
    let bulk = api(
        &server,
        &mtok,
        "POST",
        "/mailboxes/bulk",
        Some(json!({"mailboxes": rows})),
    );
    assert_eq!(bulk["created"], 100, "{bulk}");
    assert_eq!(bulk["failed"], 0);

    // One of them signs in over IMAP.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "--url"])
        .arg(format!("imap://{}/", server.addr("imap")))
        .args(["--user", &format!("m42@florist.example:{PASSWORD}")])
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "IMAP: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("INBOX"));

    // The month's usage CSV shows the activation; the usage counts the mailboxes.
    let month = Command::new("date")
        .args(["-u", "+%Y-%m"])
        .output()
        .expect("date");
    let month = String::from_utf8(month.stdout).unwrap().trim().to_string();
    let (status, csv) = call(
        &server,
        &rtok,
        "GET",
        &format!("/usage?tenant={r}&month={month}&format=csv"),
        None,
    );
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains(",activation,") && lines[1].contains("Florist"),
        "{csv}"
    );
    let usage = api(&server, &rtok, "GET", "/usage?domain=florist.example", None);
    assert_eq!(usage["counts"]["mailboxes"]["STANDARD"], 100, "{usage}");
    let json_month = api(
        &server,
        &rtok,
        "GET",
        &format!("/usage?tenant={r}&month={month}"),
        None,
    );
    assert_eq!(json_month["counts"]["activations"], 1, "{json_month}");

    // The IMAP sign-in is in the customer's authentication log, readable by the reseller.
    let auth = api(
        &server,
        &rtok,
        "GET",
        &format!("/logs/auth?tenant={customer}&address=m42@florist.example"),
        None,
    );
    assert!(
        auth["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["protocol"] == "imap" && a["outcome"] == "success"),
        "{auth}"
    );

    // The dispatcher the server runs delivered every event to the reseller's webhook.
    let deadline = Instant::now() + Duration::from_secs(60);
    let events = loop {
        let text = std::fs::read_to_string(hooks.path().join("events.txt")).unwrap_or_default();
        let created = text.lines().filter(|l| *l == "mailbox.created").count();
        if created >= 100 || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let count = |e: &str| events.lines().filter(|l| *l == e).count();
    assert_eq!(count("activation.requested"), 1, "{events}");
    assert_eq!(count("activation.approved"), 1, "{events}");
    assert_eq!(count("mailbox.created"), 100, "{events}");
    let _ = receiver.kill();
    let _ = receiver.wait();
}

//! The whole platform through the real binary, as README's "A first mailbox" does it: the admin
//! API (curl, with the token written on first start) creates a customer, a domain and a
//! mailbox; Python's smtplib sends a message to it over SMTP; curl reads it back over IMAP and
//! POP3; the reseller-visible transaction and authentication logs show what happened; after a
//! restart the message is still there.

mod common;

use std::net::SocketAddr;
use std::process::Command;

use common::{MARQUE, Server, write_config};

const SERVICES: [&str; 4] = ["smtp", "imap", "pop3", "http"];
const PASSWORD: &str = "a good password";

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl must be installed (Debian package curl)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn api(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> serde_json::Value {
    let url = format!("http://{}/api/v1{path}", server.addr("http"));
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec![
        "-X",
        method,
        "-H",
        auth.as_str(),
        "-H",
        "Content-Type: application/json",
        "-w",
        "\n%{http_code}",
    ];
    if let Some(b) = body {
        args.extend(["-d", b]);
    }
    args.push(url.as_str());
    let out = curl(&args);
    let (json, status) = out.rsplit_once('\n').expect("status line");
    assert!(status.starts_with('2'), "{method} {path}: {status} {json}");
    serde_json::from_str(json).expect("json")
}

fn send(smtp: SocketAddr) {
    let script = format!(
        r#"
import smtplib
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "someone@elsewhere.example"
m["To"] = "anna@bakery.example"
m["Subject"] = "hello Anna"
m["Message-ID"] = "<first@elsewhere.example>"
m.set_content("First message.")
with smtplib.SMTP("127.0.0.1", {port}, timeout=20) as s:
    s.send_message(m)
"#,
        port = smtp.port()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "smtplib: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_back(server: &Server) {
    let user = format!("anna@bakery.example:{PASSWORD}");
    let imap = curl(&[
        "--url",
        &format!("imap://{}/INBOX;UID=1", server.addr("imap")),
        "--user",
        &user,
    ]);
    assert!(
        imap.contains("Subject: hello Anna") && imap.contains("First message."),
        "{imap}"
    );
    assert!(
        imap.starts_with("Return-Path: <someone@elsewhere.example>"),
        "{imap}"
    );
    let pop = curl(&[
        "--url",
        &format!("pop3://{}/1", server.addr("pop3")),
        "--user",
        &user,
    ]);
    assert_eq!(
        pop.replace("\r\n", "\n"),
        imap.replace("\r\n", "\n"),
        "POP3 and IMAP serve the same message"
    );
}

#[test]
fn a_first_mailbox_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &SERVICES);
    let mut server = MARQUE.serve(&config, &[], &[]);
    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let token = token.trim();

    let tenant = api(
        &server,
        token,
        "POST",
        "/tenants",
        Some(r#"{"name":"Bakery","kind":"customer","parent":1}"#),
    );
    let id = tenant["id"].as_u64().expect("tenant id");
    api(
        &server,
        token,
        "POST",
        "/domains",
        Some(&format!(r#"{{"name":"bakery.example","tenant":{id}}}"#)),
    );
    let body =
        format!(r#"{{"address":"anna@bakery.example","password":"{PASSWORD}","quota_mb":500}}"#);
    api(&server, token, "POST", "/mailboxes", Some(&body));

    send(server.addr("smtp"));
    read_back(&server);

    let tx = api(
        &server,
        token,
        "GET",
        &format!("/logs/transactions?tenant={id}&message_id=%3Cfirst@elsewhere.example%3E"),
        None,
    );
    let record = &tx["items"][0]["record"];
    assert_eq!(record["recipients"][0]["outcome"], "delivered", "{tx}");
    // The conversation is recorded as the client spoke it (smtplib writes lower-case verbs).
    let conversation = record["conversation"].to_string().to_ascii_uppercase();
    assert!(
        conversation.contains("RCPT TO:<ANNA@BAKERY.EXAMPLE>"),
        "{tx}"
    );
    let auth = api(
        &server,
        token,
        "GET",
        &format!("/logs/auth?tenant={id}"),
        None,
    );
    let protocols: Vec<_> = auth["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["protocol"].as_str().unwrap().to_string())
        .collect();
    assert!(
        protocols.contains(&"imap".into()) && protocols.contains(&"pop3".into()),
        "{auth}"
    );
    let usage = api(&server, token, "GET", &format!("/usage?tenant={id}"), None);
    assert!(usage.to_string().contains("\"messages\":1"), "{usage}");

    // Acknowledged mail survives a restart.
    assert!(server.terminate().success(), "{}", server.log());
    let mut server = MARQUE.serve(&config, &[], &[]);
    read_back(&server);
    assert!(server.terminate().success(), "{}", server.log());
}

//! A vacation reply never carries header fields of the script's choosing, nor a sender that is
//! not the user's. Each script is stored as it is (no upload check), a message from a remote
//! sender arrives on port 25, and the reply travels through the outbound queue to a scripted
//! peer on 127.0.0.2; Python's `email` parser then reads what the peer received.

mod common;

use std::sync::Arc;

use common::remote::{Got, a, dns, mx, peer, until, workers};
use common::{account, python, start_with, test_config};
use marque_core::{Actor, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantKind};

/// Reads the message a peer received (dot-stuffed, as on the wire) with Python's `email`
/// and checks it: only the fields the platform writes, each once, every line well-formed,
/// `From` the given address. Prints the subject.
const CHECK: &str = r#"
import email, email.policy, sys
raw = open(sys.argv[2], "rb").read()
assert b"\r\n" in raw
for i, b in enumerate(raw):
    if b == 13: assert raw[i + 1:i + 2] == b"\n", ("bare CR", raw[i - 20:i + 20])
    if b == 10: assert raw[i - 1:i] == b"\r", ("bare LF", raw[i - 20:i + 20])
raw = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in raw.split(b"\r\n"))
head = raw.split(b"\r\n\r\n", 1)[0].decode()
for line in head.split("\r\n"):
    assert line[:1] in (" ", "\t") or ":" in line, ("not a field", line)
m = email.message_from_bytes(raw, policy=email.policy.default)
names = [k.lower() for k in m.keys()]
allowed = {"received", "dkim-signature", "from", "to", "subject", "in-reply-to", "references",
           "date", "message-id", "auto-submitted", "mime-version", "content-type",
           "content-transfer-encoding"}
extra = [n for n in names if n not in allowed]
assert not extra, ("injected fields", extra, head)
once = [n for n in names if n != "received" and names.count(n) > 1]
assert not once, ("repeated fields", once, head)
assert m["Auto-Submitted"] == "auto-replied", head
addrs = m["From"].addresses
assert len(addrs) == 1 and addrs[0].addr_spec == sys.argv[3], (m["From"], head)
assert [a.addr_spec for a in m["To"].addresses] == ["joe@remote.example"], head
print("SUBJECT=" + str(m["Subject"]))
print("CTYPE=" + m.get_content_type())
"#;

/// Stores `script` as ann's active script, sends her a message from joe@remote.example on
/// port 25, and returns what the remote peer received as the reply.
async fn reply_to(script: &str, extra: impl AsyncFnOnce(&common::Server)) -> Got {
    // Vacation replies go to the outbound queue (as `marque serve` sets it up).
    let mut config = test_config();
    config.delivery.outbox = Arc::new(marque_delivery::QueueOutbox::default());
    let s = start_with(config).await;
    extra(&s).await;
    let acc = account(&s.core, "ann@c.example").await;
    let text = script.as_bytes().to_vec();
    s.core
        .store()
        .transact(move |txn| -> marque_store::Result<()> {
            marque_store::sieve::put(txn, acc, "main", &text)?;
            marque_store::sieve::set_active(txn, acc, Some("main"))
        })
        .await
        .expect("script");
    let p = peer("127.0.0.2", Arc::new(|_| "250 2.1.5 ok")).await;
    let dns = dns(vec![
        ("remote.example.", mx("mx.remote.example.")),
        ("mx.remote.example.", a([127, 0, 0, 2])),
    ])
    .await;
    let _w = workers(&s.core, dns, p.addr.port());
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.remote.example")
msg = ("From: Joe <joe@remote.example>\r\nTo: ann@c.example\r\nSubject: Lunch?\r\n"
       "Message-ID: <lunch1@remote.example>\r\n\r\nAre you free?\r\n")
assert c.sendmail("joe@remote.example", ["ann@c.example"], msg) == {}
c.quit()
"#,
    )
    .await;
    until("the vacation reply", async || {
        !p.got.lock().unwrap().is_empty()
    })
    .await;
    let got = p.got.lock().unwrap()[0].clone();
    assert!(
        got.mail.starts_with("<>"),
        "RFC 5230 §5.1 null sender: {}",
        got.mail
    );
    assert_eq!(got.rcpts, vec!["<joe@remote.example>".to_string()]);
    got
}

/// Runs [`CHECK`] on what the peer got with `from` the expected From; returns its output.
async fn check(got: &Got, from: &str) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("reply.eml");
    std::fs::write(&path, got.data.as_bytes()).expect("write");
    let out = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(CHECK)
        .arg("0")
        .arg(&path)
        .arg(from)
        .output()
        .await
        .expect("python3 must be installed to run the SMTP tests");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the reply does not pass\n--- reply\n{}\n--- stderr\n{}",
        got.data,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !got.data.to_ascii_lowercase().contains("victim@"),
        "{}",
        got.data
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_with_crlf_bcc_is_not_used() {
    let got = reply_to(
        "require \"vacation\";\r\nvacation :from \"Me <ann@c.example> \r\nBcc: victim@remote.example\" :subject \"Away\" \"I am away.\";\r\n",
        async |_| {},
    )
    .await;
    let out = check(&got, "ann@c.example").await;
    assert!(out.contains("SUBJECT=Away\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_with_crlf_is_not_used() {
    let got = reply_to(
        "require \"vacation\";\r\nvacation :subject \"Away\r\nBcc: victim@remote.example\" \"I am away.\";\r\n",
        async |_| {},
    )
    .await;
    let out = check(&got, "ann@c.example").await;
    assert!(out.contains("SUBJECT=Auto: Lunch?\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_with_encoded_crlf_is_not_used() {
    let got = reply_to(
        "require [\"vacation\", \"encoded-character\"];\r\nvacation :subject \"Away${hex:0D 0A}Bcc: victim@remote.example\" \"I am away.\";\r\n",
        async |_| {},
    )
    .await;
    let out = check(&got, "ann@c.example").await;
    assert!(out.contains("SUBJECT=Auto: Lunch?\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mime_reason_keeps_only_mime_fields() {
    let got = reply_to(
        "require \"vacation\";\r\nvacation :mime :subject \"Away\" text:\r\nContent-Type: text/html; charset=utf-8\r\nBcc: victim@remote.example\r\nReply-To: victim@remote.example\r\n\r\n<p>I am away.</p>\r\n.\r\n;\r\n",
        async |_| {},
    )
    .await;
    let out = check(&got, "ann@c.example").await;
    assert!(out.contains("CTYPE=text/html"), "{out}");
    assert!(got.data.contains("<p>I am away.</p>"), "{}", got.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_from_of_someone_else_falls_back_to_the_users_address() {
    // Another tenant's mailbox, a stranger, and a mailbox of the same domain.
    for from in [
        "Dan <dan@d.example>",
        "security@bank.example",
        "bob@c.example",
    ] {
        let script = format!(
            "require \"vacation\";\r\nvacation :from \"{from}\" :subject \"Away\" \"I am away.\";\r\n"
        );
        let got = reply_to(&script, async |s: &common::Server| other_tenant(s).await).await;
        check(&got, "ann@c.example").await;
    }
    // An alias that delivers to ann is hers to send from.
    let got = reply_to(
        "require \"vacation\";\r\nvacation :from \"Sales <sales@c.example>\" \"I am away.\";\r\n",
        async |_| {},
    )
    .await;
    check(&got, "sales@c.example").await;
}

/// A second customer with the domain d.example and the mailbox dan@d.example.
async fn other_tenant(s: &common::Server) {
    let op = Actor::operator();
    let t = s
        .core
        .create_tenant(
            &op,
            NewTenant {
                name: "D".into(),
                kind: TenantKind::Customer,
                parent: PROVIDER,
                ..NewTenant::default()
            },
        )
        .await
        .expect("tenant")
        .tenant
        .id;
    s.core
        .create_domain(
            &op,
            NewDomain {
                name: "d.example".into(),
                tenant: t,
                ..NewDomain::default()
            },
        )
        .await
        .expect("domain");
    s.core
        .create_mailbox(
            &op,
            NewMailbox {
                address: "dan@d.example".into(),
                password: common::PASSWORD.into(),
                quota_mb: Some(10),
                tier: None,
                postmaster: false,
            },
        )
        .await
        .expect("mailbox");
}

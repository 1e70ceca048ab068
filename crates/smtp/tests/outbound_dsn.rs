//! DSN beyond failures (RFC 3461, RFC 3464), end to end on loopback: ann@c.example submits
//! with smtplib, the workers deliver through a DNS server and a scripted peer on 127.0.0.x,
//! and the reports that come back to ann's INBOX are parsed with Python's `email` package.
//! NOTIFY=SUCCESS gives "relayed" when the next hop has no DSN and nothing when it has (the
//! parameters are passed on); NOTIFY=DELAY gives one "delayed" report; NOTIFY=NEVER none.

mod common;

use std::sync::Arc;

use common::remote::{a, dns, mx, peer_with, queue_len, submit, until, workers_with};
use common::{inbox, python, start};

/// Parses `dsn` with Python's `email`; checks the report type and the parts, and prints the
/// per-message and per-recipient fields as `key=value` lines.
async fn parse(dsn: &str) -> String {
    python(
        0,
        &format!(
            r#"
import email
m = email.message_from_string({dsn:?})
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status"
parts = m.get_payload()
print("parts=" + ",".join(p.get_content_type() for p in parts))
print("subject=" + m["Subject"])
blocks = parts[1].get_payload()
for k, v in blocks[0].items():
    print("msg." + k.lower() + "=" + v)
for b in blocks[1:]:
    for k, v in b.items():
        print("rcpt." + k.lower() + "=" + v)
"#
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_success_to_a_next_hop_without_dsn_reports_relayed() {
    let s = start().await;
    let p = peer_with("127.0.0.6", Arc::new(|_| "250 2.1.5 ok"), false).await;
    let dns = dns(vec![
        ("nodsn.test.", mx("mx.nodsn.test.")),
        ("mx.nodsn.test.", a([127, 0, 0, 6])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, p.addr.port(), |_| {});
    submit(
        s.submission.port(),
        "zoe@nodsn.test",
        "\"RET=FULL\", \"ENVID=env+2B7\"",
        "\"NOTIFY=SUCCESS\", \"ORCPT=rfc822;Zoe+40nodsn.test\"",
        "Subject: relay me\r\nMessage-ID: <r1@c.example>\r\n\r\nrelayed body text\r\n",
    )
    .await;
    until("the report", async || {
        !inbox(&s.core, "ann@c.example").await.is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    let got = p.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    // The peer does not offer DSN: no DSN parameters on the wire.
    assert_eq!(got[0].rcpts, vec!["<zoe@nodsn.test>".to_string()]);
    assert!(!got[0].mail.contains("ENVID"), "{}", got[0].mail);
    let msgs = inbox(&s.core, "ann@c.example").await;
    assert_eq!(msgs.len(), 1, "one report");
    let dsn = String::from_utf8_lossy(&msgs[0].1).to_string();
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    let out = parse(&dsn).await;
    for want in [
        "parts=text/plain,message/delivery-status,text/rfc822-headers",
        "subject=Relayed Mail Delivery Report",
        "msg.original-envelope-id=env+7",
        "rcpt.original-recipient=rfc822;Zoe@nodsn.test",
        "rcpt.final-recipient=rfc822; zoe@nodsn.test",
        "rcpt.action=relayed",
        "rcpt.status=2.0.0",
        "rcpt.remote-mta=dns; mx.nodsn.test",
    ] {
        assert!(out.lines().any(|l| l == want), "{want} not in\n{out}");
    }
    // A success report returns the header only, even with RET=FULL (RFC 3461 §4.3).
    assert!(dsn.contains("Subject: relay me"), "{dsn}");
    assert!(!dsn.contains("relayed body text"), "{dsn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_success_to_a_next_hop_with_dsn_is_passed_on() {
    let s = start().await;
    let p = peer_with("127.0.0.7", Arc::new(|_| "250 2.1.5 ok"), true).await;
    let dns = dns(vec![
        ("dsn.test.", mx("mx.dsn.test.")),
        ("mx.dsn.test.", a([127, 0, 0, 7])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, p.addr.port(), |_| {});
    submit(
        s.submission.port(),
        "zoe@dsn.test",
        "\"RET=HDRS\", \"ENVID=e1\"",
        "\"NOTIFY=SUCCESS,FAILURE\", \"ORCPT=rfc822;zoe+40dsn.test\"",
        "Subject: pass on\r\n\r\nbody\r\n",
    )
    .await;
    until("delivery", async || {
        !p.got.lock().unwrap().is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    let got = p.got.lock().unwrap().clone();
    assert!(got[0].mail.contains("RET=HDRS ENVID=e1"), "{}", got[0].mail);
    assert_eq!(
        got[0].rcpts,
        vec!["<zoe@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;zoe+40dsn.test".to_string()]
    );
    // The next hop reports; a report of ours would have been queued in the same write that
    // emptied the queue.
    assert!(inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_delay_gives_one_delayed_report() {
    let s = start().await;
    let p = peer_with("127.0.0.8", Arc::new(|_| "451 4.2.1 busy, later"), true).await;
    let dns = dns(vec![
        ("slow.test.", mx("mx.slow.test.")),
        ("mx.slow.test.", a([127, 0, 0, 8])),
    ])
    .await;
    // Every attempt is past the delay warning; the message is never given up here.
    let _w = workers_with(&s.core, dns, p.addr.port(), |c| c.delay_warning_ms = 0);
    submit(
        s.submission.port(),
        "zoe@slow.test",
        "\"ENVID=slow1\"",
        "\"NOTIFY=DELAY,FAILURE\"",
        "Subject: slow\r\n\r\nslow body text\r\n",
    )
    .await;
    until("the report", async || {
        !inbox(&s.core, "ann@c.example").await.is_empty()
    })
    .await;
    // Several more attempts, and still one report.
    let seen = *p.mails.lock().unwrap();
    until("more attempts", async || {
        *p.mails.lock().unwrap() >= seen + 3
    })
    .await;
    let msgs = inbox(&s.core, "ann@c.example").await;
    assert_eq!(msgs.len(), 1, "one delayed report");
    assert_eq!(
        queue_len(&s.hosting).await,
        1,
        "the message is still queued"
    );
    let dsn = String::from_utf8_lossy(&msgs[0].1).to_string();
    let out = parse(&dsn).await;
    for want in [
        "parts=text/plain,message/delivery-status,text/rfc822-headers",
        "subject=Delayed Mail (still being retried)",
        "msg.original-envelope-id=slow1",
        "rcpt.action=delayed",
        "rcpt.status=4.2.1",
        "rcpt.diagnostic-code=smtp; 451 4.2.1 busy, later",
    ] {
        assert!(out.lines().any(|l| l == want), "{want} not in\n{out}");
    }
    assert!(
        out.lines().any(|l| l.starts_with("rcpt.will-retry-until=")),
        "{out}"
    );
    assert!(!dsn.contains("slow body text"), "{dsn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_never_gives_no_report() {
    let s = start().await;
    let p = peer_with("127.0.0.9", Arc::new(|_| "550 5.1.1 no such user"), true).await;
    let dns = dns(vec![
        ("never.test.", mx("mx.never.test.")),
        ("mx.never.test.", a([127, 0, 0, 9])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, p.addr.port(), |c| c.delay_warning_ms = 0);
    submit(
        s.submission.port(),
        "zoe@never.test",
        "",
        "\"NOTIFY=NEVER\"",
        "Subject: never\r\n\r\nbody\r\n",
    )
    .await;
    until("the refusal", async || {
        *p.mails.lock().unwrap() >= 1 && queue_len(&s.hosting).await == 0
    })
    .await;
    assert!(inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_success_for_our_own_mailbox_reports_delivered() {
    let s = start().await;
    let dns = dns(vec![]).await;
    let _w = workers_with(&s.core, dns, 25, |_| {});
    submit(
        s.submission.port(),
        "bob@c.example",
        "\"RET=FULL\", \"ENVID=own1\"",
        "\"NOTIFY=SUCCESS\", \"ORCPT=rfc822;Bob+40c.example\"",
        "Subject: for bob\r\n\r\nprivate body text\r\n",
    )
    .await;
    until("the report", async || {
        !inbox(&s.core, "ann@c.example").await.is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    assert_eq!(inbox(&s.core, "bob@c.example").await.len(), 1);
    let msgs = inbox(&s.core, "ann@c.example").await;
    assert_eq!(msgs.len(), 1, "one report");
    let dsn = String::from_utf8_lossy(&msgs[0].1).to_string();
    let out = parse(&dsn).await;
    for want in [
        "parts=text/plain,message/delivery-status,text/rfc822-headers",
        "subject=Successful Mail Delivery Report",
        "msg.original-envelope-id=own1",
        "rcpt.original-recipient=rfc822;Bob@c.example",
        "rcpt.final-recipient=rfc822; bob@c.example",
        "rcpt.action=delivered",
        "rcpt.status=2.0.0",
    ] {
        assert!(out.lines().any(|l| l == want), "{want} not in\n{out}");
    }
    assert!(!out.contains("remote-mta"), "{out}");
    assert!(dsn.contains("Subject: for bob"), "{dsn}");
    assert!(!dsn.contains("private body text"), "{dsn}");
}

//! Outbound delivery end to end on loopback: a user submits mail for a remote domain, the
//! workers find its MX through a DNS server on 127.0.0.1 and deliver to a peer on 127.0.0.x.
//! The peers: a scripted SMTP server (temporary then permanent refusals, pipelining, DSN
//! parameters, the source address) and a Debian Postfix.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::remote::{a, dns, mx, peer, queue_len, submit, until, workers};
use common::{inbox, python, start, transactions};
use marque_core::Actor;
use marque_hosting::outbound::{IdentityOf, OutboundIdentity};
use tokio::net::TcpListener;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_refusal_is_retried_and_delivered_once_from_the_tenants_address() {
    let s = start().await;
    // The tenant sends from its own address and name.
    s.hosting
        .set_outbound_identity(
            &Actor::operator(),
            IdentityOf::Tenant(s.customer),
            OutboundIdentity {
                source_ip: Some("127.0.0.5".parse().unwrap()),
                ehlo: Some("out.c.example".into()),
            },
        )
        .await
        .expect("identity");
    let p = peer(
        "127.0.0.2",
        Arc::new(|n| {
            if n == 0 {
                "451 4.3.0 try again later"
            } else {
                "250 2.1.5 ok"
            }
        }),
    )
    .await;
    let dns = dns(vec![
        ("remote.test.", mx("mx.remote.test.")),
        ("mx.remote.test.", a([127, 0, 0, 2])),
    ])
    .await;
    let _w = workers(&s.core, dns, p.addr.port());
    submit(
        s.submission.port(),
        "Zoe@remote.test",
        "\"RET=HDRS\", \"ENVID=env+2B1\"",
        "\"NOTIFY=FAILURE\"",
        "Subject: hello\r\nMessage-ID: <out1@c.example>\r\n\r\n.leading dot\r\nbye\r\n",
    )
    .await;
    until("delivery", async || {
        !p.got.lock().unwrap().is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    let got = p.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "delivered exactly once");
    assert_eq!(
        *p.mails.lock().unwrap(),
        2,
        "one refused attempt, one accepted"
    );
    let g = &got[0];
    assert_eq!(g.client, Some("127.0.0.5".parse().unwrap()));
    assert_eq!(g.helo, "out.c.example");
    assert!(g.mail.starts_with("<ann@c.example>"), "{}", g.mail);
    assert!(
        g.mail.contains("RET=HDRS") && g.mail.contains("ENVID=env+2B1"),
        "{}",
        g.mail
    );
    assert_eq!(
        g.rcpts,
        vec!["<Zoe@remote.test> NOTIFY=FAILURE".to_string()]
    );
    // Dot-stuffed on the wire; our Return-Path stays behind, our Received goes along.
    assert!(g.data.contains("\r\n..leading dot\r\n"), "{}", g.data);
    assert!(!g.data.starts_with("Return-Path:"), "{}", g.data);
    assert!(
        g.data.contains("Received: from client.example"),
        "{}",
        g.data
    );

    // One outbound record per SMTP transaction, with the conversation.
    let recs: Vec<_> = transactions(&s.core, s.customer, "zoe@remote.test")
        .into_iter()
        .filter(|r| r.direction == "outbound")
        .collect();
    assert_eq!(recs.len(), 2, "{recs:?}");
    let outcomes: Vec<_> = recs.iter().map(|r| r.recipients[0].outcome).collect();
    assert!(outcomes.contains(&marque_delivery::Outcome::Deferred));
    assert!(outcomes.contains(&marque_delivery::Outcome::Delivered));
    let ok = recs
        .iter()
        .find(|r| r.recipients[0].outcome == marque_delivery::Outcome::Delivered)
        .unwrap();
    assert_eq!(ok.client_ip, "127.0.0.5");
    assert_eq!(ok.server_ip, "127.0.0.2");
    assert_eq!(ok.helo, "out.c.example");
    assert_eq!(ok.message_id.as_deref(), Some("<out1@c.example>"));
    assert_eq!(ok.recipients[0].reason, "250 2.0.0 queued as 42");
    assert_eq!(
        ok.conversation[0],
        "(MX mx.remote.test [127.0.0.2], no TLS)"
    );
    let talk = ok.conversation.join("\n");
    assert!(talk.contains("C: EHLO out.c.example"), "{talk}");
    assert!(talk.contains("S: 250 2.0.0 queued as 42"), "{talk}");
    assert!(
        !talk.contains("leading dot"),
        "no body in the record: {talk}"
    );
    // Nothing came back to the sender.
    assert!(inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_bounces_a_dsn_to_the_local_sender() {
    let s = start().await;
    let p = peer("127.0.0.3", Arc::new(|_| "550 5.1.1 no such user here")).await;
    let dns = dns(vec![
        ("bounce.test.", mx("mx.bounce.test.")),
        ("mx.bounce.test.", a([127, 0, 0, 3])),
    ])
    .await;
    let _w = workers(&s.core, dns, p.addr.port());
    submit(
        s.submission.port(),
        "nobody@bounce.test",
        "\"RET=HDRS\", \"ENVID=QQ+2B314159\"",
        "\"NOTIFY=FAILURE,DELAY\", \"ORCPT=rfc822;nobody+40bounce.test\"",
        "Subject: will bounce\r\nMessage-ID: <b1@c.example>\r\n\r\nsecret body text\r\n",
    )
    .await;
    until("the DSN", async || {
        !inbox(&s.core, "ann@c.example").await.is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    assert!(p.got.lock().unwrap().is_empty());
    let msgs = inbox(&s.core, "ann@c.example").await;
    assert_eq!(msgs.len(), 1, "one DSN");
    let dsn = String::from_utf8_lossy(&msgs[0].1).to_string();
    assert!(dsn.starts_with("Return-Path: <>\r\n"), "{dsn}");
    assert!(
        dsn.contains("Content-Type: multipart/report; report-type=delivery-status"),
        "{dsn}"
    );
    assert!(dsn.contains("Auto-Submitted: auto-replied"), "{dsn}");
    assert!(
        dsn.contains("Content-Type: message/delivery-status"),
        "{dsn}"
    );
    assert!(dsn.contains("Reporting-MTA: dns; mx.test.example"), "{dsn}");
    assert!(dsn.contains("Original-Envelope-Id: QQ+314159"), "{dsn}");
    assert!(
        dsn.contains("Original-Recipient: rfc822;nobody@bounce.test"),
        "{dsn}"
    );
    assert!(
        dsn.contains("Final-Recipient: rfc822; nobody@bounce.test"),
        "{dsn}"
    );
    assert!(dsn.contains("Action: failed"), "{dsn}");
    assert!(dsn.contains("Status: 5.1.1"), "{dsn}");
    assert!(dsn.contains("Remote-MTA: dns; mx.bounce.test"), "{dsn}");
    assert!(
        dsn.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user here"),
        "{dsn}"
    );
    // RET=HDRS: the original header, not its body.
    assert!(dsn.contains("Content-Type: text/rfc822-headers"), "{dsn}");
    assert!(dsn.contains("Subject: will bounce"), "{dsn}");
    assert!(!dsn.contains("secret body text"), "{dsn}");
    // The report parses as multipart/report with its three parts.
    let out = python(
        0,
        &format!(
            r#"
import email
m = email.message_from_string({dsn:?})
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status"
parts = m.get_payload()
assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "text/rfc822-headers"], [p.get_content_type() for p in parts]
blocks = parts[1].get_payload()
assert blocks[1]["Action"] == "failed" and blocks[1]["Status"] == "5.1.1", blocks[1].items()
print("ok")
"#
        ),
    )
    .await;
    assert_eq!(out.trim(), "ok");
}

/// A Postfix instance of its own on `ip:port`, delivering every address of `domain` to one
/// mbox file.
struct Postfix {
    dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl Postfix {
    async fn start(ip: &str, port: u16, domain: &str) -> Postfix {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for sub in ["queue", "data", "mail"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        let nobody = "65534";
        std::process::Command::new("chown")
            .args([
                &format!("{nobody}:{nobody}"),
                d.join("mail").to_str().unwrap(),
            ])
            .status()
            .expect("chown");
        std::process::Command::new("chown")
            .args(["postfix", d.join("data").to_str().unwrap()])
            .status()
            .expect("chown");
        let main = format!(
            r#"compatibility_level = 3.6
queue_directory = {q}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{domain}
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = $myhostname ESMTP
maillog_file = {log}
maillog_file_prefixes = {dir}
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = static:inbox
virtual_uid_maps = static:{nobody}
virtual_gid_maps = static:{nobody}
virtual_minimum_uid = 1
smtputf8_enable = no
"#,
            q = d.join("queue").display(),
            data = d.join("data").display(),
            mail = d.join("mail").display(),
            log = d.join("maillog").display(),
            dir = d.display(),
        );
        std::fs::write(d.join("main.cf"), main).expect("main.cf");
        let master = format!(
            "{ip}:{port} inet n - n - - smtpd\n\
             pickup unix n - n 60 1 pickup\n\
             cleanup unix n - n - 0 cleanup\n\
             qmgr unix n - n 300 1 qmgr\n\
             rewrite unix - - n - - trivial-rewrite\n\
             bounce unix - - n - 0 bounce\n\
             defer unix - - n - 0 bounce\n\
             trace unix - - n - 0 bounce\n\
             verify unix - - n - 1 verify\n\
             flush unix n - n 1000? 0 flush\n\
             proxymap unix - - n - - proxymap\n\
             smtp unix - - n - - smtp\n\
             relay unix - - n - - smtp\n\
             error unix - - n - - error\n\
             retry unix - - n - - error\n\
             discard unix - - n - - discard\n\
             local unix - n n - - local\n\
             virtual unix - n n - - virtual\n\
             lmtp unix - - n - - lmtp\n\
             anvil unix - - n - 1 anvil\n\
             scache unix - - n - 1 scache\n\
             postlog unix-dgram n - n - 1 postlogd\n"
        );
        std::fs::write(d.join("master.cf"), master).expect("master.cf");
        let check = std::process::Command::new("postfix")
            .args(["-c", d.to_str().unwrap(), "check"])
            .output()
            .expect("postfix must be installed (Debian package postfix) for this test");
        assert!(
            check.status.success(),
            "postfix check: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let child = tokio::process::Command::new("postfix")
            .args(["-c", d.to_str().unwrap(), "start-fg"])
            .kill_on_drop(true)
            .spawn()
            .expect("postfix start-fg");
        let pf = Postfix { dir, child };
        let addr: SocketAddr = format!("{ip}:{port}").parse().unwrap();
        until("postfix to listen", async || {
            tokio::net::TcpStream::connect(addr).await.is_ok()
        })
        .await;
        pf
    }

    fn mbox(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mail/inbox")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = std::process::Command::new("postfix")
            .args(["-c", self.dir.path().to_str().unwrap_or("/"), "stop"])
            .output();
        let _ = self.child.start_kill();
    }
}

/// A free TCP port on `ip`.
async fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_found_through_mx_receives_the_message() {
    let s = start().await;
    let port = free_port("127.0.0.4").await;
    let pf = Postfix::start("127.0.0.4", port, "postfix.test").await;
    let dns = dns(vec![
        ("postfix.test.", mx("mx.postfix.test.")),
        ("mx.postfix.test.", a([127, 0, 0, 4])),
    ])
    .await;
    let _w = workers(&s.core, dns, port);
    submit(
        s.submission.port(),
        "kim@postfix.test",
        "",
        "",
        "Subject: to postfix\r\nMessage-ID: <pf1@c.example>\r\n\r\nhello postfix\r\n",
    )
    .await;
    until("postfix's delivery", async || {
        pf.mbox().contains("hello postfix")
    })
    .await;
    until("the queue to empty", async || {
        queue_len(&s.hosting).await == 0
    })
    .await;
    let mbox = pf.mbox();
    assert!(mbox.contains("Return-Path: <ann@c.example>"), "{mbox}");
    assert!(mbox.contains("Delivered-To: kim@postfix.test"), "{mbox}");
    assert!(mbox.contains("Message-ID: <pf1@c.example>"), "{mbox}");
    assert_eq!(mbox.matches("hello postfix").count(), 1, "{mbox}");
    let recs: Vec<_> = transactions(&s.core, s.customer, "kim@postfix.test")
        .into_iter()
        .filter(|r| r.direction == "outbound")
        .collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs[0].recipients[0].outcome,
        marque_delivery::Outcome::Delivered
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_workers_deliver_each_message_once() {
    use marque_store::lease::Holder;
    let s = start().await;
    let p = peer("127.0.0.2", Arc::new(|_| "250 2.1.5 ok")).await;
    let dns = dns(vec![
        ("remote.test.", mx("mx.remote.test.")),
        ("mx.remote.test.", a([127, 0, 0, 2])),
    ])
    .await;
    // Two nodes' workers over one store: each entry is claimed under one node's lease.
    let _a = common::remote::workers_with(&s.core, dns, p.addr.port(), |c| {
        c.node = Holder::start("node-a")
    });
    let _b = common::remote::workers_with(&s.core, dns, p.addr.port(), |c| {
        c.node = Holder::start("node-b")
    });
    const MESSAGES: usize = 6;
    for i in 0..MESSAGES {
        submit(
            s.submission.port(),
            "zoe@remote.test",
            "",
            "",
            &format!("Subject: {i}\r\nMessage-ID: <twice{i}@c.example>\r\n\r\nbody {i}\r\n"),
        )
        .await;
    }
    until("delivery", async || {
        p.got.lock().unwrap().len() >= MESSAGES && queue_len(&s.hosting).await == 0
    })
    .await;
    // Long enough for a second attempt by the other node, if there were one.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let got = p.got.lock().unwrap().clone();
    let mut ids: Vec<String> = got
        .iter()
        .filter_map(|g| {
            g.data
                .lines()
                .find(|l| l.starts_with("Message-ID:"))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(got.len(), MESSAGES, "each message once: {ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), MESSAGES);
}

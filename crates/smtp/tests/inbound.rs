//! The MX listener against real clients: Python's smtplib, raw pipelined sockets, swaks.

mod common;

use common::{inbox, python, start, swaks, transactions};
use marque_core::PROVIDER;
use marque_delivery::Outcome;
use marque_store::blob;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_two_local_recipients_is_stored_once_before_the_250() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
code, ext = c.ehlo("client.example")
assert code == 250
for e in [b"PIPELINING", b"8BITMIME", b"SMTPUTF8", b"SIZE 65536", b"ENHANCEDSTATUSCODES", b"CHUNKING", b"STARTTLS"]:
    assert e in ext, e
assert b"AUTH" not in ext
msg = "From: x@remote.example\r\nTo: ann@c.example\r\nSubject: two\r\nMessage-ID: <two@remote.example>\r\n\r\nHello both.\r\n"
refused = c.sendmail("x@remote.example", ["ann@c.example", "Bob@C.example"], msg)
assert refused == {}, refused
c.quit()
"#,
    )
    .await;
    // smtplib returned after the 250: the message is already durable and readable.
    let ann = inbox(&s.core, "ann@c.example").await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!((ann.len(), bob.len()), (1, 1));
    assert_eq!(ann[0].0.blob, bob[0].0.blob);
    assert_eq!(
        blob::references_in(s.core.store(), &ann[0].0.blob).unwrap(),
        2
    );
    let text = String::from_utf8(ann[0].1.clone()).unwrap();
    assert!(text.starts_with("Return-Path: <x@remote.example>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.test.example (Marque) with ESMTP id "), "{text}");
    assert!(!text.contains("for <"), "two recipients: no for clause");
    assert!(text.ends_with("\r\n\r\nHello both.\r\n"));
    // One record, for the customer and the provider, with both recipients delivered.
    for owner in [s.customer, PROVIDER] {
        let recs = transactions(&s.core, owner, "ann@c.example");
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        assert_eq!(r.sender, "x@remote.example");
        assert_eq!(r.helo, "client.example");
        assert_eq!(r.message_id.as_deref(), Some("<two@remote.example>"));
        assert_eq!(r.recipients.len(), 2);
        assert!(r.recipients.iter().all(|x| x.outcome == Outcome::Delivered));
        assert!(
            r.conversation.iter().any(|l| l
                .to_ascii_uppercase()
                .starts_with("C: MAIL FROM:<X@REMOTE.EXAMPLE>")),
            "{:?}",
            r.conversation
        );
        assert!(r.conversation.iter().any(|l| l == "C: (message content)"));
        assert!(!r.conversation.iter().any(|l| l.contains("Hello both")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_recipient_relay_and_full_mailbox_are_refused_and_logged() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250, "2.1.0")
expect(c.rcpt("nobody@c.example"), 550, "5.1.1")
expect(c.rcpt("someone@elsewhere.example"), 554, "5.7.1")
expect(c.rcpt("tiny@c.example"), 452, "4.2.2")
expect(c.rcpt("\"a@b\"@c.example"), 501, "5.5.4")
expect(c.rcpt("@relay.example:ann@c.example"), 501)
expect(c.rcpt("ann%elsewhere.example@c.example"), 550, "5.1.1")
c.command_encoding = "utf-8"
expect(c.docmd("RCPT", "TO:<\u00e9l\u00e8ve@c.example>"), 553, "5.6.7")
expect(c.docmd("DATA"), 554, "5.5.1")
expect(c.docmd("VRFY", "ann@c.example"), 252, "2.5.0")
expect(c.rset(), 250)
# RSET keeps the EHLO: a new transaction may start at once.
expect(c.mail("x@remote.example"), 250)
expect(c.rset(), 250)
c.quit()
"#,
    )
    .await;
    // The rejected transaction is on record for the provider and for the customer whose
    // domain the refused addresses are in.
    let recs = transactions(&s.core, PROVIDER, "nobody@c.example");
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(transactions(&s.core, s.customer, "nobody@c.example"), recs);
    let r = &recs[0];
    let reasons: Vec<_> = r
        .recipients
        .iter()
        .map(|x| (x.address.as_str(), x.outcome, x.reason.as_str()))
        .collect();
    assert!(reasons.contains(&("nobody@c.example", Outcome::Rejected, "unknown recipient")));
    assert!(reasons.contains(&(
        "someone@elsewhere.example",
        Outcome::Rejected,
        "relay denied"
    )));
    assert!(reasons.contains(&("tiny@c.example", Outcome::Deferred, "over quota")));
    assert!(r.conversation.iter().any(|l| l.starts_with("S: 554 5.7.1")));
    assert!(inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limits_and_overlong_lines() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example", ["SIZE=100000"]), 552, "5.3.4")
expect(c.mail("x@remote.example", ["SIZE=1000"]), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: big\r\n\r\n" + ("y" * 900 + "\r\n") * 100), 552, "5.3.4")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: long\r\n\r\n" + "z" * 1200 + "\r\n"), 500, "5.5.2")
# After both refusals the session still works.
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: fine\r\n\r\n" + "w" * 998 + "\r\n"), 250)
c.quit()
"#,
    )
    .await;
    let ann = inbox(&s.core, "ann@c.example").await;
    assert_eq!(ann.len(), 1);
    assert!(String::from_utf8_lossy(&ann[0].1).contains("Subject: fine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_stuffing_round_trips() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
msg = "Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nmiddle . dot\r\n.\r\nend\r\n"
assert c.sendmail("x@remote.example", ["ann@c.example"], msg) == {}
c.quit()
"#,
    )
    .await;
    let ann = inbox(&s.core, "ann@c.example").await;
    let text = String::from_utf8(ann[0].1.clone()).unwrap();
    assert!(
        text.ends_with("\r\n\r\n.\r\n..\r\n.leading\r\nmiddle . dot\r\n.\r\nend\r\n"),
        "{text}"
    );
    assert!(text.contains("\tfor <ann@c.example>;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands_and_smuggled_end_of_data() {
    let s = start().await;
    let out = python(
        s.smtp.port(),
        r#"
out = raw(
    b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<ann@c.example>\r\n"
    b"RCPT TO:<nobody@c.example>\r\nDATA\r\n"
    b"Subject: piped\r\n\r\nline\n.\nMAIL FROM:<evil@remote.example>\r\n"
    b"still body\r\n.\r\nQUIT\r\n"
)
print(out)
codes = [l[:3] for l in out.split("\r\n") if l[:3].isdigit() and (len(l) == 3 or l[3] == " ")]
assert codes == ["250", "250", "250", "550", "354", "250", "221"], codes
"#,
    )
    .await;
    assert!(out.contains("550 5.1.1"));
    let ann = inbox(&s.core, "ann@c.example").await;
    assert_eq!(ann.len(), 1);
    let text = String::from_utf8(ann[0].1.clone()).unwrap();
    // The bare-LF "dot" did not end the message: the smuggled command is body text (stored,
    // like every message, with CRLF line ends).
    assert!(
        text.ends_with("line\r\n.\r\nMAIL FROM:<evil@remote.example>\r\nstill body\r\n"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bdat_chunks() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
part1 = b"Subject: chunked\r\n\r\n"
part2 = b"no\r\n.\r\nstuffing here\r\n"
out = raw(
    b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<bob@c.example>\r\n"
    + b"BDAT %d\r\n" % len(part1) + part1
    + b"BDAT %d LAST\r\n" % len(part2) + part2
    + b"BDAT 3 LAST\r\nabcQUIT\r\n"
)
print(out)
assert "250 2.0.0 %d octets received" % len(part1) in out, out
assert "250 2.0.0 OK: queued as" in out, out
assert "503 5.5.1" in out, out
assert out.rstrip().endswith("closing"), out
"#,
    )
    .await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    assert!(
        bob[0]
            .1
            .ends_with(b"Subject: chunked\r\n\r\nno\r\n.\r\nstuffing here\r\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_resets_the_session_and_drops_injected_plaintext() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.starttls(context=CTX), 220, "2.0.0")
# A new EHLO is required after TLS (RFC 3207 §4.2).
expect(c.docmd("MAIL", "FROM:<x@remote.example>"), 503, "5.5.1")
code, ext = c.ehlo("client.example")
assert b"STARTTLS" not in ext
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: secure\r\n\r\nhi\r\n"), 250)
c.quit()

# Plaintext pipelined after STARTTLS is discarded, not run inside TLS.
sock = socket.create_connection(("127.0.0.1", PORT), timeout=20)
f = sock.makefile("rb")
f.readline()
sock.sendall(b"EHLO c\r\n")
while not f.readline().startswith(b"250 "):
    pass
sock.sendall(b"STARTTLS\r\nRSET\r\n")
assert f.readline().startswith(b"220")
t = CTX.wrap_socket(sock, server_hostname="localhost")
t.sendall(b"NOOP\r\n")
line = t.recv(4096)
assert line.startswith(b"250 2.0.0 OK"), line
"#,
    )
    .await;
    let ann = inbox(&s.core, "ann@c.example").await;
    assert!(String::from_utf8_lossy(&ann[0].1).contains("with ESMTPS id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_and_lists_expand_to_their_mailboxes() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
assert c.sendmail("x@remote.example", ["team@c.example"], "Subject: team\r\n\r\nx\r\n") == {}
assert c.sendmail("x@remote.example", ["all@c.example", "ann@c.example"], "Subject: all\r\n\r\nx\r\n") == {}
c.quit()
"#,
    )
    .await;
    assert_eq!(inbox(&s.core, "ann@c.example").await.len(), 2);
    assert_eq!(inbox(&s.core, "bob@c.example").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_members_in_other_domains_are_queued_with_the_local_delivery() {
    let s = start().await;
    let op = marque_core::Actor::operator();
    s.core
        .create_alias(
            &op,
            "forward@c.example",
            &["ann@c.example".into(), "ann.home@elsewhere.example".into()],
        )
        .await
        .expect("alias");
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
assert c.sendmail("x@remote.example", ["forward@c.example"], "Subject: fwd\r\n\r\nx\r\n") == {}
c.quit()
"#,
    )
    .await;
    assert_eq!(inbox(&s.core, "ann@c.example").await.len(), 1);
    let queued = s.hosting.queue_list(&op, 0, 10).await.expect("queue");
    assert_eq!(queued.len(), 1, "{queued:?}");
    let m = &queued[0].message;
    assert_eq!(m.sender, "x@remote.example");
    let to: Vec<&str> = m.recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(to, ["ann.home@elsewhere.example"]);
    let body = marque_store::blob::read(s.core.store(), &m.blob)
        .unwrap()
        .expect("the queued body is stored");
    assert!(String::from_utf8_lossy(&body).contains("Subject: fwd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_recipients_and_too_many_errors() {
    let s = start().await;
    python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
for i in range(5):
    expect(c.rcpt("ann@c.example"), 250)
expect(c.rcpt("ann@c.example"), 452, "4.5.3")
c.rset()
out = raw(b"".join(b"BOGUS %d\r\n" % i for i in range(20)))
assert "500 5.5.1" in out, out
assert "421 4.7.0" in out, out
assert out.count("500 5.5.1") == 10, out
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_pipelines_a_message() {
    let s = start().await;
    let port = s.smtp.port().to_string();
    let (ok, out) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--from",
        "x@remote.example",
        "--to",
        "bob@c.example",
        "--helo",
        "swaks.example",
        "--pipeline",
        "--header",
        "Subject: via swaks",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("250 2.0.0 OK: queued as"), "{out}");
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    assert!(String::from_utf8_lossy(&bob[0].1).contains("Subject: via swaks"));
    let (ok, out) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--from",
        "x@remote.example",
        "--to",
        "nobody@c.example",
        "--quit-after",
        "RCPT",
    ])
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("550 5.1.1"), "{out}");
}

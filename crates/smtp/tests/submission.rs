//! Submission on `submission` (STARTTLS, then AUTH) and `submissions` (implicit TLS).

mod common;

use common::{PASSWORD, inbox, python, start, swaks, transactions};
use marque_store::logs::Term;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_needs_tls_and_mail_needs_auth() {
    let s = start().await;
    python(
        s.submission.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
code, ext = c.ehlo("client.example")
assert b"AUTH" not in ext and b"STARTTLS" in ext
expect(c.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0ann@c.example\0x").decode()), 530, "5.7.0")
expect(c.mail("ann@c.example"), 530, "5.7.0")
c.starttls(context=CTX)
code, ext = c.ehlo("client.example")
assert b"AUTH PLAIN LOGIN" in ext, ext
expect(c.mail("ann@c.example"), 530, "5.7.0")
c.quit()
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_and_login_then_send_as_oneself_or_an_alias() {
    let s = start().await;
    let script = format!(
        r#"
PASSWORD = "{PASSWORD}"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
expect(c.login("ann@c.example", PASSWORD), 235, "2.7.0")
expect(c.mail("bob@c.example"), 553, "5.7.1")
expect(c.mail("sales@c.example"), 250)
expect(c.rcpt("bob@c.example"), 250)
expect(c.rcpt("someone@elsewhere.example"), 250, "2.1.5")
expect(c.data("Subject: from sales\r\nMessage-ID: <sales1@c.example>\r\n\r\nhi\r\n"), 250)
c.quit()

c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
c.user, c.password = "bob@c.example", PASSWORD
expect(c.auth("LOGIN", c.auth_login, initial_response_ok=False), 235, "2.7.0")
assert c.sendmail("bob@c.example", ["ann@c.example"], "Subject: from bob\r\n\r\nhi\r\n") == {{}}
c.quit()
"#
    );
    python(s.submission.port(), &script).await;
    let bob = inbox(&s.core, "bob@c.example").await;
    assert_eq!(bob.len(), 1);
    let text = String::from_utf8_lossy(&bob[0].1);
    assert!(text.contains("with ESMTPSA id"), "{text}");
    assert!(text.starts_with("Return-Path: <sales@c.example>"));
    assert_eq!(inbox(&s.core, "ann@c.example").await.len(), 1);
    // The record names the user, keeps the conversation, and never the secret.
    let recs = transactions(&s.core, s.customer, "sales@c.example");
    let r = recs
        .iter()
        .find(|r| r.message_id.as_deref() == Some("<sales1@c.example>"))
        .expect("record");
    assert_eq!(r.user.as_deref(), Some("ann@c.example"));
    assert_eq!(r.service, "submission");
    assert!(r.tls);
    let talk = r.conversation.join("\n");
    assert!(talk.contains("C: AUTH PLAIN ****"), "{talk}");
    assert!(talk.contains("S: 553 5.7.1"), "{talk}");
    assert!(!talk.contains(&base64_plain("ann@c.example", PASSWORD)));
    assert!(!talk.contains(PASSWORD));
    assert!(
        r.recipients
            .iter()
            .any(|x| x.address == "someone@elsewhere.example"
                && x.outcome == marque_delivery::Outcome::Queued)
    );
    // The remote recipient waits in the outbound queue, owned by the sender's tenant.
    let queued = s
        .hosting
        .queue_list(&marque_core::Actor::operator(), 0, 10)
        .await
        .expect("queue");
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].message.sender, "sales@c.example");
    assert_eq!(queued[0].message.tenant, s.customer);
    assert_eq!(
        queued[0].message.message_id.as_deref(),
        Some("<sales1@c.example>")
    );
}

fn base64_plain(user: &str, pass: &str) -> String {
    use std::fmt::Write;
    // Minimal base64 for the check above (standard alphabet, with padding).
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("\0{user}\0{pass}").into_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let _ = write!(out, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_on_the_auth_log() {
    let s = start().await;
    python(
        s.submission.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
try:
    c.login("ann@c.example", "wrong password here")
    raise SystemExit("login should fail")
except smtplib.SMTPAuthenticationError as e:
    assert e.smtp_code == 535, e
    assert e.smtp_error.startswith(b"5.7.8"), e
c.quit()
"#,
    )
    .await;
    let page = s
        .core
        .auth_log(
            s.customer,
            Some((Term::Address, "ann@c.example".into())),
            0,
            u64::MAX,
            None,
            10,
        )
        .await
        .unwrap();
    // smtplib tries PLAIN, then LOGIN: two attempts, both on record, both failures.
    assert_eq!(page.records.len(), 2);
    let mut mechanisms: Vec<_> = page.records.iter().map(|r| r.mechanism.as_str()).collect();
    mechanisms.sort();
    assert_eq!(mechanisms, ["LOGIN", "PLAIN"]);
    for r in &page.records {
        assert_eq!(
            (r.protocol.as_str(), r.outcome.as_str(), r.remote.as_str()),
            ("smtp", "failure", "127.0.0.1")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_submission_and_swaks_auth() {
    let s = start().await;
    let script = format!(
        r#"
c = smtplib.SMTP_SSL("127.0.0.1", PORT, context=CTX)
c.ehlo("client.example")
expect(c.login("ann@c.example", "{PASSWORD}"), 235)
assert c.sendmail("ann@c.example", ["bob@c.example"], "Subject: over 465\r\n\r\nhi\r\n") == {{}}
c.quit()
"#
    );
    python(s.submissions.port(), &script).await;
    assert_eq!(inbox(&s.core, "bob@c.example").await.len(), 1);

    let port = s.submission.port().to_string();
    let (ok, out) = swaks(&[
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--tls",
        "--auth",
        "LOGIN",
        "--auth-user",
        "bob@c.example",
        "--auth-password",
        PASSWORD,
        "--from",
        "bob@c.example",
        "--to",
        "ann@c.example",
        "--header",
        "Subject: swaks auth",
    ])
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("235 2.7.0"), "{out}");
    let ann = inbox(&s.core, "ann@c.example").await;
    assert!(String::from_utf8_lossy(&ann[0].1).contains("Subject: swaks auth"));
}

//! Open-relay tricks and user enumeration on port 25 and submission: each trick is refused
//! and nothing is stored; VRFY, EXPN and AUTH answer the same whether the address exists.

mod common;

/// Sends `rcpt` unauthenticated on port 25 and returns the RCPT reply; asserts DATA is then
/// refused for lack of recipients, so nothing can be relayed.
async fn rcpt_reply(s: &common::Server, rcpt: &str) -> String {
    common::python(
        s.smtp.port(),
        &format!(
            r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
code, text = c.docmd("RCPT", "TO:{rcpt}")
print(code, text.decode())
expect(c.docmd("DATA"), 554, "5.5.1")
c.quit()
"#
        ),
    )
    .await
    .trim()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_percent_hack_is_not_relayed() {
    let s = common::start().await;
    // Old sendmail rewrote user%host@relay into user@host and relayed it.
    let r = rcpt_reply(&s, "<victim%remote.example@c.example>").await;
    assert_eq!(r, "550 5.1.1 No such user here");
    let r = rcpt_reply(&s, "<ann%remote.example@c.example>").await;
    assert_eq!(r, "550 5.1.1 No such user here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bang_path_is_not_relayed() {
    let s = common::start().await;
    let r = rcpt_reply(&s, "<remote.example!victim@c.example>").await;
    assert_eq!(r, "550 5.1.1 No such user here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_routes_are_refused() {
    let s = common::start().await;
    let r = rcpt_reply(&s, "<@c.example:victim@remote.example>").await;
    assert_eq!(r, "501 5.5.4 Syntax error: source routes are not accepted");
    let r = rcpt_reply(&s, "<@c.example,@mx.c.example:ann@c.example>").await;
    assert_eq!(r, "501 5.5.4 Syntax error: source routes are not accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quoted_local_parts_are_refused() {
    let s = common::start().await;
    for trick in [
        r#"<\"victim@remote.example\"@c.example>"#,
        r#"<\"victim%remote.example\"@c.example>"#,
        r#"<\"ann\"@c.example>"#,
    ] {
        let r = rcpt_reply(&s, trick).await;
        assert_eq!(
            r, "501 5.5.4 Syntax error: quoted local parts are not accepted",
            "{trick}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_at_and_foreign_domains_are_refused() {
    let s = common::start().await;
    let r = rcpt_reply(&s, "<victim@remote.example@c.example>").await;
    assert_eq!(r, "501 5.5.4 Syntax error: bad address");
    let r = rcpt_reply(&s, "<victim@remote.example>").await;
    assert_eq!(r, "554 5.7.1 Relay access denied");
    let r = rcpt_reply(&s, "<victim@[127.0.0.1]>").await;
    assert_eq!(r, "554 5.7.1 Relay access denied");
    let r = rcpt_reply(&s, "<victim@c.example.remote.example>").await;
    assert_eq!(r, "554 5.7.1 Relay access denied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vrfy_and_expn_answer_the_same_for_existing_and_unknown_addresses() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
answers = set()
for who in ["ann@c.example", "nobody@c.example", "ann", "nobody", "team@c.example", "<ann@c.example>"]:
    answers.add(c.docmd("VRFY", who))
assert answers == {(252, b"2.5.0 Cannot VRFY user, but will accept message")}, answers
answers = set()
for who in ["team@c.example", "all@c.example", "nobody@c.example", "all"]:
    answers.add(c.docmd("EXPN", who))
assert answers == {(252, b"2.5.0 Cannot EXPN")}, answers
c.quit()
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_answer_the_same_whatever_was_wrong() {
    let s = common::start().await;
    common::python(
        s.submission.port(),
        r#"
import base64
def plain(user, password):
    return base64.b64encode(b"\0" + user + b"\0" + password).decode()
answers = set()
for user, password in [
    (b"ann@c.example", b"wrong password"),   # existing user, bad password
    (b"nobody@c.example", b"wrong password"), # unknown user, local domain
    (b"ann@elsewhere.example", b"x"),         # unknown domain
    (b"ann", b"correct horse battery"),       # bare local part
]:
    c = smtplib.SMTP("127.0.0.1", PORT)
    c.starttls(context=CTX)
    c.ehlo("client.example")
    answers.add(c.docmd("AUTH", "PLAIN " + plain(user, password)))
    c.quit()
# LOGIN answers the same as PLAIN.
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
expect(c.docmd("AUTH", "LOGIN " + base64.b64encode(b"nobody@c.example").decode()), 334)
answers.add(c.docmd(base64.b64encode(b"whatever").decode()))
c.quit()
assert answers == {(535, b"5.7.8 Authentication credentials invalid")}, answers
"#,
    )
    .await;
}

//! Malformed DSN parameters (RFC 3461 §4) are refused over a real socket (Python smtplib), each
//! with its own clear reply: `501 5.5.4` for a bad value or a repeated parameter, `555 5.5.4`
//! for a parameter we do not know (RFC 5321 §4.1.1.11). The session goes on after each refusal,
//! and the same command with good parameters is accepted.

mod common;

use common::{python, start};

/// Sends `MAIL FROM:<…>{mail}` and, when `rcpt` is given, `RCPT TO:<ann@c.example>{rcpt}`
/// after a plain MAIL; expects `code` and `enhanced` with `text` in the reply to the command
/// under test, then checks the session still takes a good transaction.
async fn refused(mail: &str, rcpt: Option<&str>, code: u16, text: &str) {
    let s = start().await;
    let (mail_line, rcpt_line) = match rcpt {
        None => (format!("FROM:<zed@remote.example>{mail}"), String::new()),
        Some(r) => (
            "FROM:<zed@remote.example>".to_string(),
            format!("TO:<ann@c.example>{r}"),
        ),
    };
    let script = format!(
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
assert c.has_extn("dsn"), c.esmtp_features
if {rcpt_test}:
    expect(c.docmd("MAIL", {mail_line:?}), 250)
    r = c.docmd("RCPT", {rcpt_line:?})
else:
    r = c.docmd("MAIL", {mail_line:?})
expect(r, {code}, "5.5.4")
assert {text:?} in r[1].decode(), r
# The session goes on: a good transaction with DSN parameters is accepted.
expect(c.docmd("RSET"), 250)
expect(c.docmd("MAIL", "FROM:<zed@remote.example> RET=HDRS ENVID=QQ+2B1"), 250)
expect(c.docmd("RCPT", "TO:<ann@c.example> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;ann+40c.example"), 250)
c.quit()
print("ok")
"#,
        rcpt_test = if rcpt.is_some() { "True" } else { "False" },
    );
    assert_eq!(python(s.smtp.port(), &script).await.trim(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_never_with_another_value_is_refused() {
    refused(
        "",
        Some(" NOTIFY=NEVER,SUCCESS"),
        501,
        "NOTIFY=NEVER cannot be combined",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_notify_value_is_refused() {
    refused(
        "",
        Some(" NOTIFY=SOMETIMES"),
        501,
        "NOTIFY must be NEVER or a list",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_given_twice_is_refused() {
    refused("", Some(" NOTIFY=FAILURE NOTIFY=DELAY"), 501, "given twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ret_is_refused() {
    refused(" RET=BODY", None, 501, "RET must be FULL or HDRS").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ret_given_twice_is_refused() {
    refused(" RET=FULL RET=HDRS", None, 501, "RET given twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envid_not_xtext_is_refused() {
    refused(" ENVID=a=b", None, 501, "ENVID must be 1 to 100").await;
    refused(" ENVID=a+zz", None, 501, "xtext").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envid_too_long_is_refused() {
    let long = format!(" ENVID={}", "e".repeat(101));
    refused(&long, None, 501, "ENVID must be 1 to 100").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envid_given_twice_is_refused() {
    refused(" ENVID=one ENVID=two", None, 501, "ENVID given twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orcpt_not_xtext_is_refused() {
    refused(
        "",
        Some(" ORCPT=rfc822;a=b@c.example"),
        501,
        "ORCPT must be addr-type;address",
    )
    .await;
    refused("", Some(" ORCPT=ann@c.example"), 501, "ORCPT must be").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orcpt_too_long_is_refused() {
    let long = format!(" ORCPT=rfc822;{}@c.example", "o".repeat(500));
    refused("", Some(&long), 501, "ORCPT must be").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orcpt_given_twice_is_refused() {
    refused(
        "",
        Some(" ORCPT=rfc822;a+40c.example ORCPT=rfc822;b+40c.example"),
        501,
        "given twice",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dsn_parameter_without_value_is_refused() {
    refused(" RET", None, 501, "needs a value").await;
    refused("", Some(" NOTIFY"), 501, "needs a value").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_parameter_gets_555() {
    refused(" DELIVERBY=100", None, 555, "MAIL parameter not recognized").await;
    refused(
        "",
        Some(" RRVS=2030-01-01T00:00:00Z"),
        555,
        "RCPT parameter not recognized",
    )
    .await;
}

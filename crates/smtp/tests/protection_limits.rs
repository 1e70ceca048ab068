//! Limits on what one transaction may carry (the test config: 64 KiB messages, 5 recipients):
//! each refusal leaves the session usable and stores nothing.

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_size_over_the_limit_is_refused_at_mail_from() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
code, ext = c.ehlo("client.example")
assert b"SIZE 65536" in ext, ext
expect(c.mail("x@remote.example", ["SIZE=65537"]), 552, "5.3.4")
expect(c.mail("x@remote.example", ["SIZE=65536"]), 250)
c.quit()
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_is_read_through_and_refused() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
# 4 MiB, far past 64 KiB, without SIZE: read to its end, then 552.
expect(c.data("Subject: big\r\n\r\n" + ("y" * 998 + "\r\n") * 4096), 552, "5.3.4")
expect(c.noop(), 250)
c.quit()
"#,
    )
    .await;
    assert!(common::inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_line_over_1000_octets_is_refused() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: long\r\n\r\n" + "z" * 999 + "\r\n"), 500, "5.5.2")
expect(c.noop(), 250)
c.quit()
"#,
    )
    .await;
    assert!(common::inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_past_the_maximum_get_452_and_the_rest_is_delivered() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
for i in range(5):
    expect(c.rcpt("ann@c.example"), 250)
expect(c.rcpt("bob@c.example"), 452, "4.5.3")
expect(c.rcpt("bob@c.example"), 452, "4.5.3")
expect(c.data("Subject: many\r\n\r\nx\r\n"), 250)
c.quit()
"#,
    )
    .await;
    assert_eq!(common::inbox(&s.core, "ann@c.example").await.len(), 1);
    assert!(common::inbox(&s.core, "bob@c.example").await.is_empty());
}

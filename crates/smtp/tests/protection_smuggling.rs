//! SMTP smuggling (RFC 5321 §2.3.8, §4.1.1.4): only CRLF `.` CRLF ends DATA. For each
//! look-alike end-of-data a client might use to hide a second message inside the first, the
//! test pipelines the whole thing in one write and checks that DATA did not end there: exactly
//! one message is accepted, it holds the would-be commands as text, and the would-be second
//! recipient gets nothing.

mod common;

/// Sends one message whose body contains `fake_end` followed by a complete second transaction,
/// then the real end-of-data.
async fn assert_not_an_end_of_data(fake_end: &[u8]) {
    let s = common::start().await;
    let fake = fake_end
        .iter()
        .map(|b| format!("\\x{b:02x}"))
        .collect::<String>();
    let out = common::python(
        s.smtp.port(),
        &format!(
            r#"
FAKE = b"{fake}"
out = raw(
    b"EHLO client.example\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<ann@c.example>\r\nDATA\r\n"
    b"Subject: first\r\n\r\nhello" + FAKE +
    b"MAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@c.example>\r\nDATA\r\n"
    b"Subject: injected\r\n\r\nsmuggled\r\n"
    b".\r\nQUIT\r\n",
    wait_for=b"221 ",
)
print(out)
codes = [l[:3] for l in out.split("\r\n") if l[:3].isdigit() and (len(l) == 3 or l[3] == " ")]
# EHLO, MAIL, RCPT, DATA, the one end of data, QUIT: the injected commands got no reply.
assert codes == ["250", "250", "250", "354", "250", "221"], codes
"#
        ),
    )
    .await;
    assert_eq!(out.matches("queued as").count(), 1, "{out}");
    assert!(
        common::inbox(&s.core, "bob@c.example").await.is_empty(),
        "a second message was injected"
    );
    let ann = common::inbox(&s.core, "ann@c.example").await;
    assert_eq!(ann.len(), 1);
    let text = String::from_utf8_lossy(&ann[0].1);
    assert!(text.contains("Subject: first"), "{text}");
    assert!(
        text.contains("MAIL FROM:<evil@remote.example>") && text.contains("smuggled"),
        "the would-be commands are part of the first message: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lf_dot_lf_does_not_end_data() {
    assert_not_an_end_of_data(b"\n.\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cr_dot_cr_does_not_end_data() {
    assert_not_an_end_of_data(b"\r.\r").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_dot_lf_does_not_end_data() {
    assert_not_an_end_of_data(b"\r\n.\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lf_dot_crlf_does_not_end_data() {
    assert_not_an_end_of_data(b"\n.\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_dot_cr_does_not_end_data() {
    assert_not_an_end_of_data(b"\r\n.\r").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cr_dot_crlf_does_not_end_data() {
    assert_not_an_end_of_data(b"\r.\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_before_the_dot_does_not_end_data() {
    assert_not_an_end_of_data(b"\r\n\0.\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_after_the_dot_does_not_end_data() {
    assert_not_an_end_of_data(b"\r\n.\0\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_after_the_dot_does_not_end_data() {
    assert_not_an_end_of_data(b"\r\n. \r\n").await;
}

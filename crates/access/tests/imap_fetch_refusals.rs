//! FETCH refusals change nothing and follow the grammar: a BINARY fetch without PEEK that
//! meets a transfer encoding the server cannot decode fails with `NO [UNKNOWN-CTE]`
//! (RFC 3516 §4.3) and leaves `\Seen` unset; a partial range without its length
//! (`BODY[1]<40>`) is not in the command grammar (RFC 3501 §9, RFC 3516 §6, RFC 9051 §9:
//! `"<" number "." nz-number ">"`) and is `BAD`.

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{PASSWORD, USER, start};
use raw_client::Raw;

const MSG: &[u8] = b"From: a@c.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n\
begin 644 f\r\nend\r\n\
--b--\r\n";

async fn flags(c: &mut Raw) -> String {
    c.ok("g", "FETCH 1 (FLAGS)").await.join("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_binary_fetch_leaves_seen_unset() {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    assert!(c.append("a", "INBOX", MSG, false).await.starts_with("a OK"));
    c.ok("s", "SELECT INBOX").await;
    for items in [
        "BINARY[2]",
        "BINARY[1] BINARY[2]",
        "BINARY[1] BINARY.SIZE[2]",
    ] {
        let got = c.run("u", &format!("FETCH 1 ({items})")).await;
        let tagged = String::from_utf8_lossy(got.last().expect("tagged")).into_owned();
        assert!(
            tagged.starts_with("u NO [UNKNOWN-CTE]"),
            "{items}: {tagged}"
        );
        assert!(
            got.iter()
                .all(|l| !String::from_utf8_lossy(l).contains("\\Seen")),
            "{items}: {got:?}"
        );
        let f = flags(&mut c).await;
        assert!(!f.contains("\\Seen"), "{items}: {f}");
    }
    // A BINARY that can be answered sets \Seen and says so.
    let got = c.ok("b", "FETCH 1 (BINARY[1])").await.join("");
    assert!(
        got.contains("BINARY[1] {5}\r\nhello") && got.contains("\\Seen"),
        "{got}"
    );
    assert!(flags(&mut c).await.contains("\\Seen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_needs_its_length() {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    assert!(c.append("a", "INBOX", MSG, false).await.starts_with("a OK"));
    c.ok("s", "SELECT INBOX").await;
    for item in [
        "BINARY[1]<40>",
        "BODY[1]<40>",
        "BINARY.PEEK[]<0>",
        "BODY.PEEK[]<0.0>",
    ] {
        let got = c.run("p", &format!("FETCH 1 ({item})")).await;
        let tagged = String::from_utf8_lossy(got.last().expect("tagged")).into_owned();
        assert!(tagged.starts_with("p BAD"), "{item}: {tagged}");
    }
    // Nothing was marked, and the session goes on; `<offset.length>` is answered `<offset>`.
    assert!(!flags(&mut c).await.contains("\\Seen"));
    let got = c.ok("q", "FETCH 1 (BODY.PEEK[]<6.9>)").await.join("");
    assert!(got.contains("BODY[]<6> {9}\r\na@c.examp"), "{got}");
}

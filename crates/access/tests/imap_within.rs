//! WITHIN (RFC 5032): the OLDER and YOUNGER search keys compare the age of a message's
//! internal date, in seconds, with an interval.

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{PASSWORD, USER, start};
use raw_client::Raw;

fn lines(r: &[String], prefix: &str) -> Vec<String> {
    r.iter()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_and_younger() {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    let caps = c.ok("c", "CAPABILITY").await.join("");
    assert!(caps.contains(" WITHIN"), "{caps}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    // Message 1 arrived two days ago (its APPEND date), message 2 now.
    let old = marque_access::imap::render::date_time(now - 2 * 86_400);
    let m = b"Subject: old\r\n\r\nx\r\n";
    c.send(format!("a APPEND INBOX {old} {{{}+}}\r\n", m.len()).as_bytes())
        .await;
    c.send(m).await;
    c.send(b"\r\n").await;
    let r = c.until("a").await;
    assert!(r.last().is_some_and(|l| l.starts_with(b"a OK")), "{r:?}");
    assert!(
        c.append("b", "INBOX", b"Subject: new\r\n\r\ny\r\n", false)
            .await
            .starts_with("b OK")
    );
    c.ok("s", "SELECT INBOX").await;
    let r = c.ok("o", "SEARCH OLDER 86400").await;
    assert_eq!(lines(&r, "* SEARCH"), vec!["* SEARCH 1"]);
    let r = c.ok("y", "SEARCH YOUNGER 86400").await;
    assert_eq!(lines(&r, "* SEARCH"), vec!["* SEARCH 2"]);
    // Both within three days; none older than three.
    let r = c.ok("y3", "SEARCH YOUNGER 259200").await;
    assert_eq!(lines(&r, "* SEARCH"), vec!["* SEARCH 1 2"]);
    let r = c.ok("o3", "UID SEARCH RETURN (COUNT) OLDER 259200").await;
    assert_eq!(
        lines(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"o3\") UID COUNT 0"]
    );
    let r = c.ok("n", "SEARCH NOT OLDER 3600").await;
    assert_eq!(lines(&r, "* SEARCH"), vec!["* SEARCH 2"]);
    // RFC 5032 §4: the interval is nz-number.
    for bad in [
        "SEARCH OLDER 0",
        "SEARCH YOUNGER",
        "SEARCH YOUNGER 4294967296",
        "SEARCH OLDER x",
    ] {
        let r = c.run("x", bad).await;
        let tagged = String::from_utf8_lossy(r.last().expect("tagged")).into_owned();
        assert!(tagged.starts_with("x BAD"), "{bad}: {tagged}");
    }
}

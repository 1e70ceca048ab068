//! ESORT (RFC 5267 §3) over a real IMAP session: SORT with RETURN options answers with an
//! ESEARCH response whose MIN and MAX are the first and last messages in sort order and
//! whose ALL lists them in that order; SAVE keeps the result for `$` (RFC 5182). SORT=DISPLAY
//! (RFC 5957) keys, and the same from Python's imaplib (`tests/imap/esort.py`, with WITHIN).

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{PASSWORD, USER, account, deliver, python_client_passes, start};
use raw_client::Raw;

/// Subjects in arrival order; by base subject the order is 3 (alpha), 1 (beta), 4 (delta),
/// 2 (gamma).
const SUBJECTS: [&str; 4] = ["beta", "gamma", "Re: alpha", "delta"];

async fn session() -> (common::Server, Raw) {
    let server = start(None).await;
    let a = account(&server.core, USER).await;
    for (i, s) in SUBJECTS.iter().enumerate() {
        let m = format!(
            "From: x{i}@c.example\r\nSubject: {s}\r\nDate: Mon, {} Jan 2024 10:00:00 +0000\r\n\r\nbody {i}\r\n",
            10 - i
        );
        deliver(&server.core, a, m.as_bytes()).await;
    }
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    c.ok("s", "SELECT INBOX").await;
    (server, c)
}

fn untagged(lines: &[String], prefix: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_return_answers_with_esearch() {
    let (_server, mut c) = session().await;
    let caps = c.ok("c", "CAPABILITY").await.join("");
    assert!(caps.contains(" ESORT"), "{caps}");
    // Without RETURN: the plain SORT answer, unchanged (RFC 5256 §4).
    let r = c.ok("p", "SORT (SUBJECT) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* SORT"), vec!["* SORT 3 1 4 2"]);
    // RFC 5267 §3: MIN/MAX follow the sort order; ALL is in sort order.
    let r = c
        .ok(
            "A282",
            "SORT RETURN (MIN MAX ALL COUNT) (SUBJECT) UTF-8 ALL",
        )
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"A282\") MIN 3 MAX 2 ALL 3,1,4,2 COUNT 4"]
    );
    assert!(untagged(&r, "* SORT").is_empty(), "{r:?}");
    // Reverse date: the latest Date: is message 1, so arrival order.
    let r = c
        .ok("d", "SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL")
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"d\") ALL 1:4"]
    );
    // An empty RETURN list means ALL; UID SORT answers with UIDs and the UID marker.
    let r = c
        .ok("u", "UID SORT RETURN () (SUBJECT) UTF-8 NOT SUBJECT gamma")
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"u\") UID ALL 3,1,4"]
    );
    // RFC 5267 §3's example: nothing matches, COUNT 0 and nothing else.
    let r = c
        .ok(
            "A283",
            "SORT RETURN (COUNT MIN) (SUBJECT) UTF-8 TEXT \"not in mailbox\"",
        )
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"A283\") COUNT 0"]
    );
    // Bad options are BAD.
    let r = c.run("b", "SORT RETURN (FIRST) (SUBJECT) UTF-8 ALL").await;
    assert!(String::from_utf8_lossy(r.last().unwrap()).starts_with("b BAD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_return_save_feeds_dollar() {
    let (_server, mut c) = session().await;
    // SAVE alone: no ESEARCH response, the result kept for `$` (RFC 5182 §2.4).
    let r = c
        .ok("s1", "SORT RETURN (SAVE) (SUBJECT) UTF-8 NOT SUBJECT beta")
        .await;
    assert!(untagged(&r, "* ESEARCH").is_empty(), "{r:?}");
    let r = c.ok("f", "FETCH $ (UID)").await;
    assert_eq!(untagged(&r, "* ").len(), 3, "{r:?}");
    // SAVE with MIN: only the first message in sort order is kept.
    let r = c
        .ok("s2", "SORT RETURN (SAVE MIN) (SUBJECT) UTF-8 ALL")
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"s2\") MIN 3"]
    );
    let r = c.ok("f", "FETCH $ (UID)").await;
    assert_eq!(untagged(&r, "* "), vec!["* 3 FETCH (UID 3)"]);
}

/// RFC 5957: DISPLAYFROM and DISPLAYTO sort by the display name of the first address, its
/// encoded words decoded, or by the address when it has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_by_display_name() {
    let server = start(None).await;
    let a = account(&server.core, USER).await;
    for (from, to) in [
        ("\"Zed Alpha\" <aaa@c.example>", "Mia <zz@c.example>"),
        ("bob@c.example", "=?utf-8?q?Kai?= <aa@c.example>"),
        (
            "=?utf-8?q?Carl?= <zzz@c.example>",
            "team: Lee <b@c.example>;",
        ),
        ("\"\" <abe@c.example>", "yve@c.example"),
    ] {
        let m = format!("From: {from}\r\nTo: {to}\r\nSubject: s\r\n\r\nb\r\n");
        deliver(&server.core, a, m.as_bytes()).await;
    }
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    let caps = c.ok("c", "CAPABILITY").await.join("");
    assert!(caps.contains(" SORT=DISPLAY"), "{caps}");
    c.ok("s", "SELECT INBOX").await;
    // ABE@C.EXAMPLE, BOB@C.EXAMPLE, CARL, ZED ALPHA (by FROM it would be aaa, abe, bob, zzz).
    let r = c.ok("f", "SORT (DISPLAYFROM) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* SORT"), vec!["* SORT 4 2 3 1"]);
    let r = c.ok("g", "SORT (FROM) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* SORT"), vec!["* SORT 1 4 2 3"]);
    // KAI, LEE (the group's first member), MIA, YVE@C.EXAMPLE.
    let r = c.ok("t", "SORT (REVERSE DISPLAYTO) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* SORT"), vec!["* SORT 4 1 3 2"]);
    let r = c
        .ok("e", "UID SORT RETURN (MIN MAX) (DISPLAYTO) UTF-8 ALL")
        .await;
    assert_eq!(
        untagged(&r, "* ESEARCH"),
        vec!["* ESEARCH (TAG \"e\") UID MIN 2 MAX 4"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_sorts_with_return_options() {
    let server = start(None).await;
    python_client_passes("esort.py", server.port).await;
}

//! APPEND's extensions over a real IMAP session: MULTIAPPEND (RFC 3502: several messages in
//! one command, all or none, APPENDUID with a uid-set from RFC 4315 §3) with synchronising,
//! non-synchronising (RFC 7888) and binary (RFC 3516) literals, and CATENATE (RFC 4469) with
//! IMAP URLs (RFC 5092). What was stored is read back from the store or with FETCH.

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{
    PASSWORD, QUOTA_PASSWORD, QUOTA_USER, USER, account, folder, python_client_passes, start,
};
use marque_store::mail::Flags;
use raw_client::{Raw, fetched};

fn msg(subject: &str, body: &str) -> Vec<u8> {
    format!("From: a@c.example\r\nSubject: {subject}\r\n\r\n{body}\r\n").into_bytes()
}

/// Sends one APPEND of `parts`: each is (text before the literal, literal marker style, data).
/// For a synchronising literal the client waits for the continuation, as RFC 3501 §7.5 says;
/// returns every response, the continuations included.
async fn multi(c: &mut Raw, tag: &str, head: &str, parts: &[(&str, &str, &[u8])]) -> Vec<String> {
    multi_tail(c, tag, head, parts, "").await
}

/// [`multi`], with `tail` sent after the last literal (before the CRLF).
async fn multi_tail(
    c: &mut Raw,
    tag: &str,
    head: &str,
    parts: &[(&str, &str, &[u8])],
    tail: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut line = format!("{tag} {head}");
    for (before, marker, data) in parts {
        line.push_str(before);
        let sync = !marker.contains('+');
        let open = marker.replace('+', "");
        let plus = if sync { "" } else { "+" };
        line.push_str(&format!("{open}{{{}{plus}}}\r\n", data.len()));
        c.send(line.as_bytes()).await;
        line.clear();
        if sync {
            let cont = String::from_utf8_lossy(&c.response().await).into_owned();
            let refused = !cont.starts_with('+');
            seen.push(cont);
            if refused {
                return seen;
            }
        }
        c.send(data).await;
    }
    line.push_str(tail);
    line.push_str("\r\n");
    c.send(line.as_bytes()).await;
    for r in c.until(tag).await {
        seen.push(String::from_utf8_lossy(&r).into_owned());
    }
    seen
}

async fn session(user: &str, password: &str) -> (common::Server, Raw) {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(user, password).await;
    (server, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiappend_stores_every_message_in_order() {
    let (server, mut c) = session(USER, PASSWORD).await;
    let caps = c.ok("c", "CAPABILITY").await.join("");
    assert!(caps.contains(" MULTIAPPEND"), "{caps}");
    c.ok("s", "SELECT INBOX").await;
    let (one, two, three) = (msg("one", "1"), msg("two", "2"), msg("three", "3"));
    // RFC 3502 §7's example shape: flags and a date on one message, a plain literal, a
    // LITERAL+ one and a literal8; one continuation for each synchronising literal only.
    let got = multi(
        &mut c,
        "A003",
        "APPEND INBOX",
        &[
            (
                " (\\Seen) \"7-Feb-1994 21:52:25 -0800\" ",
                "",
                one.as_slice(),
            ),
            (" ", "+", two.as_slice()),
            (" ($Forwarded \\Flagged) ", "~", three.as_slice()),
        ],
    )
    .await;
    let conts = got.iter().filter(|r| r.starts_with('+')).count();
    assert_eq!(conts, 2, "{got:#?}");
    let tagged = got.last().expect("tagged");
    let validity: u32 = {
        let a = account(&server.core, USER).await;
        let store = server.core.store().clone();
        store
            .read(move |st| {
                Ok(marque_store::mail::mailbox_by_name(st, a, "INBOX")?
                    .expect("INBOX")
                    .uidvalidity)
            })
            .await
            .expect("read")
    };
    // RFC 4315 §3: the uid-set, in the order of the messages.
    assert_eq!(
        tagged,
        &format!("A003 OK [APPENDUID {validity} 1:3] APPEND completed\r\n")
    );
    // The selected session learns of the three at once.
    assert!(got.iter().any(|r| r == "* 3 EXISTS\r\n"), "{got:#?}");
    let stored = folder(&server.core, account(&server.core, USER).await, "INBOX")
        .await
        .expect("INBOX");
    let subjects: Vec<&str> = stored.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, vec!["one", "two", "three"]);
    assert_eq!(stored[0].flags, Flags::SEEN);
    assert_eq!(stored[1].flags, Flags::empty());
    assert_eq!(stored[2].flags, Flags::FLAGGED);
    let f = c.ok("f", "FETCH 1:3 (INTERNALDATE FLAGS)").await.join("");
    assert!(
        f.contains("INTERNALDATE \"07-Feb-1994 21:52:25 -0800\""),
        "{f}"
    );
    assert!(f.contains("$Forwarded"), "{f}");
    // Each body is exactly its literal.
    for (n, m) in [(1, &one), (2, &two), (3, &three)] {
        let got = c.run("b", &format!("FETCH {n} BODY.PEEK[]")).await;
        let mut want = format!("* {n} FETCH (BODY[] {{{}}}\r\n", m.len()).into_bytes();
        want.extend_from_slice(m);
        want.extend_from_slice(b")\r\n");
        assert_eq!(fetched(&got), want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiappend_is_all_or_nothing() {
    let (server, mut c) = session(USER, PASSWORD).await;
    let a = account(&server.core, USER).await;
    let (one, two) = (msg("one", "1"), msg("two", "2"));
    // A zero-length literal cancels the command: nothing is appended (RFC 3502).
    let got = multi(
        &mut c,
        "z",
        "APPEND INBOX",
        &[(" ", "", one.as_slice()), (" ", "", b"")],
    )
    .await;
    assert!(got.last().expect("tagged").starts_with("z NO"), "{got:#?}");
    // A bad flag on the second message: the command is refused whole.
    let got = multi(
        &mut c,
        "b",
        "APPEND INBOX",
        &[
            (" ", "+", one.as_slice()),
            (" (\\Recent) ", "+", two.as_slice()),
        ],
    )
    .await;
    assert!(got.last().expect("tagged").starts_with("b BAD"), "{got:#?}");
    // No such mailbox.
    let got = multi(
        &mut c,
        "t",
        "APPEND Nowhere",
        &[(" ", "", one.as_slice()), (" ", "", two.as_slice())],
    )
    .await;
    assert!(
        got.last().expect("tagged").starts_with("t NO [TRYCREATE]"),
        "{got:#?}"
    );
    // A second message over APPENDLIMIT is refused before it is sent; the first is not kept.
    c.send(format!("L APPEND INBOX {{{}}}\r\n", one.len()).as_bytes())
        .await;
    assert!(c.response().await.starts_with(b"+"));
    c.send(&one).await;
    c.send(b" {67108865}\r\n").await;
    let r = c.until("L").await;
    let tagged = String::from_utf8_lossy(r.last().expect("tagged")).into_owned();
    assert!(tagged.starts_with("L NO [TOOBIG]"), "{tagged}");
    assert_eq!(folder(&server.core, a, "INBOX").await, Some(Vec::new()));
    // The session goes on.
    let got = multi(&mut c, "ok", "APPEND INBOX", &[(" ", "+", one.as_slice())]).await;
    assert!(got.last().expect("tagged").starts_with("ok OK [APPENDUID "));
    assert_eq!(
        folder(&server.core, a, "INBOX").await.expect("INBOX").len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiappend_quota_counts_the_sum() {
    let (server, mut c) = session(QUOTA_USER, QUOTA_PASSWORD).await;
    let a = account(&server.core, QUOTA_USER).await;
    // The mailbox holds 1 MB: each message fits alone, the two together do not.
    let big = |s: &str| msg(s, &"x".repeat(600 * 1024));
    let (one, two) = (big("one"), big("two"));
    let got = multi(
        &mut c,
        "q",
        "APPEND INBOX",
        &[(" ", "+", one.as_slice()), (" ", "+", two.as_slice())],
    )
    .await;
    assert!(
        got.last().expect("tagged").starts_with("q NO [OVERQUOTA]"),
        "{got:#?}"
    );
    assert_eq!(folder(&server.core, a, "INBOX").await, Some(Vec::new()));
    let got = multi(&mut c, "q1", "APPEND INBOX", &[(" ", "+", one.as_slice())]).await;
    assert!(got.last().expect("tagged").starts_with("q1 OK"), "{got:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_sends_a_multiappend() {
    let server = start(None).await;
    python_client_passes("multiappend.py", server.port).await;
}

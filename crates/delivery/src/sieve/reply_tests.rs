use super::*;

const ORIGINAL: &[u8] =
    b"From: Joe <joe@remote.example>\r\nTo: ann@c.example\r\nSubject: Lunch?\r\nMessage-ID: <m1@remote.example>\r\n\r\nhi\r\n";

/// A message laid out as `sieve-rs` composes a vacation reply to [`ORIGINAL`].
fn composed(from: &str, subject: &str, mime: bool, reason: &str) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: Joe <joe@remote.example>\r\nSubject: {subject}\r\n\
         In-Reply-To: <m1@remote.example>\r\nReferences: <m1@remote.example>\r\n\
         Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <x@localhost>\r\n\
         Auto-Submitted: auto-replied\r\n"
    );
    if !mime {
        m.push_str("Content-type: text/plain; charset=utf-8\r\n\r\n");
    }
    m.push_str(reason);
    m.into_bytes()
}

fn rebuild_as_ann(composed: &[u8]) -> Reply {
    let owns = |a: &str| a.eq_ignore_ascii_case("ann@c.example") || a == "sales@c.example";
    let cx = ReplyContext {
        user: "ann@c.example",
        to: "joe@remote.example",
        original: ORIGINAL,
        hostname: "mx.c.example",
        now: 1_800_000_000,
        owns: &owns,
    };
    rebuild(composed, &cx).expect("a reply")
}

fn fields(raw: &[u8]) -> Vec<(String, String)> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    header::parse_fields(&raw[..end + 2]).expect("well-formed fields")
}

fn names(raw: &[u8]) -> Vec<String> {
    fields(raw).into_iter().map(|(n, _)| n).collect()
}

const NAMES: [&str; 11] = [
    "From",
    "To",
    "Subject",
    "In-Reply-To",
    "References",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

fn value(raw: &[u8], name: &str) -> String {
    fields(raw)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[test]
fn a_plain_reply_keeps_the_scripts_wording() {
    let r = rebuild_as_ann(&composed(
        "Ann <ann@c.example>",
        "Away",
        false,
        "Back Monday.",
    ));
    assert_eq!(names(&r.raw), NAMES);
    assert_eq!(value(&r.raw, "From"), "Ann <ann@c.example>");
    assert_eq!(value(&r.raw, "To"), "joe@remote.example");
    assert_eq!(value(&r.raw, "Subject"), "Away");
    assert_eq!(value(&r.raw, "In-Reply-To"), "<m1@remote.example>");
    assert!(r.raw.ends_with(b"\r\n\r\nBack Monday.\r\n"));
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    // An alias of the user is theirs too.
    let r = rebuild_as_ann(&composed("sales@c.example", "Away", false, "x"));
    assert_eq!(value(&r.raw, "From"), "sales@c.example");
}

#[test]
fn a_from_that_is_not_the_users_falls_back_to_the_users_address() {
    for from in [
        "security@bank.example",
        "Bank <security@bank.example>",
        "bob@c.example",
        "Me <ann@c.example> \r\nBcc: someone@else.example",
        "ann@c.example\r\n Bcc: someone@else.example",
    ] {
        let r = rebuild_as_ann(&composed(from, "Away", false, "x"));
        assert_eq!(names(&r.raw), NAMES, "{from:?}");
        assert_eq!(value(&r.raw, "From"), "ann@c.example", "{from:?}");
        assert_eq!(value(&r.raw, "Subject"), "Away", "{from:?}");
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    }
}

#[test]
fn a_subject_with_a_line_break_is_not_used() {
    for subject in [
        "Away\r\nBcc: someone@else.example",
        "Away\r\n Bcc: someone@else.example",
        "Away\r\nDate: x\r\nMessage-ID: <y>",
        "Away\r\nAuto-Submitted: auto-replied\r\nX-Evil: 1",
    ] {
        let r = rebuild_as_ann(&composed("ann@c.example", subject, false, "x"));
        assert_eq!(names(&r.raw), NAMES, "{subject:?}");
        assert_eq!(value(&r.raw, "Subject"), "Auto: Lunch?", "{subject:?}");
        assert!(
            !String::from_utf8_lossy(&r.raw).contains("\nBcc"),
            "{subject:?}"
        );
    }
}

#[test]
fn mime_reasons_keep_only_mime_fields() {
    let reason = "Content-Type: text/html; charset=utf-8\r\nBcc: someone@else.example\r\n\
                  Reply-To: x@evil.example\r\nX-Spam: no\r\n\r\n<p>Away</p>\r\n";
    let r = rebuild_as_ann(&composed("ann@c.example", "Away", true, reason));
    let n = names(&r.raw);
    assert!(
        !n.iter()
            .any(|n| n == "Bcc" || n == "Reply-To" || n == "X-Spam"),
        "{n:?}"
    );
    assert_eq!(value(&r.raw, "Content-Type"), "text/html; charset=utf-8");
    assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
    assert!(r.raw.ends_with(b"\r\n\r\n<p>Away</p>\r\n"));
}

#[test]
fn bodies_get_crlf_and_lose_nul() {
    let r = rebuild_as_ann(&composed("ann@c.example", "Away", false, "a\nb\rc\0.\r\nd"));
    assert!(r.raw.ends_with(b"\r\n\r\na\r\nb\r\nc.\r\nd\r\n"));
    let r = rebuild_as_ann(&composed("ann@c.example", "Café", false, "Zoë"));
    assert_eq!(value(&r.raw, "Content-Transfer-Encoding"), "8bit");
    assert!(value(&r.raw, "Subject").starts_with("=?utf-8?B?"));
}

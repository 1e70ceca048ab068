//! Parts of messages over a real IMAP session, checked to the octet against what the RFCs
//! say they are: sections inside an enclosed message (RFC 3501 §6.4.5), BINARY and its
//! decoding (RFC 3516, RFC 2045 §6.7 and §6.8), the envelope of addresses with groups
//! (RFC 3501 §7.4.2, RFC 5322 §3.4), SORT by base subject (RFC 5256 §2.1) and MOVE into the
//! folder the messages are in (RFC 6851 §3.3). Each message is APPENDed, then fetched.

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{PASSWORD, USER, python_client_passes, start};
use raw_client::{Raw, fetched};

/// The forwarded message: a multipart/alternative message of its own.
const INNER: &str = "From: Carl <carl@example.org>\r\n\
To: Ann Example <ann@example.com>\r\n\
Subject: plans\r\n\
Date: Sun, 6 Dec 2026 09:00:00 +0000\r\n\
Message-ID: <orig@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Caf=C3=A9 at noon,=\r\n bring notes.\r\n\
\r\n\
--inner\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Caf&eacute; at noon</p>\r\n\
\r\n\
--inner--\r\n";

/// A message forwarding [`INNER`] as its second part. The CRLF before a boundary belongs to
/// the boundary (RFC 2046 §5.1.1), so part 2 is exactly [`INNER`].
fn forward() -> String {
    format!(
        "From: Ann Example <ann@example.com>\r\n\
To: Bob <bob@example.net>\r\n\
Subject: Fwd: plans\r\n\
Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
Message-ID: <fwd1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
See below.\r\n\
\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
Content-Description: forwarded\r\n\
\r\n\
{INNER}\r\n\
--outer--\r\n"
    )
}

/// A message that is a message/rfc822 enclosing a message/rfc822 enclosing a message.
const MIDDLE: &str = "From: b@example.com\r\n\
Subject: middle\r\n\
MIME-Version: 1.0\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: c@example.com\r\n\
Subject: innermost\r\n\
\r\n\
Deep body\r\n";

fn double() -> String {
    format!(
        "From: a@example.com\r\nSubject: outer\r\nMIME-Version: 1.0\r\n\
         Content-Type: message/rfc822\r\n\r\n{MIDDLE}"
    )
}

/// The header section of a message (blank line included) and its text.
fn split(m: &str) -> (&str, &str) {
    let i = m.find("\r\n\r\n").expect("a blank line") + 4;
    (&m[..i], &m[i..])
}

fn lines(s: &str) -> usize {
    s.matches('\n').count()
}

async fn session() -> (common::Server, Raw) {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    (server, c)
}

/// `* n FETCH (ITEM {len}\r\ndata)\r\n` for one item holding `data` as a literal.
fn one(n: u32, item: &str, data: &[u8]) -> Vec<u8> {
    let mut v = format!("* {n} FETCH ({item} {{{}}}\r\n", data.len()).into_bytes();
    v.extend_from_slice(data);
    v.extend_from_slice(b")\r\n");
    v
}

async fn fetch_one(c: &mut Raw, n: u32, item: &str) -> Vec<u8> {
    let got = c.run("f", &format!("FETCH {n} ({item})")).await;
    let tagged = String::from_utf8_lossy(got.last().expect("tagged")).into_owned();
    assert!(tagged.starts_with("f OK"), "{item}: {tagged}");
    fetched(&got)
}

/// Checks `BODY.PEEK[section]` of message `n` is `want`.
async fn section_is(c: &mut Raw, n: u32, section: &str, want: &str) {
    let got = fetch_one(c, n, &format!("BODY.PEEK[{section}]")).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&one(n, &format!("BODY[{section}]"), want.as_bytes())),
        "BODY[{section}]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_inside_an_enclosed_message() {
    let (_server, mut c) = session().await;
    let fwd = forward();
    assert!(
        c.append("a", "INBOX", fwd.as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    assert!(
        c.append("a", "INBOX", double().as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    c.ok("s", "SELECT INBOX").await;

    // RFC 3501 §6.4.5 on message 1: part 2 is a message/rfc822; `2.n` are the parts of the
    // message it encloses, `2.HEADER`/`2.TEXT` its header and text, `2.MIME` the part's own
    // MIME header.
    let (inner_header, inner_text) = split(INNER);
    section_is(&mut c, 1, "1", "See below.\r\n").await;
    section_is(&mut c, 1, "2", INNER).await;
    section_is(
        &mut c,
        1,
        "2.MIME",
        "Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n",
    )
    .await;
    section_is(&mut c, 1, "2.HEADER", inner_header).await;
    section_is(&mut c, 1, "2.TEXT", inner_text).await;
    section_is(
        &mut c,
        1,
        "2.HEADER.FIELDS (SUBJECT from)",
        "From: Carl <carl@example.org>\r\nSubject: plans\r\n\r\n",
    )
    .await;
    section_is(
        &mut c,
        1,
        "2.HEADER.FIELDS.NOT (From To Subject Date Message-ID MIME-Version)",
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n",
    )
    .await;
    section_is(&mut c, 1, "2.1", "Caf=C3=A9 at noon,=\r\n bring notes.\r\n").await;
    section_is(
        &mut c,
        1,
        "2.1.MIME",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
    )
    .await;
    section_is(&mut c, 1, "2.2", "<p>Caf&eacute; at noon</p>\r\n").await;
    section_is(
        &mut c,
        1,
        "2.2.MIME",
        "Content-Type: text/html; charset=utf-8\r\n\r\n",
    )
    .await;
    // Parts that are not there are empty.
    section_is(&mut c, 1, "2.3", "").await;
    section_is(&mut c, 1, "3", "").await;
    section_is(&mut c, 1, "1.HEADER", "").await;
    // A partial fetch inside the enclosed message.
    let got = fetch_one(&mut c, 1, "BODY.PEEK[2.HEADER]<6.4>").await;
    assert_eq!(got, one(1, "BODY[2.HEADER]<6>", b"Carl"));

    // Message 2, nested twice: `1` is the message the top level encloses, `1.1` the one that
    // encloses, `1.1.1` the body of the innermost.
    let (middle_header, middle_text) = split(MIDDLE);
    let (innermost_header, innermost_text) = split(middle_text);
    section_is(&mut c, 2, "TEXT", MIDDLE).await;
    section_is(&mut c, 2, "1", MIDDLE).await;
    section_is(&mut c, 2, "1.HEADER", middle_header).await;
    section_is(&mut c, 2, "1.TEXT", middle_text).await;
    section_is(&mut c, 2, "1.1", middle_text).await;
    section_is(&mut c, 2, "1.1.HEADER", innermost_header).await;
    section_is(&mut c, 2, "1.1.TEXT", innermost_text).await;
    section_is(&mut c, 2, "1.1.1", "Deep body\r\n").await;
    section_is(
        &mut c,
        2,
        "1.1.HEADER.FIELDS (Subject)",
        "Subject: innermost\r\n\r\n",
    )
    .await;
    // None of this marked the messages \Seen (PEEK).
    let flags = c.ok("f", "FETCH 1:2 FLAGS").await;
    assert!(flags.iter().all(|l| !l.contains("\\Seen")), "{flags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structure_of_an_enclosed_message() {
    let (_server, mut c) = session().await;
    let fwd = forward();
    assert!(
        c.append("a", "INBOX", fwd.as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    assert!(
        c.append("a", "INBOX", double().as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    c.ok("s", "SELECT INBOX").await;

    // RFC 3501 §7.4.2: a message/rfc822 part is its basic fields, then the envelope and the
    // body structure of the message it encloses, and its size in lines.
    let plain = "Caf=C3=A9 at noon,=\r\n bring notes.\r\n";
    let html = "<p>Caf&eacute; at noon</p>\r\n";
    let carl = "((\"Carl\" NIL \"carl\" \"example.org\"))";
    let inner_envelope = format!(
        "(\"Sun, 6 Dec 2026 09:00:00 +0000\" \"plans\" {carl} {carl} {carl} \
         ((\"Ann Example\" NIL \"ann\" \"example.com\")) NIL NIL NIL \"<orig@example.org>\")"
    );
    let want = format!(
        "* 1 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1)\
         (\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" {} {inner_envelope} \
         ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" {} {})\
         (\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" {} {}) \"alternative\") {}) \
         \"mixed\"))\r\n",
        INNER.len(),
        plain.len(),
        lines(plain),
        html.len(),
        lines(html),
        lines(INNER),
    );
    let got = fetch_one(&mut c, 1, "BODY").await;
    assert_eq!(String::from_utf8_lossy(&got), want);

    // The extended form adds each part's extension data; the enclosed message is the same.
    let got = String::from_utf8_lossy(&fetch_one(&mut c, 1, "BODYSTRUCTURE").await).into_owned();
    assert!(
        got.contains(&format!(
            "(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" {} {inner_envelope} ",
            INNER.len()
        )),
        "{got}"
    );
    assert!(
        got.contains("\"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"),
        "{got}"
    );
    assert!(
        got.ends_with("\"mixed\" (\"boundary\" \"outer\") NIL NIL NIL))\r\n"),
        "{got}"
    );

    // Nested twice: message/rfc822 in message/rfc822 in message/rfc822. A part without a
    // Content-Type is text/plain; charset=us-ascii (RFC 2045 §5.2).
    let (_, middle_text) = split(MIDDLE);
    let (_, deep) = split(middle_text);
    let want = format!(
        "* 2 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" {} \
         (NIL \"middle\" ((NIL NIL \"b\" \"example.com\")) ((NIL NIL \"b\" \"example.com\")) \
         ((NIL NIL \"b\" \"example.com\")) NIL NIL NIL NIL NIL) \
         (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" {} \
         (NIL \"innermost\" ((NIL NIL \"c\" \"example.com\")) ((NIL NIL \"c\" \"example.com\")) \
         ((NIL NIL \"c\" \"example.com\")) NIL NIL NIL NIL NIL) \
         (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" {} {}) {}) {}))\r\n",
        MIDDLE.len(),
        middle_text.len(),
        deep.len(),
        lines(deep),
        lines(middle_text),
        lines(MIDDLE),
    );
    let got = fetch_one(&mut c, 2, "BODY").await;
    assert_eq!(String::from_utf8_lossy(&got), want);
}

/// A message with a part in each transfer encoding BINARY must undo.
const BINARY_PARTS: &[u8] = b"From: a@example.com\r\n\
Subject: binary\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
caf=C3=A9 soft=\r\n\
break   \r\n\
kept=20\r\n\
tab=09and=  \t\r\n\
\x20joined=3D\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAEC\r\n\
AwD/\r\n\
--b\r\n\
Content-Type: multipart/alternative; boundary=\"c\"\r\n\
\r\n\
--c\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: BASE64\r\n\
\r\n\
aGVsbG8g\r\n\
d29ybGQ=\r\n\
--c--\r\n\
--b\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: x-private\r\n\
\r\n\
whatever\r\n\
--b--\r\n";

/// Part 1 decoded by RFC 2045 §6.7: `=XX` octets, trailing white space dropped, `=` at the
/// end of a line (white space after it included) joining it to the next.
const QP_DECODED: &[u8] = "café softbreak\r\nkept \r\ntab\tand joined=".as_bytes();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_decodes_every_part() {
    let (_server, mut c) = session().await;
    assert!(
        c.append("a", "INBOX", BINARY_PARTS, false)
            .await
            .starts_with("a OK")
    );
    c.ok("s", "SELECT INBOX").await;

    // Quoted-printable.
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[1]").await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&one(1, "BINARY[1]", QP_DECODED))
    );
    let got = fetch_one(&mut c, 1, "BINARY.SIZE[1]").await;
    assert_eq!(
        got,
        format!("* 1 FETCH (BINARY.SIZE[1] {})\r\n", QP_DECODED.len()).into_bytes()
    );
    // A partial range of the decoded content: `<origin>` named in the answer.
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[1]<3.6>").await;
    assert_eq!(got, one(1, "BINARY[1]<3>", &QP_DECODED[3..9]));

    // Base64 with a NUL: sent as literal8 (RFC 3516 §4.2).
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[2]").await;
    let mut want = b"* 1 FETCH (BINARY[2] ~{6}\r\n".to_vec();
    want.extend_from_slice(&[0, 1, 2, 3, 0, 0xff]);
    want.extend_from_slice(b")\r\n");
    assert_eq!(got, want);
    let got = fetch_one(&mut c, 1, "BINARY.SIZE[2]").await;
    assert_eq!(got, b"* 1 FETCH (BINARY.SIZE[2] 6)\r\n");

    // A part of a nested multipart is answered, decoded.
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[3.1] BINARY.SIZE[3.1]").await;
    assert_eq!(
        got,
        b"* 1 FETCH (BINARY[3.1] {11}\r\nhello world BINARY.SIZE[3.1] 11)\r\n"
    );
    // The multipart itself has no transfer encoding to undo: its body as it is, up to the
    // CRLF that belongs to the next boundary of the enclosing multipart.
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[3]").await;
    let text = String::from_utf8_lossy(BINARY_PARTS);
    let start = text.find("--c\r\n").unwrap();
    let end = text.find("--c--").unwrap() + "--c--".len();
    assert_eq!(got, one(1, "BINARY[3]", &BINARY_PARTS[start..end]));

    // The whole message, and a range of it.
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[]").await;
    assert_eq!(got, one(1, "BINARY[]", BINARY_PARTS));
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[]<0.10>").await;
    assert_eq!(got, one(1, "BINARY[]<0>", &BINARY_PARTS[..10]));

    // An encoding nobody can undo: tagged NO with UNKNOWN-CTE (RFC 3516 §4.3).
    for item in ["BINARY.PEEK[4]", "BINARY.SIZE[4]"] {
        let got = c.run("u", &format!("FETCH 1 ({item})")).await;
        let tagged = String::from_utf8_lossy(got.last().unwrap()).into_owned();
        assert!(tagged.starts_with("u NO [UNKNOWN-CTE]"), "{item}: {tagged}");
    }
    // BODY[4] of the same part is still what is stored.
    section_is(&mut c, 1, "4", "whatever").await;

    // BINARY without PEEK sets \Seen.
    let got = c.ok("f", "FETCH 1 (BINARY[3.1])").await;
    assert!(got.iter().any(|l| l.contains("\\Seen")), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_appended_as_literal8_reads_back() {
    let (_server, mut c) = session().await;
    // RFC 3516 §4.4: APPEND takes a literal8 (`~{n}`), here of an 8-bit message whose
    // transfer encoding is `binary`.
    let msg = "From: a@example.com\r\nSubject: eight bits\r\nMIME-Version: 1.0\r\n\
               Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: binary\r\n\
               \r\nÀ bientôt, déjà vu\r\n";
    let tagged = c.append("a", "INBOX", msg.as_bytes(), true).await;
    assert!(tagged.starts_with("a OK [APPENDUID "), "{tagged}");
    c.ok("s", "SELECT INBOX").await;
    let (_, body) = split(msg);
    section_is(&mut c, 1, "1", body).await;
    section_is(&mut c, 1, "TEXT", body).await;
    section_is(&mut c, 1, "", msg).await;
    let got = fetch_one(&mut c, 1, "BINARY.PEEK[1] BINARY.SIZE[1] RFC822.SIZE").await;
    let mut want = format!("* 1 FETCH (BINARY[1] {{{}}}\r\n", body.len()).into_bytes();
    want.extend_from_slice(body.as_bytes());
    want.extend_from_slice(
        format!(
            " BINARY.SIZE[1] {} RFC822.SIZE {})\r\n",
            body.len(),
            msg.len()
        )
        .as_bytes(),
    );
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );

    // Binary content with NULs: BINARY sends them in a literal8; a literal cannot carry a NUL
    // (RFC 3501 CHAR8), so BODY sends each as 0x80, keeping the size.
    let msg = b"From: a@example.com\r\nSubject: nul\r\nMIME-Version: 1.0\r\n\
                Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\
                \r\n\x00\x01\x02\x00\xff\r\n";
    let tagged = c.append("a", "INBOX", msg, true).await;
    assert!(tagged.starts_with("a OK [APPENDUID "), "{tagged}");
    c.ok("n", "NOOP").await;
    let got = fetch_one(&mut c, 2, "BINARY.PEEK[1]").await;
    assert_eq!(
        got,
        b"* 2 FETCH (BINARY[1] ~{7}\r\n\x00\x01\x02\x00\xff\r\n)\r\n"
    );
    let got = fetch_one(&mut c, 2, "BODY.PEEK[1]").await;
    assert_eq!(
        got,
        b"* 2 FETCH (BODY[1] {7}\r\n\x80\x01\x02\x80\xff\r\n)\r\n"
    );
    let got = fetch_one(&mut c, 2, "RFC822.SIZE").await;
    assert_eq!(
        got,
        format!("* 2 FETCH (RFC822.SIZE {})\r\n", msg.len()).into_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_of_groups_and_names_as_written() {
    let (_server, mut c) = session().await;
    let msg = "Date: Mon, 7 Dec 2026 12:00:00 +0100\r\n\
Subject: =?utf-8?q?r=C3=A9union?=\r\n\
From: \"Doe, Jane\" <jane@example.com>\r\n\
Sender: =?utf-8?q?Ren=C3=A9?= <rene@example.com>\r\n\
Reply-To: replies@example.org (Reply Desk)\r\n\
To: team: ann@example.com, \"Bob B.\" <bob@example.net>;, carl@example.org\r\n\
Cc: undisclosed-recipients:;\r\n\
Bcc: root, <@relay.example:dee@example.net>\r\n\
In-Reply-To: <parent@example.com>\r\n\
Message-ID: <groups@example.com>\r\n\
\r\n\
body\r\n";
    assert!(
        c.append("a", "INBOX", msg.as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    c.ok("s", "SELECT INBOX").await;
    // RFC 3501 §7.4.2: each address is (name route mailbox host); a group is a start marker
    // (NIL NIL "name" NIL), its members and an end marker (NIL NIL NIL NIL); an address without
    // a domain has an empty host (NIL would make it a group start).
    let want = "* 1 FETCH (ENVELOPE (\"Mon, 7 Dec 2026 12:00:00 +0100\" \
\"=?utf-8?q?r=C3=A9union?=\" \
((\"Doe, Jane\" NIL \"jane\" \"example.com\")) \
((\"=?utf-8?q?Ren=C3=A9?=\" NIL \"rene\" \"example.com\")) \
((\"Reply Desk\" NIL \"replies\" \"example.org\")) \
((NIL NIL \"team\" NIL)(NIL NIL \"ann\" \"example.com\")(\"Bob B.\" NIL \"bob\" \"example.net\")\
(NIL NIL NIL NIL)(NIL NIL \"carl\" \"example.org\")) \
((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) \
((NIL NIL \"root\" \"\")(NIL \"@relay.example\" \"dee\" \"example.net\")) \
\"<parent@example.com>\" \"<groups@example.com>\"))\r\n";
    let got = fetch_one(&mut c, 1, "ENVELOPE").await;
    assert_eq!(String::from_utf8_lossy(&got), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_and_thread_by_base_subject() {
    let (_server, mut c) = session().await;
    // Base subjects (RFC 5256 §2.1) under i;ascii-casemap: DELTA, _UNDER, [TAG] (a subject
    // that is only a blob keeps it), ALPHA (a reply), ALPHA (a forward), BRAVO, "" and
    // CHARLIE.
    let subjects = [
        "delta",
        "_under",
        "[tag]",
        "Re: Alpha",
        "alpha (fwd)",
        "[list] Bravo",
        "",
        "[Fwd: charlie]",
    ];
    for (i, s) in subjects.iter().enumerate() {
        let msg = format!(
            "From: x@example.com\r\nSubject: {s}\r\nDate: Mon, 7 Dec 2026 1{i}:00:00 +0000\r\n\
             Message-ID: <s{i}@example.com>\r\n\r\nbody\r\n"
        );
        assert!(
            c.append("a", "INBOX", msg.as_bytes(), false)
                .await
                .starts_with("a OK")
        );
    }
    c.ok("s", "SELECT INBOX").await;
    // "" < ALPHA (4, 5: ties by number) < BRAVO < CHARLIE < DELTA < [TAG] < _UNDER: "[" and
    // "_" come after the upper-case letters.
    let got = c.ok("o", "SORT (SUBJECT) UTF-8 ALL").await;
    assert_eq!(got[0], "* SORT 7 4 5 6 8 1 3 2\r\n");
    let got = c.ok("o", "SORT (REVERSE SUBJECT) UTF-8 ALL").await;
    assert_eq!(got[0], "* SORT 2 3 1 8 6 4 5 7\r\n");
    let got = c.ok("o", "UID SORT (SUBJECT) UTF-8 ALL").await;
    assert_eq!(got[0], "* SORT 7 4 5 6 8 1 3 2\r\n");
    // ORDEREDSUBJECT groups by the same base subject: 4 and 5 are one thread.
    let got = c.ok("t", "THREAD ORDEREDSUBJECT UTF-8 ALL").await;
    assert_eq!(got[0], "* THREAD (1)(2)(3)(4 5)(6)(7)(8)\r\n");
    // REFERENCES without any references: roots grouped by base subject, the reply under the
    // one that is not a reply... both 4 and 5 are replies here, so they share a dummy parent.
    let got = c.ok("t", "THREAD REFERENCES UTF-8 ALL").await;
    assert_eq!(got[0], "* THREAD (1)(2)(3)((4)(5))(6)(7)(8)\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_into_the_same_folder() {
    let (_server, mut c) = session().await;
    for i in 1..=3 {
        let msg = format!("From: x@example.com\r\nSubject: m{i}\r\n\r\nbody {i}\r\n");
        assert!(
            c.append("a", "INBOX", msg.as_bytes(), false)
                .await
                .starts_with("a OK")
        );
    }
    let select = c.ok("s", "SELECT INBOX").await;
    let uidvalidity = select
        .iter()
        .find_map(|l| l.strip_prefix("* OK [UIDVALIDITY "))
        .and_then(|l| l.split(']').next())
        .expect("UIDVALIDITY")
        .to_string();
    c.ok("f", "STORE 2 +FLAGS.SILENT (\\Flagged $Label)").await;
    // RFC 6851 §3.3: the message is copied into INBOX under a new UID (4), then the original
    // expunged; COPYUID comes first in an untagged OK with its text (RFC 6851 §4.3).
    let got = c.ok("m", "MOVE 2 INBOX").await;
    // (`* n RECENT`, which an IMAP4rev1 session may also be told, is left out of the check.)
    let got: Vec<String> = got
        .into_iter()
        .filter(|l| !l.ends_with(" RECENT\r\n"))
        .collect();
    assert_eq!(
        got,
        [
            format!("* OK [COPYUID {uidvalidity} 2 4] moved\r\n"),
            "* 2 EXPUNGE\r\n".to_string(),
            "* 3 EXISTS\r\n".to_string(),
            "m OK MOVE completed\r\n".to_string(),
        ]
    );
    let got = c
        .ok(
            "f",
            "FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
        )
        .await;
    let text = got.concat();
    assert!(text.contains("* 1 FETCH (UID 1 "), "{text}");
    assert!(text.contains("* 2 FETCH (UID 3 "), "{text}");
    // The copy keeps its flags, and is \Recent to this session, the first to learn of it
    // (RFC 3501 §2.3.2), as the messages it selected were.
    assert!(
        text.contains("* 3 FETCH (UID 4 FLAGS (\\Flagged $Label \\Recent)"),
        "{text}"
    );
    assert!(text.contains("Subject: m2"), "{text}");
    // UID MOVE of two messages into the same folder.
    let got = c.ok("m", "UID MOVE 1,3 INBOX").await;
    assert_eq!(
        got[0],
        format!("* OK [COPYUID {uidvalidity} 1,3 5:6] moved\r\n")
    );
    let status = c.ok("t", "STATUS INBOX (MESSAGES UIDNEXT)").await;
    assert!(
        status[0].contains("MESSAGES 3") && status[0].contains("UIDNEXT 7"),
        "{status:?}"
    );
}

/// Python's imaplib opens a forwarded message part by part; every part is checked against
/// Python's own MIME parser (`tests/imap/forwarded.py`). Then curl, a second client, fetches
/// one part of the enclosed message by its section number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_open_a_forwarded_message_part_by_part() {
    let server = start(None).await;
    python_client_passes("forwarded.py", server.port).await;

    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new("curl")
            .args(["-s", "--user", &format!("{USER}:{PASSWORD}")])
            .arg(format!(
                "imap://127.0.0.1:{}/INBOX;UID=1;SECTION=2.HEADER.FIELDS%20(SUBJECT)",
                server.port
            ))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("curl finishes")
    .expect("curl must be installed to run this test");
    assert!(out.status.success(), "curl: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Subject: the original\r\n\r\n"
    );
}

//! CATENATE (RFC 4469) over a real IMAP session: a message APPENDed as the join of new text
//! and parts of messages already stored, named by IMAP URLs (RFC 5092) in their relative
//! (`/mailbox;UIDVALIDITY=n/;UID=n/;SECTION=s`) and absolute (`imap://user@host/...`) forms;
//! `BADURL` and `TOOBIG` refusals store nothing; CATENATE inside a MULTIAPPEND (RFC 3502).
//! Every result is fetched back and compared to the octet.

#[path = "imap/common.rs"]
mod common;
#[path = "imap/raw_client.rs"]
mod raw_client;

use common::{PASSWORD, USER, account, folder, python_client_passes, start};
use raw_client::{Raw, fetched};

/// A draft with a text part and an attachment, as in RFC 4469 appendix A.
const DRAFT_HEADER: &str = "From: Ann <ann@c.example>\r\n\
To: Bob <bob@example.net>\r\n\
Subject: Fwd: report\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"B1\"\r\n\r\n";
const PART1_MIME: &str = "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
const PART1: &str = "See the report below.\r\n";
const PART2: &str = "Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n";

fn draft() -> String {
    format!("{DRAFT_HEADER}--B1\r\n{PART1_MIME}{PART1}\r\n--B1\r\n{PART2}\r\n--B1--\r\n")
}

const FORWARDED: &str = "From: Carl <carl@example.org>\r\nSubject: report\r\n\r\nNumbers.\r\n";

async fn body(c: &mut Raw, n: u32) -> Vec<u8> {
    let got = c.run("f", &format!("FETCH {n} BODY.PEEK[]")).await;
    let f = fetched(&got);
    let start = f.iter().position(|&b| b == b'\n').expect("literal") + 1;
    f[start..f.len() - 3].to_vec()
}

/// Sends `tag APPEND ...` whose literals are all LITERAL+ (`{n+}`), built from `pieces`:
/// text is sent as is, `Lit(data)` as a non-synchronising literal.
enum Piece<'a> {
    Text(&'a str),
    Lit(&'a [u8]),
}

async fn append(c: &mut Raw, tag: &str, pieces: &[Piece<'_>]) -> String {
    let mut wire = format!("{tag} APPEND ").into_bytes();
    for p in pieces {
        match p {
            Piece::Text(t) => wire.extend_from_slice(t.as_bytes()),
            Piece::Lit(d) => {
                wire.extend_from_slice(format!("{{{}+}}\r\n", d.len()).as_bytes());
                wire.extend_from_slice(d);
            }
        }
    }
    wire.extend_from_slice(b"\r\n");
    c.send(&wire).await;
    let got = c.until(tag).await;
    String::from_utf8_lossy(got.last().expect("tagged")).into_owned()
}

async fn setup() -> (common::Server, Raw, u32) {
    let server = start(None).await;
    let mut c = Raw::connect(server.port).await;
    c.login(USER, PASSWORD).await;
    let caps = c.ok("c", "CAPABILITY").await.join("");
    assert!(caps.contains(" CATENATE"), "{caps}");
    assert!(
        c.append("a", "Drafts", draft().as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    assert!(
        c.append("a", "Drafts", FORWARDED.as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    let st = c.ok("s", "STATUS Drafts (UIDVALIDITY)").await.join("");
    let v = st
        .split("UIDVALIDITY ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse().ok())
        .expect("UIDVALIDITY");
    (server, c, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catenate_joins_text_and_parts_of_stored_messages() {
    let (_server, mut c, v) = setup().await;
    let base = format!("/Drafts;UIDVALIDITY={v}");
    // RFC 4469 appendix A's forward: the draft's header, its first part, and the second
    // message as an attachment, between new boundaries.
    let sep = b"\r\n--B2\r\n";
    let attach = b"\r\n--B2\r\nContent-Type: message/rfc822\r\n\r\n";
    let end = b"\r\n--B2--\r\n";
    let header = format!("URL \"{base}/;UID=1/;section=HEADER\" ");
    let mime = format!(" URL \"{base}/;UID=1/;section=1.MIME\" URL \"{base}/;UID=1/;SECTION=1\" ");
    let whole = format!(" URL \"{base}/;UID=2\" ");
    let tagged = append(
        &mut c,
        "A003",
        &[
            Piece::Text("Drafts (\\Seen \\Draft $MDNSent) CATENATE ("),
            Piece::Text(&header),
            Piece::Text("TEXT "),
            Piece::Lit(sep),
            Piece::Text(&mime),
            Piece::Text("TEXT "),
            Piece::Lit(attach),
            Piece::Text(&whole),
            Piece::Text("TEXT "),
            Piece::Lit(end),
            Piece::Text(")"),
        ],
    )
    .await;
    assert!(
        tagged.starts_with(&format!("A003 OK [APPENDUID {v} 3]")),
        "{tagged}"
    );
    c.ok("s", "SELECT Drafts").await;
    let want = format!(
        "{DRAFT_HEADER}\r\n--B2\r\n{PART1_MIME}{PART1}\r\n--B2\r\nContent-Type: message/rfc822\r\n\r\n\
         {FORWARDED}\r\n--B2--\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&body(&mut c, 3).await), want);
    let f = c.ok("f", "FETCH 3 FLAGS").await.join("");
    assert!(f.contains("\\Draft") && f.contains("$MDNSent"), "{f}");

    // The absolute form, for the signed-in user, with a partial range; a literal URL.
    let abs = format!(
        "imap://ann%40c.example;AUTH=*@imap.test/Drafts;UIDVALIDITY={v}/;UID=1/;SECTION=1/;PARTIAL=4.6"
    );
    let tagged = append(
        &mut c,
        "b",
        &[
            Piece::Text("Drafts CATENATE (TEXT "),
            Piece::Lit(b"Subject: x\r\n\r\n"),
            Piece::Text(" URL "),
            Piece::Lit(abs.as_bytes()),
            Piece::Text(" TEXT "),
            Piece::Lit(b"\r\n"),
            Piece::Text(")"),
        ],
    )
    .await;
    assert!(tagged.starts_with("b OK [APPENDUID "), "{tagged}");
    c.ok("n", "NOOP").await;
    // PART1 from octet 4, six octets: "the re".
    assert_eq!(body(&mut c, 4).await, b"Subject: x\r\n\r\nthe re\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_fail_the_whole_append() {
    let (server, mut c, v) = setup().await;
    let a = account(&server.core, USER).await;
    let other = v.wrapping_add(1).max(1);
    for (url, why) in [
        (format!("/Drafts;UIDVALIDITY={other}/;UID=1"), "UIDVALIDITY"),
        (format!("/Drafts;UIDVALIDITY={v}/;UID=9"), "no such message"),
        (
            format!("/Drafts;UIDVALIDITY={v}/;UID=1/;SECTION=7"),
            "no such part",
        ),
        (
            "/Nowhere;UIDVALIDITY=1/;UID=1".to_string(),
            "no such mailbox",
        ),
        (
            format!("imap://tiny%40c.example@imap.test/Drafts;UIDVALIDITY={v}/;UID=1"),
            "another user",
        ),
        (
            format!("imap://imap.test/Drafts;UIDVALIDITY={v}/;UID=1"),
            "another user",
        ),
        ("http://example.com/".to_string(), "not an IMAP URL"),
        (
            format!(
                "/Drafts;UIDVALIDITY={v}/;UID=1;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=anonymous:internal:00"
            ),
            "not an IMAP URL",
        ),
    ] {
        // As the second message of a MULTIAPPEND: the first is not kept either.
        let tagged = append(
            &mut c,
            "u",
            &[
                Piece::Text("Drafts "),
                Piece::Lit(FORWARDED.as_bytes()),
                Piece::Text(" CATENATE (TEXT "),
                Piece::Lit(b"X: y\r\n\r\n"),
                Piece::Text(&format!(" URL \"{url}\")")),
            ],
        )
        .await;
        // RFC 4469 §5: `BADURL` followed by the URL itself, bare.
        assert_eq!(
            tagged.split("] ").next(),
            Some(format!("u NO [BADURL {url}").as_str()),
            "{url}: {tagged}"
        );
        assert!(tagged.contains(why), "{url}: {tagged}");
        assert_eq!(
            folder(&server.core, a, "Drafts")
                .await
                .expect("Drafts")
                .len(),
            2
        );
    }
    // A URL cannot smuggle a `]` or a line end into the response.
    let tagged = append(
        &mut c,
        "e",
        &[Piece::Text("Drafts CATENATE (URL \"/a]b;UID=1\")")],
    )
    .await;
    assert!(tagged.starts_with("e NO [BADURL /ab;UID=1]"), "{tagged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catenate_in_a_multiappend_and_over_the_limit() {
    let (server, mut c, v) = setup().await;
    let a = account(&server.core, USER).await;
    let url = format!("\"/Drafts;UIDVALIDITY={v}/;UID=2\"");
    // RFC 4469 §5 with RFC 3502: CATENATE messages mixed with plain ones, one APPENDUID set.
    let tagged = append(
        &mut c,
        "m",
        &[
            Piece::Text(&format!("Drafts CATENATE (URL {url}) (\\Seen) ")),
            Piece::Lit(FORWARDED.as_bytes()),
            Piece::Text(&format!(" CATENATE (URL {url} TEXT ")),
            Piece::Lit(b"P.S.\r\n"),
            Piece::Text(")"),
        ],
    )
    .await;
    assert!(
        tagged.starts_with(&format!("m OK [APPENDUID {v} 3:5]")),
        "{tagged}"
    );
    c.ok("s", "SELECT Drafts").await;
    assert_eq!(body(&mut c, 3).await, FORWARDED.as_bytes());
    assert_eq!(body(&mut c, 4).await, FORWARDED.as_bytes());
    assert_eq!(
        body(&mut c, 5).await,
        format!("{FORWARDED}P.S.\r\n").into_bytes()
    );
    // A joined message over APPENDLIMIT: `TOOBIG`, nothing stored. One stored message of
    // 1 MiB, named 65 times, passes 64 MiB.
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1024 * 1024));
    assert!(
        c.append("a", "Drafts", big.as_bytes(), false)
            .await
            .starts_with("a OK")
    );
    let one = format!(" URL \"/Drafts;UIDVALIDITY={v}/;UID=6\"");
    let tagged = append(
        &mut c,
        "t",
        &[Piece::Text(&format!(
            "Drafts CATENATE ({})",
            one.repeat(65).trim_start()
        ))],
    )
    .await;
    assert!(tagged.starts_with("t NO [TOOBIG]"), "{tagged}");
    assert_eq!(
        folder(&server.core, a, "Drafts")
            .await
            .expect("Drafts")
            .len(),
        6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_sends_a_catenate() {
    let server = start(None).await;
    python_client_passes("catenate.py", server.port).await;
}

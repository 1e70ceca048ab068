//! Session state over real sockets, with test vectors written from the RFC text: keywords and
//! the FLAGS that announce them (RFC 3501 §7.2.6, §7.1), `\Recent` shared by several sessions
//! (RFC 3501 §2.3.2, §6.3.1-2, §6.3.10, §6.4.4, §7.3.2), SEARCH by date (RFC 3501 §6.4.4),
//! CONDSTORE with ESEARCH (RFC 7162 §3.1, §3.1.5; RFC 4731) and LIST-EXTENDED / LSUB
//! (RFC 5258 §3, RFC 3501 §6.3.9). Each test starts its own server on 127.0.0.1:0
//! (`tests/imap/common.rs`) and talks to it line by line, so the order of untagged responses
//! can be checked.

#[path = "imap/common.rs"]
mod common;

use std::time::Duration;

use common::{PASSWORD, USER, account, deliver, start};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A bare IMAP client: sends a command, collects every line up to its tagged answer.
struct Client {
    r: BufReader<TcpStream>,
    n: u32,
}

impl Client {
    async fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut c = Client {
            r: BufReader::new(s),
            n: 0,
        };
        let greeting = c.line().await;
        assert!(greeting.starts_with("* OK"), "{greeting}");
        c
    }

    /// Signed in as the test user.
    async fn login(port: u16) -> Client {
        let mut c = Client::connect(port).await;
        c.ok(&format!("LOGIN \"{USER}\" \"{PASSWORD}\"")).await;
        c
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        let n = tokio::time::timeout(Duration::from_secs(20), self.r.read_line(&mut l))
            .await
            .expect("the server answers in time")
            .expect("read");
        assert!(n > 0, "connection closed");
        l.trim_end_matches("\r\n").to_string()
    }

    async fn send(&mut self, raw: &[u8]) {
        self.r.get_mut().write_all(raw).await.expect("write");
    }

    /// Runs `cmd`; returns the untagged lines and the tagged one.
    async fn run(&mut self, cmd: &str) -> (Vec<String>, String) {
        self.n += 1;
        let tag = format!("t{}", self.n);
        self.send(format!("{tag} {cmd}\r\n").as_bytes()).await;
        self.until(&tag).await
    }

    async fn until(&mut self, tag: &str) -> (Vec<String>, String) {
        let mut untagged = Vec::new();
        loop {
            let l = self.line().await;
            if l.starts_with(&format!("{tag} ")) {
                return (untagged, l);
            }
            untagged.push(l);
        }
    }

    /// Runs `cmd`, which must succeed; returns its untagged lines.
    async fn ok(&mut self, cmd: &str) -> Vec<String> {
        let (u, t) = self.run(cmd).await;
        assert!(t.split(' ').nth(1) == Some("OK"), "{cmd}: {t}\n{u:#?}");
        u
    }

    /// APPENDs `msg` with a synchronising literal.
    async fn append(&mut self, args: &str, msg: &str) -> Vec<String> {
        self.n += 1;
        let tag = format!("t{}", self.n);
        self.send(format!("{tag} APPEND {args} {{{}}}\r\n", msg.len()).as_bytes())
            .await;
        let cont = self.line().await;
        assert!(cont.starts_with('+'), "{cont}");
        self.send(format!("{msg}\r\n").as_bytes()).await;
        let (u, t) = self.until(&tag).await;
        assert!(t.contains(" OK"), "APPEND {args}: {t}");
        u
    }
}

/// The index of the first line that starts with `prefix`.
fn at(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

/// The numbers of a `* SEARCH` answer.
fn search(lines: &[String]) -> Vec<u32> {
    let l = &lines[at(lines, "* SEARCH")];
    l["* SEARCH".len()..]
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect()
}

const SYSTEM: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_keywords_are_announced_before_the_fetch_that_shows_them() {
    let server = start(None).await;
    let acct = account(&server.core, USER).await;
    deliver(&server.core, acct, b"Subject: one\r\n\r\nbody\r\n").await;
    let mut a = Client::login(server.port).await;
    let mut b = Client::login(server.port).await;
    let sel = a.ok("SELECT INBOX").await;
    // RFC 3501 §7.2.6, §7.1: no keyword is in use yet; new ones may be created (`\*`).
    assert!(has(&sel, &format!("* FLAGS ({SYSTEM})")), "{sel:#?}");
    assert!(
        has(
            &sel,
            &format!("* OK [PERMANENTFLAGS ({SYSTEM} \\*)] flags allowed")
        ),
        "{sel:#?}"
    );
    b.ok("SELECT INBOX").await;

    // This session's STORE: FLAGS and PERMANENTFLAGS first, then the FETCH.
    let st = a.ok("STORE 1 +FLAGS ($Forwarded)").await;
    let flags = at(&st, &format!("* FLAGS ({SYSTEM} $Forwarded)"));
    let perm = at(
        &st,
        &format!("* OK [PERMANENTFLAGS ({SYSTEM} $Forwarded \\*)]"),
    );
    // The message is recent in this session, the first to select the mailbox.
    let fetch = at(&st, "* 1 FETCH (FLAGS ($Forwarded \\Recent))");
    assert!(flags < perm && perm < fetch, "{st:#?}");
    // Storing it again announces nothing new.
    let st = a.ok("STORE 1 -FLAGS ($Forwarded)").await;
    assert!(!st.iter().any(|l| l.starts_with("* FLAGS")), "{st:#?}");
    a.ok("STORE 1 +FLAGS ($Forwarded)").await;

    // Another session learns it at NOOP, before the flag update.
    let noop = b.ok("NOOP").await;
    let flags = at(&noop, &format!("* FLAGS ({SYSTEM} $Forwarded)"));
    let fetch = at(&noop, "* 1 FETCH");
    assert!(flags < fetch, "{noop:#?}");

    // ... and at any command: here a FETCH whose own answer shows the new keyword.
    a.ok("STORE 1 +FLAGS ($Junk)").await;
    let f = b.ok("FETCH 1 (FLAGS)").await;
    let flags = at(&f, &format!("* FLAGS ({SYSTEM} $Forwarded $Junk)"));
    let fetch = at(&f, "* 1 FETCH (FLAGS (");
    assert!(flags < fetch, "{f:#?}");

    // During IDLE.
    b.n += 1;
    let idle_tag = format!("t{}", b.n);
    b.send(format!("{idle_tag} IDLE\r\n").as_bytes()).await;
    assert!(b.line().await.starts_with('+'));
    a.ok("STORE 1 +FLAGS ($Important)").await;
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("* 1 FETCH")) {
        seen.push(b.line().await);
    }
    let flags = at(
        &seen,
        &format!("* FLAGS ({SYSTEM} $Forwarded $Junk $Important)"),
    );
    assert!(flags < at(&seen, "* 1 FETCH"), "{seen:#?}");
    b.send(b"DONE\r\n").await;
    let (_, t) = b.until(&idle_tag).await;
    assert!(t.contains("OK"), "{t}");

    // APPEND with a keyword into the selected mailbox: announced with the new message.
    let ap = a
        .append("INBOX ($Label1)", "Subject: two\r\n\r\nbody")
        .await;
    let flags = at(
        &ap,
        &format!("* FLAGS ({SYSTEM} $Forwarded $Junk $Important $Label1)"),
    );
    assert!(flags < at(&ap, "* 2 EXISTS"), "{ap:#?}");

    // A later SELECT, and EXAMINE, list every keyword in use; EXAMINE allows none.
    let mut c = Client::login(server.port).await;
    let sel = c.ok("SELECT INBOX").await;
    assert!(
        has(
            &sel,
            &format!("* FLAGS ({SYSTEM} $Forwarded $Junk $Important $Label1)")
        ),
        "{sel:#?}"
    );
    let ex = c.ok("EXAMINE INBOX").await;
    assert!(
        has(
            &ex,
            &format!("* FLAGS ({SYSTEM} $Forwarded $Junk $Important $Label1)")
        ) && has(&ex, "* OK [PERMANENTFLAGS ()] read-only"),
        "{ex:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_belongs_to_the_first_session_that_selects() {
    let server = start(None).await;
    let acct = account(&server.core, USER).await;
    deliver(&server.core, acct, b"Subject: 1\r\n\r\nx\r\n").await;
    deliver(&server.core, acct, b"Subject: 2\r\n\r\nx\r\n").await;
    let mut a = Client::login(server.port).await;
    let mut b = Client::login(server.port).await;
    let mut watcher = Client::login(server.port).await;

    // STATUS does not claim (RFC 3501 §6.3.10).
    let st = watcher.ok("STATUS INBOX (RECENT MESSAGES)").await;
    assert!(
        has(&st, "* STATUS \"INBOX\" (RECENT 2 MESSAGES 2)"),
        "{st:#?}"
    );

    // EXAMINE reports recent messages without claiming them (RFC 3501 §6.3.2).
    let ex = watcher.ok("EXAMINE INBOX").await;
    assert!(has(&ex, "* 2 RECENT"), "{ex:#?}");
    let f = watcher.ok("FETCH 1 (FLAGS)").await;
    assert!(has(&f, "* 1 FETCH (FLAGS (\\Recent))"), "{f:#?}");
    watcher.ok("CLOSE").await;

    // The first SELECT claims both (RFC 3501 §2.3.2) ...
    let sel = a.ok("SELECT INBOX").await;
    assert!(has(&sel, "* 2 RECENT"), "{sel:#?}");
    let f = a.ok("FETCH 1:2 (FLAGS)").await;
    assert!(has(&f, "* 1 FETCH (FLAGS (\\Recent))"), "{f:#?}");
    assert!(has(&f, "* 2 FETCH (FLAGS (\\Recent))"), "{f:#?}");
    assert_eq!(search(&a.ok("SEARCH RECENT").await), vec![1, 2]);
    // NEW is RECENT and UNSEEN; OLD is NOT RECENT (RFC 3501 §6.4.4).
    a.ok("STORE 1 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(search(&a.ok("SEARCH NEW").await), vec![2]);
    assert_eq!(search(&a.ok("SEARCH OLD").await), Vec::<u32>::new());
    assert_eq!(search(&a.ok("SEARCH OR NEW SEEN").await), vec![1, 2]);
    assert_eq!(
        search(&a.ok("UID SEARCH NOT RECENT").await),
        Vec::<u32>::new()
    );
    // STORE's FETCH shows \Recent too.
    let st = a.ok("STORE 2 +FLAGS (\\Flagged)").await;
    assert!(
        has(&st, "* 2 FETCH (FLAGS (\\Flagged \\Recent))"),
        "{st:#?}"
    );

    // ... so a second session, and STATUS, see none.
    let sel = b.ok("SELECT INBOX").await;
    assert!(has(&sel, "* 0 RECENT"), "{sel:#?}");
    let f = b.ok("FETCH 2 (FLAGS)").await;
    assert!(has(&f, "* 2 FETCH (FLAGS (\\Flagged))"), "{f:#?}");
    assert_eq!(search(&b.ok("SEARCH OLD").await), vec![1, 2]);
    assert_eq!(search(&b.ok("SEARCH RECENT").await), Vec::<u32>::new());
    let st = watcher.ok("STATUS INBOX (RECENT)").await;
    assert!(has(&st, "* STATUS \"INBOX\" (RECENT 0)"), "{st:#?}");

    // New mail: recent for the first session to notice it, with `* n RECENT` after EXISTS.
    deliver(&server.core, acct, b"Subject: 3\r\n\r\nx\r\n").await;
    let n = b.ok("NOOP").await;
    let exists = at(&n, "* 3 EXISTS");
    assert!(exists < at(&n, "* 1 RECENT"), "{n:#?}");
    let n = a.ok("NOOP").await;
    assert!(has(&n, "* 3 EXISTS") && has(&n, "* 2 RECENT"), "{n:#?}");
    assert_eq!(search(&b.ok("SEARCH RECENT").await), vec![3]);
    assert_eq!(search(&a.ok("SEARCH RECENT").await), vec![1, 2]);

    // EXAMINE of new mail leaves it recent for the next SELECT.
    deliver(&server.core, acct, b"Subject: 4\r\n\r\nx\r\n").await;
    let st = watcher.ok("STATUS INBOX (RECENT)").await;
    assert!(has(&st, "* STATUS \"INBOX\" (RECENT 1)"), "{st:#?}");
    let ex = watcher.ok("EXAMINE INBOX").await;
    assert!(has(&ex, "* 1 RECENT"), "{ex:#?}");
    let mut d = Client::login(server.port).await;
    let sel = d.ok("SELECT INBOX").await;
    assert!(has(&sel, "* 1 RECENT"), "{sel:#?}");
    assert_eq!(search(&d.ok("SEARCH RECENT").await), vec![4]);
    let n = a.ok("NOOP").await;
    assert!(has(&n, "* 4 EXISTS") && has(&n, "* 2 RECENT"), "{n:#?}");

    // IMAP4rev2 has no \Recent (RFC 9051): nothing reported, nothing claimed.
    deliver(&server.core, acct, b"Subject: 5\r\n\r\nx\r\n").await;
    let mut r2 = Client::login(server.port).await;
    r2.ok("ENABLE IMAP4rev2").await;
    let sel = r2.ok("SELECT INBOX").await;
    assert!(!sel.iter().any(|l| l.contains("RECENT")), "{sel:#?}");
    let f = r2.ok("FETCH 5 (FLAGS)").await;
    assert!(has(&f, "* 5 FETCH (FLAGS ())"), "{f:#?}");
    let mut e = Client::login(server.port).await;
    let sel = e.ok("SELECT INBOX").await;
    assert!(has(&sel, "* 1 RECENT"), "{sel:#?}");
}

/// The test messages of the date searches: (Date field, INTERNALDATE).
const DATED: [(Option<&str>, &str); 5] = [
    // 1: late on 1 January where it was written; already 2 January in UTC.
    (
        Some("Mon, 1 Jan 2001 23:30:00 -0800"),
        "01-Jan-2001 23:30:00 -0800",
    ),
    // 2: early on 2 January where it was written; still 1 January in UTC.
    (
        Some("Tue, 2 Jan 2001 00:30:00 +1300"),
        "02-Jan-2001 00:30:00 +1300",
    ),
    // 3: no Date field.
    (None, "03-Jan-2001 00:00:00 +0000"),
    // 4: a Date field that is no date.
    (Some("sometime last week"), "03-Jan-2001 23:59:59 +0000"),
    // 5: obsolete syntax (RFC 5322 §4.3): comment, two-digit year, named zone.
    (
        Some("(sent) 3 Jan 01 10:00 EST"),
        "04-Jan-2001 00:00:00 +0000",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_are_compared_as_written() {
    let server = start(None).await;
    let mut c = Client::login(server.port).await;
    c.ok("CREATE Dated").await;
    for (i, (date, internal)) in DATED.iter().enumerate() {
        let date = date.map(|d| format!("Date: {d}\r\n")).unwrap_or_default();
        let msg = format!("{date}Subject: {}\r\n\r\nbody", i + 1);
        c.append(&format!("Dated \"{internal}\""), &msg).await;
    }
    c.ok("SELECT Dated").await;
    let cases: [(&str, &[u32]); 14] = [
        // RFC 3501 §6.4.4: the Date field's date, "disregarding time and timezone".
        ("SENTON 1-Jan-2001", &[1]),
        ("SENTON 2-Jan-2001", &[2]),
        ("SENTON 3-Jan-2001", &[5]),
        ("SENTBEFORE 2-Jan-2001", &[1]),
        ("SENTBEFORE 1-Jan-2001", &[]),
        ("SENTSINCE 2-Jan-2001", &[2, 5]),
        ("SENTSINCE 1-Jan-2001", &[1, 2, 5]),
        // No readable Date field: no sent date, so no SENT* key holds.
        ("NOT SENTBEFORE 1-Jan-3000", &[3, 4]),
        // The internal date's date.
        ("ON 1-Jan-2001", &[1]),
        ("ON 3-Jan-2001", &[3, 4]),
        ("BEFORE 3-Jan-2001", &[1, 2]),
        ("SINCE 3-Jan-2001", &[3, 4, 5]),
        ("SINCE 5-Jan-2001", &[]),
        ("SENTSINCE 1-Jan-2001 BEFORE 2-Jan-2001", &[1]),
    ];
    for (key, want) in cases {
        assert_eq!(search(&c.ok(&format!("SEARCH {key}")).await), want, "{key}");
    }
    // INTERNALDATE comes back in the zone APPEND gave, here and after a COPY.
    for (i, (_, internal)) in DATED.iter().enumerate() {
        let f = c.ok(&format!("FETCH {} (INTERNALDATE)", i + 1)).await;
        let want = format!("* {} FETCH (INTERNALDATE \"{internal}\")", i + 1);
        assert!(has(&f, &want), "{want}\n{f:#?}");
    }
    c.ok("COPY 1:2 Archive").await;
    c.ok("EXAMINE Archive").await;
    let f = c.ok("FETCH 1:2 (INTERNALDATE)").await;
    assert!(
        has(
            &f,
            "* 1 FETCH (INTERNALDATE \"01-Jan-2001 23:30:00 -0800\")"
        ),
        "{f:#?}"
    );
    assert!(
        has(
            &f,
            "* 2 FETCH (INTERNALDATE \"02-Jan-2001 00:30:00 +1300\")"
        ),
        "{f:#?}"
    );
    assert_eq!(search(&c.ok("SEARCH ON 2-Jan-2001").await), vec![2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esearch_modseq_is_that_of_the_messages_returned() {
    let server = start(None).await;
    let acct = account(&server.core, USER).await;
    for i in 1..=3 {
        deliver(
            &server.core,
            acct,
            format!("Subject: {i}\r\n\r\nx\r\n").as_bytes(),
        )
        .await;
    }
    let mut c = Client::login(server.port).await;
    c.ok("SELECT INBOX").await;
    // Message 2 gets the highest modseq; 1 and 3 keep their own.
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged)").await;
    // The first CONDSTORE-enabling command in the selected mailbox announces
    // HIGHESTMODSEQ (RFC 7162 §3.1, §3.1.2.1).
    let u = c.ok("FETCH 1:3 (MODSEQ)").await;
    let highest = at(&u, "* OK [HIGHESTMODSEQ ");
    let modseq: Vec<u64> = (1..=3)
        .map(|n| {
            let l = &u[at(&u, &format!("* {n} FETCH (MODSEQ ("))];
            l.split("MODSEQ (")
                .nth(1)
                .unwrap()
                .trim_end_matches("))")
                .parse()
                .unwrap()
        })
        .collect();
    assert!(modseq[1] > modseq[2] && modseq[2] > modseq[0], "{modseq:?}");
    assert_eq!(
        u[highest],
        format!("* OK [HIGHESTMODSEQ {}] highest", modseq[1])
    );
    // Only once.
    let again = c.ok("FETCH 1 (MODSEQ)").await;
    assert!(
        !again.iter().any(|l| l.contains("HIGHESTMODSEQ")),
        "{again:#?}"
    );

    // RFC 7162 §3.1.5 with RFC 4731: MIN, MAX, both, ALL, COUNT.
    let esearch = |ret: &str| format!("SEARCH RETURN ({ret}) MODSEQ {}", modseq[0]);
    let cases = [
        ("MIN", format!("MIN 1 MODSEQ {}", modseq[0])),
        ("MAX", format!("MAX 3 MODSEQ {}", modseq[2])),
        ("MIN MAX", format!("MIN 1 MAX 3 MODSEQ {}", modseq[2])),
        ("ALL", format!("ALL 1:3 MODSEQ {}", modseq[1])),
        ("COUNT", format!("COUNT 3 MODSEQ {}", modseq[1])),
    ];
    for (ret, want) in cases {
        let tag = format!("t{}", c.n + 1);
        let u = c.ok(&esearch(ret)).await;
        assert!(
            has(&u, &format!("* ESEARCH (TAG \"{tag}\") {want}")),
            "{ret}: {u:#?}"
        );
    }
    // Nothing found: no MODSEQ.
    let tag = format!("t{}", c.n + 1);
    let u = c
        .ok(&format!("SEARCH RETURN (MIN) MODSEQ {}", modseq[1] + 1))
        .await;
    assert!(has(&u, &format!("* ESEARCH (TAG \"{tag}\")")), "{u:#?}");

    // SEARCH MODSEQ also enables CONDSTORE, in a session of its own.
    let mut d = Client::login(server.port).await;
    let sel = d.ok("SELECT INBOX").await;
    assert!(has(
        &sel,
        &format!("* OK [HIGHESTMODSEQ {}] highest", modseq[1])
    ));
    let u = d.ok(&format!("SEARCH MODSEQ {}", modseq[2])).await;
    assert!(
        has(&u, &format!("* SEARCH 2 3 (MODSEQ {})", modseq[1])),
        "{u:#?}"
    );
    assert!(
        has(&u, &format!("* OK [HIGHESTMODSEQ {}] highest", modseq[1])),
        "{u:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_extended_and_lsub_follow_subscriptions() {
    let server = start(None).await;
    let mut c = Client::login(server.port).await;
    c.ok("CREATE Foo/Bar").await;
    c.ok("SUBSCRIBE Foo/Bar").await;
    c.ok("SUBSCRIBE Ghost").await;
    c.ok("SUBSCRIBE Baz/Qux").await;
    c.ok("UNSUBSCRIBE Drafts").await;

    // RFC 5258 §3.1: RECURSIVEMATCH without SUBSCRIBED is BAD.
    for cmd in [
        "LIST (RECURSIVEMATCH) \"\" \"%\"",
        "LIST (REMOTE RECURSIVEMATCH) \"\" \"%\"",
    ] {
        let (_, t) = c.run(cmd).await;
        assert!(t.contains(" BAD "), "{cmd}: {t}");
    }

    // RFC 5258 §3.1, §3.5: parents that match "%" for subscribed children they hide get
    // CHILDINFO; subscribed names that do not exist are \NonExistent.
    let u = c.ok("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await;
    for want in [
        "* LIST (\\HasChildren) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
        "* LIST (\\NonExistent) \"/\" \"Baz\" (\"CHILDINFO\" (\"SUBSCRIBED\"))",
        "* LIST (\\NonExistent \\Subscribed) \"/\" \"Ghost\"",
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"",
    ] {
        assert!(has(&u, want), "{want}\n{u:#?}");
    }
    assert!(
        !u.iter()
            .any(|l| l.contains("Foo/Bar") || l.contains("Drafts")),
        "{u:#?}"
    );
    // With "*" the children match themselves: no CHILDINFO, no unsubscribed parent.
    let u = c.ok("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\"").await;
    assert!(
        has(
            &u,
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Foo/Bar\""
        ),
        "{u:#?}"
    );
    assert!(
        has(&u, "* LIST (\\NonExistent \\Subscribed) \"/\" \"Baz/Qux\""),
        "{u:#?}"
    );
    assert!(
        !u.iter()
            .any(|l| l.contains("CHILDINFO") || l.ends_with("\"Foo\"")),
        "{u:#?}"
    );
    // Without RECURSIVEMATCH: subscribed names only.
    let u = c.ok("LIST (SUBSCRIBED) \"\" \"%\"").await;
    assert!(
        !u.iter()
            .any(|l| l.contains("\"Foo\"") || l.contains("\"Baz\"")),
        "{u:#?}"
    );

    // RFC 5258 §3.2: RETURN (SUBSCRIBED) marks subscribed names in a plain listing.
    let u = c.ok("LIST \"\" \"*\" RETURN (SUBSCRIBED)").await;
    for want in [
        "* LIST (\\HasChildren) \"/\" \"Foo\"",
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Foo/Bar\"",
        "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"",
    ] {
        assert!(has(&u, want), "{want}\n{u:#?}");
    }
    assert!(!u.iter().any(|l| l.contains("Ghost")), "{u:#?}");
    // Without it, no \Subscribed.
    let u = c.ok("LIST \"\" \"*\"").await;
    assert!(!u.iter().any(|l| l.contains("\\Subscribed")), "{u:#?}");

    // RFC 3501 §6.3.9: LSUB "%" shows the parent of a subscribed child as \Noselect.
    let u = c.ok("LSUB \"\" \"%\"").await;
    for want in [
        "* LSUB (\\Noselect) \"/\" \"Foo\"",
        "* LSUB (\\Noselect) \"/\" \"Baz\"",
        "* LSUB (\\Noselect) \"/\" \"Ghost\"",
    ] {
        assert!(has(&u, want), "{want}\n{u:#?}");
    }
    assert!(u.iter().any(|l| l.ends_with("\"INBOX\"")), "{u:#?}");
    assert!(
        !u.iter()
            .any(|l| l.contains("Drafts") || l.contains("CHILDINFO")),
        "{u:#?}"
    );
    let u = c.ok("LSUB \"\" \"*\"").await;
    assert!(u.iter().any(|l| l.ends_with("\"Foo/Bar\"")), "{u:#?}");
    assert!(!u.iter().any(|l| l.ends_with("\"Foo\"")), "{u:#?}");
}

/// An IMAP date-time (RFC 3501 `date-time`) `secs` seconds before now, in UTC.
fn ago(secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(secs);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02}-{}-{} {:02}:{:02}:{:02} +0000",
        t.day(),
        months[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_counts_the_internal_date_from_now() {
    let server = start(None).await;
    let mut c = Client::login(server.port).await;
    let caps = c.ok("CAPABILITY").await;
    assert!(
        caps.iter()
            .any(|l| l.starts_with("* CAPABILITY") && l.split(' ').any(|w| w == "WITHIN")),
        "{caps:#?}"
    );
    c.ok("CREATE Aged").await;
    // Ten days, two hours and one minute old (RFC 5032: the interval is in seconds).
    for (i, age) in [10 * 86_400, 2 * 3_600, 60].into_iter().enumerate() {
        let msg = format!("Subject: {}\r\n\r\nbody", i + 1);
        c.append(&format!("Aged \"{}\"", ago(age)), &msg).await;
    }
    c.ok("SELECT Aged").await;
    let cases: [(&str, &[u32]); 7] = [
        ("OLDER 86400", &[1]),
        ("YOUNGER 86400", &[2, 3]),
        ("YOUNGER 3600", &[3]),
        ("OLDER 600", &[1, 2]),
        ("OLDER 1000000000", &[]),
        ("YOUNGER 1000000000", &[1, 2, 3]),
        ("NOT YOUNGER 3600 OLDER 3600", &[1, 2]),
    ];
    for (key, want) in cases {
        assert_eq!(search(&c.ok(&format!("SEARCH {key}")).await), want, "{key}");
    }
    // The interval is an nz-number: zero and a missing interval are syntax errors.
    for bad in ["OLDER 0", "YOUNGER", "OLDER -5"] {
        let (_, tagged) = c.run(&format!("SEARCH {bad}")).await;
        assert!(tagged.contains(" BAD "), "{bad}: {tagged}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_is_the_start_of_the_text_and_leaves_seen_alone() {
    let server = start(None).await;
    let mut c = Client::login(server.port).await;
    c.ok("CREATE Previews").await;
    let messages = [
        "Subject: a\r\n\r\nSee you  at\r\n\r\nnoon.\r\n> quoted question\r\n",
        "Subject: b\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n\
         Content-Type: text/plain\r\n\r\nPlain part\r\n--x\r\nContent-Type: text/html\r\n\r\n\
         <p>HTML part</p>\r\n--x--\r\n",
        "Subject: c\r\nContent-Type: application/octet-stream\r\n\r\nxyz\r\n",
    ];
    for m in messages {
        c.append("Previews", m).await;
    }
    c.ok("SELECT Previews").await;
    let f = c.ok("FETCH 1:3 (PREVIEW)").await;
    for want in [
        "* 1 FETCH (PREVIEW \"See you at noon.\")",
        "* 2 FETCH (PREVIEW \"Plain part\")",
        "* 3 FETCH (PREVIEW \"\")",
    ] {
        assert!(has(&f, want), "{want}\n{f:#?}");
    }
    // RFC 8970 §6: the LAZY modifier, alone and inside a list of attributes; a FETCH
    // modifier after a lone PREVIEW stays a FETCH modifier.
    let f = c.ok("FETCH 1 PREVIEW (LAZY)").await;
    assert!(
        has(&f, "* 1 FETCH (PREVIEW \"See you at noon.\")"),
        "{f:#?}"
    );
    let f = c.ok("FETCH 2 (UID PREVIEW (LAZY) RFC822.SIZE)").await;
    assert!(
        f.iter()
            .any(|l| l.starts_with("* 2 FETCH (UID 2 PREVIEW \"Plain part\" RFC822.SIZE ")),
        "{f:#?}"
    );
    let f = c.ok("FETCH 1 PREVIEW (CHANGEDSINCE 1)").await;
    assert!(
        f.iter()
            .any(|l| l.starts_with("* 1 FETCH (PREVIEW \"See you at noon.\" MODSEQ (")),
        "{f:#?}"
    );
    let (_, tagged) = c.run("FETCH 1 (PREVIEW (EAGER))").await;
    assert!(tagged.contains(" BAD "), "{tagged}");
    // Reading a preview is not reading the message.
    let f = c.ok("FETCH 1:3 (FLAGS)").await;
    assert!(f.iter().all(|l| !l.contains("\\Seen")), "{f:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn savedate_is_when_the_message_entered_the_folder() {
    // The day must not change while the test runs: a minute before midnight UTC, wait.
    let into_day = time::OffsetDateTime::now_utc()
        .unix_timestamp()
        .rem_euclid(86_400);
    if into_day > 86_400 - 60 {
        tokio::time::sleep(Duration::from_secs((86_400 - into_day + 1) as u64)).await;
    }
    let server = start(None).await;
    let mut c = Client::login(server.port).await;
    c.ok("CREATE Saved").await;
    // An internal date far in the past: the save date is today all the same.
    c.append(
        "Saved \"01-Jan-2001 10:00:00 +0000\"",
        "Subject: s\r\n\r\nx",
    )
    .await;
    c.ok("SELECT Saved").await;
    let today = ago(0);
    let date = &today[..today.find(' ').expect("a date")];
    let f = c.ok("FETCH 1 (SAVEDATE INTERNALDATE)").await;
    let line = &f[at(&f, "* 1 FETCH")];
    assert!(line.contains(&format!("SAVEDATE \"{date} ")), "{line}");
    assert!(
        line.contains("INTERNALDATE \"01-Jan-2001 10:00:00 +0000\""),
        "{line}"
    );
    let tomorrow = ago(-86_400);
    let tomorrow = &tomorrow[..tomorrow.find(' ').expect("a date")];
    let cases = [
        (format!("SAVEDON {date}"), vec![1]),
        (format!("SAVEDSINCE {date}"), vec![1]),
        (format!("SAVEDBEFORE {date}"), vec![]),
        (format!("SAVEDBEFORE {tomorrow}"), vec![1]),
        (format!("SAVEDSINCE {tomorrow}"), vec![]),
        ("SAVEDATESUPPORTED".to_string(), vec![1]),
        ("SAVEDON 1-Jan-2001".to_string(), vec![]),
    ];
    for (key, want) in cases {
        assert_eq!(search(&c.ok(&format!("SEARCH {key}")).await), want, "{key}");
    }
    // A copy is saved in its new folder when it is copied.
    c.ok("COPY 1 Archive").await;
    c.ok("EXAMINE Archive").await;
    let f = c.ok("FETCH 1 (SAVEDATE)").await;
    assert!(
        f[at(&f, "* 1 FETCH")].contains(&format!("SAVEDATE \"{date} ")),
        "{f:#?}"
    );
}

//! Unit tests of the command grammar, including malformed input and property tests.

use super::*;

fn op(s: &str) -> Op {
    parse(s.as_bytes())
        .unwrap_or_else(|e| panic!("{s}: {e:?}"))
        .op
}

#[test]
fn simple_commands() {
    assert_eq!(op("a1 noop"), Op::Noop);
    assert_eq!(
        op("a LOGIN \"ann@c.example\" {4}\r\npass"),
        Op::Login {
            user: "ann@c.example".into(),
            password: "pass".into()
        }
    );
    assert_eq!(
        op("a AUTHENTICATE PLAIN AGFubgBwYXNz"),
        Op::Authenticate {
            mechanism: "PLAIN".into(),
            initial: Some("AGFubgBwYXNz".into())
        }
    );
    assert!(matches!(
        op("a SELECT inbox (CONDSTORE)"),
        Op::Select {
            condstore: true,
            ..
        }
    ));
    assert!(matches!(op("a CREATE Stuff (USE (\\Archive))"),
        Op::Create { special_use: Some(s), .. } if s == "\\Archive"));
    assert!(matches!(
        op("a UID EXPUNGE 1:3"),
        Op::Expunge { uids: Some(_) }
    ));
    assert!(matches!(op("a ID (\"name\" \"x\" \"v\" NIL)"), Op::Id));
    assert_eq!(op("a GETQUOTAROOT INBOX"), Op::GetQuotaRoot("INBOX".into()));
    assert_eq!(op("a GETQUOTA \"domain\""), Op::GetQuota("domain".into()));
}

#[test]
fn list_forms() {
    let Op::List {
        reference,
        patterns,
        options,
    } = op("a LIST (SUBSCRIBED) \"\" (\"*\" %) RETURN (SPECIAL-USE STATUS (MESSAGES SIZE))")
    else {
        panic!()
    };
    assert_eq!(reference, "");
    assert_eq!(patterns, vec!["*".to_string(), "%".to_string()]);
    assert!(options.subscribed);
    assert_eq!(options.status, vec![StatusItem::Messages, StatusItem::Size]);
    assert!(matches!(op("a LSUB \"\" *"), Op::List { options, .. } if options.lsub));
    assert!(matches!(op("a list \"\" INBOX/%"), Op::List { .. }));
    // RFC 5258 §3.1: RECURSIVEMATCH alone (or with REMOTE, or with the independent
    // SPECIAL-USE) is BAD; with SUBSCRIBED it is taken, and SUBSCRIBED implies the return
    // option.
    for bad in [
        "a LIST (RECURSIVEMATCH) \"\" *",
        "a LIST (REMOTE RECURSIVEMATCH) \"\" *",
        "a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *",
    ] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad}");
    }
    assert!(matches!(op("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %"),
        Op::List { options, .. } if options.recursive_match && options.return_subscribed));
    assert!(matches!(op("a LIST \"\" % RETURN (SUBSCRIBED)"),
        Op::List { options, .. } if options.return_subscribed && !options.subscribed));
    assert!(matches!(op("a LSUB \"\" %"),
        Op::List { options, .. } if !options.return_subscribed && options.subscribed));
}

#[test]
fn append_keeps_the_literal_in_place() {
    let buf = b"a APPEND Sent (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5}\r\nHello";
    let Op::Append { mailbox, messages } = op(std::str::from_utf8(buf).unwrap()) else {
        panic!()
    };
    assert_eq!(mailbox, "Sent");
    let [m] = &messages[..] else { panic!() };
    assert_eq!(m.flags, vec!["\\Seen".to_string()]);
    assert_eq!(
        m.date,
        Some(DateTime {
            secs: 837_596_665,
            zone: -420
        })
    );
    let AppendData::Literal(range) = &m.data else {
        panic!()
    };
    assert_eq!(&buf[range.clone()], b"Hello");
    // RFC 3501 §9: the zone is `hhmm`; kept as minutes east of UTC.
    let Op::Append { messages, .. } = op("a APPEND x \"1-Jan-2001 00:00:00 +0530\" {1}\r\nx")
    else {
        panic!()
    };
    assert!(matches!(messages[0].date, Some(DateTime { zone: 330, .. })));
    assert!(parse(b"a APPEND x \"1-Jan-2001 00:00:00 +0060\" {1}\r\nx").is_err());
}

/// RFC 3502 §6: `append = "APPEND" SP mailbox 1*append-message`, each with its own options
/// and a literal (or literal8, RFC 3516 §4.4, non-synchronising or not, RFC 7888).
#[test]
fn multiappend_takes_several_messages() {
    let buf = b"a APPEND saved-messages (\\Seen) {4}\r\nabcd \"7-Feb-1994 21:52:25 -0800\" ~{3+}\r\nxyz {2}\r\nhi";
    let Op::Append { mailbox, messages } = op(std::str::from_utf8(buf).unwrap()) else {
        panic!()
    };
    assert_eq!(mailbox, "saved-messages");
    assert_eq!(messages.len(), 3);
    let bodies: Vec<&[u8]> = messages
        .iter()
        .map(|m| match &m.data {
            AppendData::Literal(r) => &buf[r.clone()],
            AppendData::Catenate(_) => panic!(),
        })
        .collect();
    assert_eq!(bodies, vec![&b"abcd"[..], b"xyz", b"hi"]);
    assert_eq!(messages[0].flags, vec!["\\Seen".to_string()]);
    assert!(messages[1].flags.is_empty() && messages[1].date.is_some());
    assert!(messages[2].flags.is_empty() && messages[2].date.is_none());
    // A message needs its literal; two spaces or a trailing space are not the grammar.
    for bad in [
        "a APPEND x {1}\r\nx ",
        "a APPEND x {1}\r\nx  {1}\r\ny",
        "a APPEND x {1}\r\nx (\\Seen)",
        "a APPEND x {1}\r\nx{1}\r\ny",
    ] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
}

/// RFC 4469 §5: `append-data =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")"`,
/// `cat-part = text-literal / url`, `text-literal = "TEXT" SP literal`, `url = "URL" SP astring`.
#[test]
fn catenate_parts() {
    let buf = b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {3}\r\nabc URL {5}\r\n/x/;1 text ~{2+}\r\nhi) {4}\r\nnext";
    let Op::Append { mailbox, messages } = op(std::str::from_utf8(buf).unwrap()) else {
        panic!()
    };
    assert_eq!(mailbox, "Drafts");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].flags.len(), 3);
    let AppendData::Catenate(parts) = &messages[0].data else {
        panic!()
    };
    assert_eq!(parts.len(), 4);
    assert_eq!(
        parts[0],
        CatPart::Url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER".into())
    );
    let CatPart::Text(r) = &parts[1] else {
        panic!()
    };
    assert_eq!(&buf[r.clone()], b"abc");
    assert_eq!(parts[2], CatPart::Url("/x/;1".into()));
    let CatPart::Text(r) = &parts[3] else {
        panic!()
    };
    assert_eq!(&buf[r.clone()], b"hi");
    assert!(matches!(&messages[1].data, AppendData::Literal(r) if &buf[r.clone()] == b"next"));
    for bad in [
        "a APPEND x CATENATE ()",
        "a APPEND x CATENATE (TEXT \"quoted\")",
        "a APPEND x CATENATE (URL)",
        "a APPEND x CATENATE (FOO {1}\r\nx)",
        "a APPEND x CATENATE (URL x",
        "a APPEND x CATENATE(URL x)",
    ] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
    }
    // At most 1,000 messages in one APPEND.
    let mut many = b"a APPEND x".to_vec();
    for _ in 0..1001 {
        many.extend_from_slice(b" {1}\r\nx");
    }
    assert!(parse(&many).is_err());
    many.truncate(b"a APPEND x".len() + 1000 * b" {1}\r\nx".len());
    assert!(parse(&many).is_ok());
}

#[test]
fn store_and_copy() {
    assert!(matches!(
        op("a UID STORE 1:* +FLAGS.SILENT (\\Seen $Junk)"),
        Op::Store {
            uid: true,
            silent: true,
            mode: StoreMode::Add,
            ..
        }
    ));
    assert!(matches!(
        op("a STORE 1 (UNCHANGEDSINCE 5) FLAGS \\Seen"),
        Op::Store {
            unchanged_since: Some(5),
            mode: StoreMode::Replace,
            ..
        }
    ));
    assert!(matches!(
        op("a UID MOVE 4 Trash"),
        Op::Copy {
            uid: true,
            remove: true,
            ..
        }
    ));
}

#[test]
fn malformed_commands() {
    for s in [
        "",
        "a",
        "a ",
        "a FOO",
        "a UID NOOP",
        "a LOGIN x",
        "a SELECT",
        "a FETCH 1",
        "a FETCH x FLAGS",
        "a STORE 1 FLAGZ (\\Seen)",
        "a NOOP extra",
        "+ NOOP",
        "a STATUS INBOX (BOGUS)",
        "a APPEND INBOX {5}\r\nabc",
        "a LOGIN \"unterminated",
        "a ENABLE",
        "a SEARCH",
        "a CREATE x (FOO)",
    ] {
        assert!(parse(s.as_bytes()).is_err(), "{s:?} should not parse");
    }
    // The tag comes back when there was one.
    assert_eq!(parse(b"t1 BOGUS").unwrap_err().0.as_deref(), Some("t1"));
}

proptest::proptest! {
    // The parser is total: whatever bytes come, it answers Ok or Err, never panics.
    #[test]
    fn never_panics_on_bytes(buf in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = parse(&buf);
        let _ = parse_with(&buf, true);
    }

    // Near-valid commands: a real command name followed by IMAP-looking tokens.
    #[test]
    fn never_panics_on_near_commands(
        name in proptest::sample::select(vec![
            "FETCH", "UID FETCH", "STORE", "SEARCH", "LIST", "APPEND", "SELECT", "STATUS",
            "COPY", "UID MOVE", "CREATE", "LOGIN", "AUTHENTICATE", "ENABLE", "ID",
        ]),
        rest in "[ ()\\[\\]{}<>.:,*%$~+\"0-9A-Za-z\r\n-]{0,80}",
    ) {
        let cmd = format!("t {name} {rest}");
        let _ = parse(cmd.as_bytes());
    }
}

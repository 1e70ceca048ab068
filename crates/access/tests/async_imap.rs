//! The IMAP server driven by the async-imap crate, a Rust client nobody on this project wrote,
//! through its own API: sign-in (LOGIN, AUTHENTICATE PLAIN, STARTTLS, implicit TLS), folders,
//! every message command, IDLE, quota and the refusals a client sees. What the client reports
//! is checked against the store.

#[path = "imap/async_client.rs"]
mod async_client;
#[path = "imap/common.rs"]
mod common;

use async_client::{
    Plain, all, connect, connect_starttls, connect_tls, fetch, flag_names, idle_until, list, login,
    unsolicited, within,
};
use async_imap::error::Error;
use async_imap::types::{Flag, QuotaResourceName};
use common::{
    Offer, PASSWORD, QUOTA_PASSWORD, QUOTA_USER, TestCert, USER, account, deliver, folder, start,
    start_with,
};
use marque_core::{Actor, NewMailbox};
use marque_store::mail::Flags;

const FIRST: &[u8] = b"From: Bob Example <bob@example.org>\r\n\
To: Ann <ann@c.example>\r\n\
Subject: first message\r\n\
Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\
Message-ID: <1@example.org>\r\n\
\r\n\
Hello body one\r\n";

const WITH_ATTACHMENT: &[u8] = b"From: Carol <carol@example.net>\r\n\
To: ann@c.example\r\n\
Subject: with attachment\r\n\
Date: Tue, 1 Jan 2019 10:00:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\
\r\n\
--XX\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
part one text\r\n\
--XX\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"a.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAECAw==\r\n\
--XX--\r\n";

const THIRD: &[u8] = b"From: dave@example.com\r\nSubject: third\r\n\r\nsmall\r\n";

fn text(b: Option<&[u8]>) -> String {
    String::from_utf8_lossy(b.unwrap_or_default()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_capabilities_and_folders() {
    let server = start(None).await;

    // A wrong password is refused with NO; the same connection then signs in.
    let client = connect(server.port).await;
    let (err, client) = match within("LOGIN", client.login(USER, "wrong password")).await {
        Ok(_) => panic!("a wrong password was accepted"),
        Err(refused) => refused,
    };
    assert!(matches!(err, Error::No(_)), "{err:?}");
    let mut s = async_client::login(client, USER, PASSWORD).await;

    let caps = within("CAPABILITY", s.capabilities())
        .await
        .expect("CAPABILITY");
    for c in [
        "IMAP4rev1",
        "IDLE",
        "UIDPLUS",
        "MOVE",
        "SPECIAL-USE",
        "QUOTA",
        "NAMESPACE",
    ] {
        assert!(
            caps.has_str(c),
            "{c} in {:?}",
            caps.iter().collect::<Vec<_>>()
        );
    }
    assert!(!caps.has_str("STARTTLS"), "no STARTTLS on a plain listener");
    let id = within("ID", s.id([("name", Some("async-imap"))]))
        .await
        .expect("ID")
        .expect("the server names itself");
    assert_eq!(id.get("name").map(String::as_str), Some("Marque"), "{id:?}");

    // LIST: INBOX and the five special-use folders (RFC 6154).
    let folders = list(&mut s, false, "*").await;
    let attrs = |name: &str| {
        folders
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} in {folders:?}"))
            .1
            .clone()
    };
    assert!(attrs("INBOX").iter().all(|a| a != "NoSelect"));
    for (name, special) in [
        ("Drafts", "Drafts"),
        ("Sent", "Sent"),
        ("Trash", "Trash"),
        ("Junk", "Junk"),
        ("Archive", "Archive"),
    ] {
        assert!(
            attrs(name).iter().any(|a| a == special),
            "{name} is \\{special}: {folders:?}"
        );
    }

    // CREATE, a child, RENAME of the parent with its child, SUBSCRIBE/LSUB, DELETE; names with
    // a space and with quotes, which the client sends as quoted strings with escapes.
    within("CREATE", s.create("My Projects"))
        .await
        .expect("CREATE");
    within("CREATE", s.create("My Projects/Old"))
        .await
        .expect("CREATE a child");
    let err = within("CREATE", s.create("My Projects"))
        .await
        .expect_err("CREATE of an existing folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");
    within("RENAME", s.rename("My Projects", "Work \"Q3\""))
        .await
        .expect("RENAME");
    let names: Vec<String> = list(&mut s, false, "*")
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(
        names.contains(&"Work \"Q3\"".to_string())
            && names.contains(&"Work \"Q3\"/Old".to_string()),
        "the child moved with its parent: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("My Projects")),
        "{names:?}"
    );
    let account = common::account(&server.core, USER).await;
    assert!(
        folder(&server.core, account, "Work \"Q3\"/Old")
            .await
            .is_some()
    );
    let children = list(&mut s, false, "Work \"Q3\"/%").await;
    assert_eq!(children.len(), 1, "{children:?}");
    assert_eq!(children[0].0, "Work \"Q3\"/Old");

    within("SUBSCRIBE", s.subscribe("Work \"Q3\"/Old"))
        .await
        .expect("SUBSCRIBE");
    let subscribed = list(&mut s, true, "*").await;
    assert!(
        subscribed.iter().any(|(n, _)| n == "Work \"Q3\"/Old"),
        "{subscribed:?}"
    );
    within("UNSUBSCRIBE", s.unsubscribe("Work \"Q3\"/Old"))
        .await
        .expect("UNSUBSCRIBE");
    let subscribed = list(&mut s, true, "*").await;
    assert!(
        !subscribed.iter().any(|(n, _)| n == "Work \"Q3\"/Old"),
        "{subscribed:?}"
    );

    within("DELETE", s.delete("Work \"Q3\"/Old"))
        .await
        .expect("DELETE");
    within("DELETE", s.delete("Work \"Q3\""))
        .await
        .expect("DELETE");
    let err = within("DELETE", s.delete("Work \"Q3\""))
        .await
        .expect_err("DELETE of a folder that is gone");
    assert!(matches!(err, Error::No(_)), "{err:?}");
    let err = within("RENAME", s.rename("Nowhere", "Elsewhere"))
        .await
        .expect_err("RENAME of a missing folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");

    // SELECT and EXAMINE of a missing folder: NO.
    let err = within("SELECT", s.select("Nowhere"))
        .await
        .expect_err("SELECT of a missing folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");
    let err = within("EXAMINE", s.examine("Nowhere"))
        .await
        .expect_err("EXAMINE of a missing folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");

    // The store agrees: the renamed and deleted folders are gone, the special ones stay.
    for gone in [
        "My Projects",
        "My Projects/Old",
        "Work \"Q3\"",
        "Work \"Q3\"/Old",
    ] {
        assert!(
            folder(&server.core, account, gone).await.is_none(),
            "{gone}"
        );
    }
    assert!(folder(&server.core, account, "Archive").await.is_some());

    within("NOOP", s.noop()).await.expect("NOOP");
    within("LOGOUT", s.logout()).await.expect("LOGOUT");

    // A password with a quote, a backslash and a space goes as a quoted string with escapes.
    let odd = "say \"hi\" \\ back";
    server
        .core
        .create_mailbox(
            &Actor::operator(),
            NewMailbox {
                address: "odd@c.example".into(),
                password: odd.into(),
                quota_mb: Some(10),
                tier: None,
                postmaster: false,
            },
        )
        .await
        .expect("mailbox");
    let mut s = login(connect(server.port).await, "odd@c.example", odd).await;
    within("LOGOUT", s.logout()).await.expect("LOGOUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticate_plain_after_starttls() {
    let cert = TestCert::new();
    let server = start(Some(cert.config)).await;
    let client = connect_starttls(server.port, &cert.pem).await;
    let refused = within(
        "AUTHENTICATE",
        client.authenticate(
            "PLAIN",
            Plain {
                login: USER,
                password: "not it",
            },
        ),
    )
    .await;
    let client = match refused {
        Ok(_) => panic!("a wrong password was accepted"),
        Err((err, client)) => {
            assert!(matches!(err, Error::No(_)), "{err:?}");
            client
        }
    };
    let mut s = within(
        "AUTHENTICATE",
        client.authenticate(
            "PLAIN",
            Plain {
                login: USER,
                password: PASSWORD,
            },
        ),
    )
    .await
    .map_err(|(e, _)| e)
    .expect("AUTHENTICATE PLAIN accepted");
    let caps = within("CAPABILITY", s.capabilities())
        .await
        .expect("CAPABILITY");
    assert!(caps.has_str("IMAP4rev1"));
    assert!(!caps.has_str("STARTTLS"), "STARTTLS gone after the upgrade");
    let inbox = within("SELECT", s.select("INBOX")).await.expect("SELECT");
    assert_eq!(inbox.exists, 0);
    within("LOGOUT", s.logout()).await.expect("LOGOUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_implicit_tls() {
    let cert = TestCert::new();
    let server = start_with(Offer::Implicit(cert.config)).await;
    let account = account(&server.core, USER).await;
    let mut s = login(connect_tls(server.port, &cert.pem).await, USER, PASSWORD).await;

    // APPEND with flags and an internal date.
    within(
        "APPEND",
        s.append("INBOX", Some("(\\Seen \\Flagged)"), None, FIRST),
    )
    .await
    .expect("APPEND");
    within("APPEND", s.append("INBOX", None, None, WITH_ATTACHMENT))
        .await
        .expect("APPEND");
    within(
        "APPEND",
        s.append(
            "INBOX",
            Some("(\\Draft $Pending)"),
            Some("\"07-Feb-1994 21:52:25 -0800\""),
            THIRD,
        ),
    )
    .await
    .expect("APPEND");

    // EXAMINE: read-only, the same counts; STORE is refused there.
    let examined = within("EXAMINE", s.examine("INBOX"))
        .await
        .expect("EXAMINE");
    assert_eq!(examined.exists, 3);
    assert!(examined.permanent_flags.is_empty(), "{examined:?}");
    // (The crate's STORE stream drops the tagged answer; the plain command shows it.)
    let err = within(
        "STORE",
        s.run_command_and_check_ok("STORE 1 +FLAGS (\\Deleted)"),
    )
    .await
    .expect_err("STORE in a read-only folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");

    // SELECT: EXISTS, UIDVALIDITY, UIDNEXT, UNSEEN, FLAGS and PERMANENTFLAGS.
    let inbox = within("SELECT", s.select("INBOX")).await.expect("SELECT");
    assert_eq!(inbox.exists, 3, "{inbox:?}");
    assert!(inbox.uid_validity.is_some_and(|v| v > 0), "{inbox:?}");
    assert_eq!(inbox.uid_next, Some(4), "{inbox:?}");
    assert_eq!(inbox.unseen, Some(2), "the first unseen message: {inbox:?}");
    for f in [
        Flag::Seen,
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Draft,
    ] {
        assert!(inbox.flags.contains(&f), "{f:?} in {inbox:?}");
        assert!(inbox.permanent_flags.contains(&f), "{f:?} in {inbox:?}");
    }
    assert!(
        inbox.permanent_flags.contains(&Flag::MayCreate),
        "{inbox:?}"
    );

    // FETCH of UID, FLAGS, size and ENVELOPE.
    let got = fetch(&mut s, false, "1:3", "(UID FLAGS RFC822.SIZE ENVELOPE)").await;
    assert_eq!(got.len(), 3);
    let uids: Vec<_> = got.iter().map(|f| (f.message, f.uid)).collect();
    assert_eq!(uids, [(1, Some(1)), (2, Some(2)), (3, Some(3))]);
    let sizes: Vec<_> = got.iter().map(|f| f.size).collect();
    assert_eq!(
        sizes,
        [FIRST, WITH_ATTACHMENT, THIRD].map(|m| Some(m.len() as u32))
    );
    // The messages are recent in this session, the first to select INBOX (RFC 3501 §2.3.2).
    assert_eq!(flag_names(&got[0]), ["\\Flagged", "\\Recent", "\\Seen"]);
    assert_eq!(flag_names(&got[1]), ["\\Recent"]);
    assert_eq!(flag_names(&got[2]), ["$Pending", "\\Draft", "\\Recent"]);
    let env = got[0].envelope().expect("ENVELOPE");
    assert_eq!(text(env.subject.as_deref()), "first message");
    assert_eq!(text(env.message_id.as_deref()), "<1@example.org>");
    assert_eq!(text(env.date.as_deref()), "Mon, 7 Feb 1994 21:52:25 -0800");
    let from = &env.from.as_ref().expect("From")[0];
    assert_eq!(text(from.name.as_deref()), "Bob Example");
    assert_eq!(text(from.mailbox.as_deref()), "bob");
    assert_eq!(text(from.host.as_deref()), "example.org");
    let to = &env.to.as_ref().expect("To")[0];
    assert_eq!(text(to.mailbox.as_deref()), "ann");
    // Sender and Reply-To default to From (RFC 3501 §7.4.2).
    assert_eq!(env.sender, env.from);
    assert_eq!(env.reply_to, env.from);

    // INTERNALDATE is the instant given to APPEND (07-Feb-1994 21:52:25 -0800); the server
    // keeps the instant, not the zone.
    let dated = fetch(&mut s, false, "3", "INTERNALDATE").await;
    let date = dated[0].internal_date().expect("INTERNALDATE");
    assert_eq!(date.timestamp(), 760_686_745, "{date}");

    // BODYSTRUCTURE of the multipart message.
    let got = fetch(&mut s, false, "2", "BODYSTRUCTURE").await;
    check_structure(got[0].bodystructure().expect("BODYSTRUCTURE"));

    // BODY.PEEK[] is the message as appended, and leaves \Seen alone.
    let got = fetch(&mut s, false, "2", "BODY.PEEK[]").await;
    assert_eq!(got[0].body(), Some(WITH_ATTACHMENT));
    let got = fetch(&mut s, false, "2", "FLAGS").await;
    assert_eq!(flag_names(&got[0]), ["\\Recent"], "PEEK set no flag");
    // BODY[] sets \Seen (RFC 3501 §6.4.5).
    let got = fetch(&mut s, false, "3", "BODY[]").await;
    assert_eq!(got.iter().find_map(|f| f.body()), Some(THIRD));
    let got = fetch(&mut s, false, "3", "FLAGS").await;
    assert!(flag_names(&got[0]).contains(&"\\Seen".to_string()));

    // Header fields, in the message's order, ended by the blank line.
    let got = fetch(
        &mut s,
        false,
        "1",
        "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]",
    )
    .await;
    assert_eq!(
        text(got[0].header()),
        "From: Bob Example <bob@example.org>\r\nSubject: first message\r\n\r\n"
    );
    // A part, and partial fetches of the text and of the whole.
    let got = fetch(&mut s, false, "2", "BODY.PEEK[1]").await;
    let part = async_imap::imap_proto::SectionPath::Part(vec![1], None);
    assert_eq!(text(got[0].section(&part)), "part one text");
    let got = fetch(&mut s, false, "1", "BODY.PEEK[TEXT]<6.4>").await;
    assert_eq!(text(got[0].text()), "body");
    let got = fetch(&mut s, false, "1", "BODY.PEEK[]<0.4>").await;
    assert_eq!(got[0].body(), Some(&b"From"[..]));

    // UID FETCH of a range open at the top.
    let got = fetch(&mut s, true, "2:*", "FLAGS").await;
    let uids: Vec<_> = got.iter().map(|f| f.uid).collect();
    assert_eq!(uids, [Some(2), Some(3)]);

    // STORE and UID STORE answer the new flags; .SILENT answers nothing.
    let stream = within("STORE", s.store("1", "+FLAGS (\\Answered)"))
        .await
        .expect("STORE");
    let got = all("STORE", stream).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        flag_names(&got[0]),
        ["\\Answered", "\\Flagged", "\\Recent", "\\Seen"]
    );
    let stream = within("UID STORE", s.uid_store("3", "-FLAGS ($Pending)"))
        .await
        .expect("UID STORE");
    let got = all("UID STORE", stream).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].uid, Some(3));
    assert_eq!(flag_names(&got[0]), ["\\Draft", "\\Recent", "\\Seen"]);
    let stream = within("STORE", s.store("2", "+FLAGS.SILENT (\\Flagged)"))
        .await
        .expect("STORE");
    assert!(all("STORE", stream).await.is_empty(), "silent");

    // SEARCH and UID SEARCH.
    for (q, want) in [
        ("SEEN", vec![1, 3]),
        ("UNSEEN", vec![2]),
        ("FLAGGED", vec![1, 2]),
        ("DRAFT", vec![3]),
        ("SUBJECT third", vec![3]),
        ("FROM carol", vec![2]),
        ("BODY \"part one\"", vec![2]),
        ("NOT ANSWERED", vec![2, 3]),
        ("ALL", vec![1, 2, 3]),
    ] {
        let got = within("SEARCH", s.search(q)).await.expect("SEARCH");
        let mut got: Vec<u32> = got.into_iter().collect();
        got.sort();
        assert_eq!(got, want, "SEARCH {q}");
    }
    let got = within("UID SEARCH", s.uid_search("UID 2:* SEEN"))
        .await
        .expect("UID SEARCH");
    assert_eq!(got.into_iter().collect::<Vec<_>>(), [3]);

    // COPY keeps the source; UID MOVE removes it and reports the expunge.
    within("COPY", s.copy("1", "Archive")).await.expect("COPY");
    unsolicited(&s);
    within("UID MOVE", s.uid_mv("2", "Trash"))
        .await
        .expect("UID MOVE");
    let seen = unsolicited(&s);
    assert!(
        seen.contains(&"EXPUNGE 2".to_string()),
        "MOVE expunged message 2: {seen:?}"
    );
    let err = within("COPY", s.copy("1", "Nowhere"))
        .await
        .expect_err("COPY to a missing folder");
    assert!(
        matches!(&err, Error::No(m) if m.contains("TryCreate")),
        "{err:?}"
    );
    let err = within("APPEND", s.append("Nowhere", None, None, THIRD))
        .await
        .expect_err("APPEND to a missing folder");
    assert!(
        matches!(&err, Error::No(m) if m.contains("TryCreate")),
        "{err:?}"
    );
    let err = within("STATUS", s.status("Nowhere", "(MESSAGES)"))
        .await
        .expect_err("STATUS of a missing folder");
    assert!(matches!(err, Error::No(_)), "{err:?}");

    // EXPUNGE removes every \Deleted message; UID EXPUNGE only those named (RFC 4315).
    let stream = within("STORE", s.store("2", "+FLAGS.SILENT (\\Deleted)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    let stream = within("EXPUNGE", s.expunge()).await.expect("EXPUNGE");
    assert_eq!(all("EXPUNGE", stream).await, [2], "message 2 (UID 3)");
    within(
        "APPEND",
        s.append("INBOX", Some("(\\Deleted)"), None, THIRD),
    )
    .await
    .expect("APPEND");
    let stream = within("STORE", s.store("1", "+FLAGS.SILENT (\\Deleted)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    let stream = within("UID EXPUNGE", s.uid_expunge("1"))
        .await
        .expect("UID EXPUNGE");
    assert_eq!(all("UID EXPUNGE", stream).await, [1], "only UID 1 went");

    // STATUS of the selected and another folder.
    let status = within("STATUS", s.status("INBOX", "(MESSAGES UIDNEXT UNSEEN)"))
        .await
        .expect("STATUS");
    assert_eq!(status.exists, 1);
    assert_eq!(status.uid_next, Some(5));
    assert_eq!(status.unseen, Some(1));
    let status = within("STATUS", s.status("Trash", "(MESSAGES UIDVALIDITY)"))
        .await
        .expect("STATUS");
    assert_eq!(status.exists, 1);
    assert!(status.uid_validity.is_some());
    within("LOGOUT", s.logout()).await.expect("LOGOUT");

    // The store holds what the client was told.
    let inbox = folder(&server.core, account, "INBOX").await.expect("INBOX");
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!((inbox[0].uid, inbox[0].flags), (4, Flags::DELETED));
    let archive = folder(&server.core, account, "Archive")
        .await
        .expect("Archive");
    assert_eq!(archive.len(), 1, "{archive:?}");
    assert_eq!(archive[0].subject, "first message");
    assert_eq!(
        archive[0].flags,
        Flags::SEEN.union(Flags::FLAGGED).union(Flags::ANSWERED)
    );
    let trash = folder(&server.core, account, "Trash").await.expect("Trash");
    assert_eq!(trash.len(), 1, "{trash:?}");
    assert_eq!(trash[0].subject, "with attachment");
    assert_eq!(trash[0].flags, Flags::FLAGGED);
}

/// multipart/mixed of text/plain and a base64 application/octet-stream attachment.
fn check_structure(b: &async_imap::imap_proto::BodyStructure<'_>) {
    use async_imap::imap_proto::{BodyStructure, ContentEncoding};
    let BodyStructure::Multipart { common, bodies, .. } = b else {
        panic!("not multipart: {b:?}");
    };
    assert!(common.ty.subtype.eq_ignore_ascii_case("mixed"), "{b:?}");
    assert_eq!(bodies.len(), 2, "{b:?}");
    // A part's body ends before the CRLF that precedes the boundary (RFC 2046 §5.1.1).
    let BodyStructure::Text { common, other, .. } = &bodies[0] else {
        panic!("part 1 is not text: {b:?}");
    };
    assert!(common.ty.subtype.eq_ignore_ascii_case("plain"), "{b:?}");
    assert_eq!(other.octets, "part one text".len() as u32, "{b:?}");
    let BodyStructure::Basic { common, other, .. } = &bodies[1] else {
        panic!("part 2 is not basic: {b:?}");
    };
    assert!(common.ty.ty.eq_ignore_ascii_case("application"), "{b:?}");
    assert!(
        common.ty.subtype.eq_ignore_ascii_case("octet-stream"),
        "{b:?}"
    );
    assert_eq!(other.transfer_encoding, ContentEncoding::Base64, "{b:?}");
    assert_eq!(other.octets, "AAECAw==".len() as u32, "{b:?}");
    let disposition = common.disposition.as_ref().expect("disposition");
    assert!(disposition.ty.eq_ignore_ascii_case("attachment"), "{b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_on_an_append_and_on_a_delivery() {
    let server = start(None).await;
    let account = account(&server.core, USER).await;
    let mut watcher = login(connect(server.port).await, USER, PASSWORD).await;
    let inbox = within("SELECT", watcher.select("INBOX"))
        .await
        .expect("SELECT");
    assert_eq!(inbox.exists, 0);
    let mut other = login(connect(server.port).await, USER, PASSWORD).await;

    // Woken by a message another session appends.
    let mut idle = watcher.idle();
    within("IDLE", idle.init()).await.expect("IDLE");
    within("APPEND", other.append("INBOX", None, None, THIRD))
        .await
        .expect("APPEND");
    idle_until(&mut idle, "EXISTS 1").await;
    let mut watcher = within("DONE", idle.done()).await.expect("DONE");
    within("NOOP", watcher.noop()).await.expect("NOOP");

    // Woken by a delivery written to the store, as the SMTP side does.
    let mut idle = watcher.idle();
    within("IDLE", idle.init()).await.expect("IDLE");
    deliver(
        &server.core,
        account,
        b"From: x@y.z\r\nSubject: pushed\r\n\r\nwake up\r\n",
    )
    .await;
    idle_until(&mut idle, "EXISTS 2").await;
    let mut watcher = within("DONE", idle.done()).await.expect("DONE");
    let got = fetch(&mut watcher, false, "2", "ENVELOPE").await;
    assert_eq!(
        text(got[0].envelope().and_then(|e| e.subject.as_deref())),
        "pushed"
    );
    within("LOGOUT", watcher.logout()).await.expect("LOGOUT");
    within("LOGOUT", other.logout()).await.expect("LOGOUT");
}

/// Two sessions on one folder: each learns of the other's flag changes, expunges and appends
/// at NOOP and in IDLE (RFC 3501 §7.4.1, RFC 2177), and CONDSTORE's MODSEQ grows (RFC 7162).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_session_s_changes_reach_a_selected_one() {
    let server = start(None).await;
    let account = account(&server.core, USER).await;
    for raw in [FIRST, WITH_ATTACHMENT, THIRD] {
        deliver(&server.core, account, raw).await;
    }
    let mut a = login(connect(server.port).await, USER, PASSWORD).await;
    let inbox = within("SELECT", a.select_condstore("INBOX"))
        .await
        .expect("SELECT (CONDSTORE)");
    assert_eq!(inbox.exists, 3);
    let modseq = inbox.highest_modseq.expect("HIGHESTMODSEQ");
    let mut b = login(connect(server.port).await, USER, PASSWORD).await;
    within("SELECT", b.select("INBOX")).await.expect("SELECT");

    // A flag set by B reaches A at its next NOOP, with its MODSEQ since A enabled CONDSTORE
    // (RFC 7162 §3.2.4), and a higher one.
    let stream = within("STORE", b.store("1", "+FLAGS.SILENT (\\Flagged)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    within("NOOP", a.noop()).await.expect("NOOP");
    let seen = unsolicited(&a);
    assert!(
        // A selected first: the message is recent in A (RFC 3501 §2.3.2).
        seen.contains(&"FETCH 1 (\\Flagged \\Recent) MODSEQ".to_string()),
        "{seen:?}"
    );
    let got = fetch(&mut a, false, "1", "(FLAGS MODSEQ)").await;
    assert!(got[0].modseq.is_some_and(|m| m > modseq), "{:?}", got[0]);

    // An expunge by B reaches A at NOOP.
    let stream = within("STORE", b.store("2", "+FLAGS.SILENT (\\Deleted)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    let stream = within("EXPUNGE", b.expunge()).await.expect("EXPUNGE");
    assert_eq!(all("EXPUNGE", stream).await, [2]);
    within("NOOP", a.noop()).await.expect("NOOP");
    let seen = unsolicited(&a);
    assert!(seen.contains(&"EXPUNGE 2".to_string()), "{seen:?}");

    // In IDLE: B's append, flag change and expunge, each as it happens.
    let mut idle = a.idle();
    within("IDLE", idle.init()).await.expect("IDLE");
    within("APPEND", b.append("INBOX", None, None, THIRD))
        .await
        .expect("APPEND");
    idle_until(&mut idle, "EXISTS 3").await;
    let stream = within("STORE", b.store("1", "-FLAGS.SILENT (\\Flagged)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    idle_until(&mut idle, "FETCH 1 (\\Recent) MODSEQ").await;
    let stream = within("STORE", b.store("1", "+FLAGS.SILENT (\\Deleted)"))
        .await
        .expect("STORE");
    all("STORE", stream).await;
    let stream = within("EXPUNGE", b.expunge()).await.expect("EXPUNGE");
    all("EXPUNGE", stream).await;
    idle_until(&mut idle, "EXPUNGE 1").await;
    let mut a = within("DONE", idle.done()).await.expect("DONE");

    // A's view now matches the folder: UIDs 3 and 4.
    let got = fetch(&mut a, false, "1:*", "UID").await;
    let uids: Vec<_> = got.iter().map(|f| f.uid).collect();
    assert_eq!(uids, [Some(3), Some(4)]);
    let stored: Vec<u32> = folder(&server.core, account, "INBOX")
        .await
        .expect("INBOX")
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(stored, [3, 4]);
    within("LOGOUT", a.logout()).await.expect("LOGOUT");
    within("LOGOUT", b.logout()).await.expect("LOGOUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_and_its_refusal() {
    let server = start(None).await;
    let mut s = login(connect(server.port).await, USER, PASSWORD).await;
    let (roots, quotas) = within("GETQUOTAROOT", s.get_quota_root("INBOX"))
        .await
        .expect("GETQUOTAROOT");
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0].mailbox_name, "INBOX");
    assert_eq!(roots[0].quota_root_names, ["mailbox"]);
    let mailbox = quotas
        .iter()
        .find(|q| q.root_name == "mailbox")
        .unwrap_or_else(|| panic!("{quotas:?}"));
    assert_eq!(mailbox.resources.len(), 1);
    assert_eq!(mailbox.resources[0].name, QuotaResourceName::Storage);
    assert_eq!(
        (mailbox.resources[0].usage, mailbox.resources[0].limit),
        (0, 100 * 1024),
        "100 MB, in KiB"
    );
    // Usage grows with an appended message (whole KiB).
    let big = format!(
        "From: a@b.c\r\nSubject: big\r\n\r\n{}\r\n",
        "x".repeat(10 * 1024)
    );
    within("APPEND", s.append("INBOX", None, None, big.as_bytes()))
        .await
        .expect("APPEND");
    let quota = within("GETQUOTA", s.get_quota("mailbox"))
        .await
        .expect("GETQUOTA");
    assert_eq!(quota.resources[0].usage, 10, "{quota:?}");
    within("LOGOUT", s.logout()).await.expect("LOGOUT");

    // A message above the 1 MB quota is refused with NO and not stored.
    let mut tiny = login(connect(server.port).await, QUOTA_USER, QUOTA_PASSWORD).await;
    let huge = format!(
        "From: a@b.c\r\nSubject: huge\r\n\r\n{}\r\n",
        "y".repeat(2 * 1024 * 1024)
    );
    let err = within("APPEND", tiny.append("INBOX", None, None, huge.as_bytes()))
        .await
        .expect_err("APPEND above the quota");
    assert!(
        matches!(&err, Error::No(m) if m.contains("OVERQUOTA") || m.to_lowercase().contains("quota")),
        "{err:?}"
    );
    let account = account(&server.core, QUOTA_USER).await;
    let inbox = folder(&server.core, account, "INBOX").await.expect("INBOX");
    assert!(inbox.is_empty(), "{inbox:?}");
    within("LOGOUT", tiny.logout()).await.expect("LOGOUT");
}

//! neomutt, a terminal mail client nobody on this project wrote, against the IMAP server over
//! implicit TLS. neomutt wants a terminal: `script` (util-linux) gives it a pseudo-terminal,
//! and the keys it would be typed come from `push` in its configuration, so it runs from start
//! to quit with nobody at the keyboard. What it did is then checked in the store. It keeps a
//! header cache and uses QRESYNC (RFC 7162), so each run after the first resynchronises from
//! what the one before saw.

#[path = "imap/common.rs"]
mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Offer, PASSWORD, TestCert, USER, account, deliver, folder, start_with};
use marque_store::mail::Flags;

/// The messages delivered to INBOX: (sender, subject).
const MESSAGES: [(&str, &str); 3] = [
    ("bob@example.org", "alpha report"),
    ("carol@example.net", "beta invoice"),
    ("dave@example.com", "gamma notice"),
];

/// What neomutt is made to type once INBOX is open (its own function names, `<...>`):
/// read "alpha", copy it to Archive and flag it; save "beta" to a folder that does not exist yet
/// (answered `[TRYCREATE]`, then created), which marks it deleted; delete "gamma"; sync
/// (expunge); quit. The first printable key of a prompt replaces its suggested answer, and
/// `<kill-line>` clears it anyway.
const ACT: &str = "<search>alpha<enter>\
<display-message><exit>\
<copy-message><kill-line>=Archive<enter>\
<flag-message>\
<search>beta<enter>\
<save-message><kill-line>=Work<enter>\
<search>gamma<enter>\
<delete-message>\
<sync-mailbox>\
<quit>";

/// Only opens INBOX and quits. neomutt does not redraw while typed-ahead keys are pending, so
/// the screen it leaves shows the index as it stands when it quits: a listing.
const LIST: &str = "<quit>";

fn muttrc(port: u16, cert: &Path, dir: &Path, keys: &str) -> String {
    format!(
        "set imap_user = \"{USER}\"\n\
         set imap_pass = \"{PASSWORD}\"\n\
         set folder = \"imaps://127.0.0.1:{port}/\"\n\
         set spoolfile = \"+INBOX\"\n\
         set certificate_file = \"{cert}\"\n\
         set ssl_force_tls = yes\n\
         set record = \"\"\n\
         set postponed = \"+Drafts\"\n\
         set tmpdir = \"{tmp}\"\n\
         set header_cache = \"{tmp}/hcache\"\n\
         set imap_qresync = yes\n\
         set message_cachedir = \"\"\n\
         set imap_check_subscribed = no\n\
         set imap_idle = no\n\
         set mail_check_stats = no\n\
         set confirmappend = no\n\
         set confirmcreate = no\n\
         set delete = yes\n\
         set move = no\n\
         set quit = yes\n\
         set mark_old = no\n\
         set sleep_time = 0\n\
         set wait_key = no\n\
         set beep = no\n\
         set sort = date\n\
         push \"{keys}\"\n",
        cert = cert.display(),
        tmp = dir.display(),
    )
}

/// Runs neomutt once with `keys` pushed, on a pseudo-terminal; returns what it drew.
async fn neomutt(port: u16, cert: &Path, dir: &Path, keys: &str) -> String {
    let rc = dir.join("muttrc");
    std::fs::write(&rc, muttrc(port, cert, dir, keys)).expect("muttrc");
    // `script -q -e -c CMD /dev/null`: CMD on a pseudo-terminal, its screen on our stdout, its
    // exit status ours. Standard input stays an open pipe until the end: at end of input,
    // script would type an end-of-file character into neomutt.
    let mut child = tokio::process::Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!("neomutt -n -F '{}'", rc.display()))
        .arg("/dev/null")
        .env("TERM", "xterm")
        .env("LINES", "40")
        .env("COLUMNS", "120")
        .env("HOME", dir)
        .env_remove("MAIL")
        .env_remove("MAILDIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script (util-linux) must be installed");
    let stdin = child.stdin.take();
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("neomutt must finish: it is waiting for a key or hanging")
        .expect("wait for neomutt");
    drop(stdin);
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "neomutt failed ({}):\n{screen}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    screen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neomutt_lists_copies_saves_deletes_and_expunges() {
    let installed = std::process::Command::new("neomutt").arg("-v").output();
    assert!(
        installed.is_ok_and(|o| o.status.success()),
        "neomutt (Debian package neomutt) must be installed to run this test"
    );
    let cert = TestCert::new();
    let server = start_with(Offer::Implicit(cert.config)).await;
    let account = account(&server.core, USER).await;
    for (from, subject) in MESSAGES {
        deliver(
            &server.core,
            account,
            format!("From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\n\r\nabout {subject}\r\n")
                .as_bytes(),
        )
        .await;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cert_file = dir.path().join("cert.pem");
    std::fs::write(&cert_file, &cert.pem).expect("certificate file");

    // The index lists every message of INBOX.
    let screen = neomutt(server.port, &cert_file, dir.path(), LIST).await;
    for (_, subject) in MESSAGES {
        assert!(screen.contains(subject), "{subject} not listed:\n{screen}");
    }

    // Copy, flag, save, delete, expunge.
    neomutt(server.port, &cert_file, dir.path(), ACT).await;

    // What neomutt did reached the server.
    let inbox = folder(&server.core, account, "INBOX").await.expect("INBOX");
    let subjects: Vec<&str> = inbox.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["alpha report"],
        "saved and deleted ones expunged"
    );
    assert_eq!(
        inbox[0].flags,
        Flags::FLAGGED.union(Flags::SEEN),
        "read and flagged, nothing else: {inbox:?}"
    );
    let archive = folder(&server.core, account, "Archive")
        .await
        .expect("Archive");
    let subjects: Vec<&str> = archive.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["alpha report"], "copied");
    let work = folder(&server.core, account, "Work")
        .await
        .expect("Work was created for the save");
    let subjects: Vec<&str> = work.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, ["beta invoice"], "saved");
    assert!(!work[0].flags.contains(Flags::DELETED), "{work:?}");
    for name in ["Archive", "Work", "Trash", "Sent", "Drafts", "Junk"] {
        let held = folder(&server.core, account, name)
            .await
            .unwrap_or_default();
        assert!(
            held.iter().all(|m| m.subject != "gamma notice"),
            "the deleted message is gone, not moved: {name} {held:?}"
        );
    }

    // A new run of neomutt, resynchronising its header cache (UID FETCH ... CHANGEDSINCE with
    // VANISHED), sees the same: one message left in INBOX.
    let screen = neomutt(server.port, &cert_file, dir.path(), LIST).await;
    assert!(screen.contains("alpha report"), "{screen}");
    assert!(
        !screen.contains("beta invoice") && !screen.contains("gamma notice"),
        "{screen}"
    );
}

//! The IMAP server on loopback, driven by clients nobody on this project wrote: Python's
//! imaplib (scripts in `tests/imap/`), curl, mbsync and offlineimap. Each test starts its own
//! server on 127.0.0.1:0 over a fresh store with one customer, one domain and two mailboxes
//! (`tests/imap/common.rs`, shared with `async_imap.rs` and `neomutt.rs`).

#[path = "imap/common.rs"]
mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{
    Offer, PASSWORD, QUOTA_PASSWORD, QUOTA_USER, Server, TestCert, USER, account, deliver,
    deliver_many, start, start_with, start_with_policy,
};
use marque_core::{Actor, Core, NewDomain, NewMailbox, NewTenant};
use marque_store::mail;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn script(name: &str) -> String {
    format!("{}/tests/imap/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn python(name: &str, args: &[String]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("python3");
    c.arg(script(name))
        .args(args)
        .current_dir(format!("{}/tests/imap", env!("CARGO_MANIFEST_DIR")))
        .kill_on_drop(true);
    c
}

async fn run_python(name: &str, args: &[String]) -> String {
    let out = tokio::time::timeout(Duration::from_secs(120), python(name, args).output())
        .await
        .expect("script finishes")
        .expect("python3 must be installed to run the IMAP client tests");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("PASS"),
        "{name} failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaplib_drives_every_command() {
    let server = start(None).await;
    run_python(
        "suite.py",
        &[
            server.port.to_string(),
            USER.into(),
            PASSWORD.into(),
            QUOTA_USER.into(),
            QUOTA_PASSWORD.into(),
        ],
    )
    .await;
    // Every attempt reached the authentication log, the wrong password among them.
    let page = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 500)
        .await
        .expect("auth log");
    let imap: Vec<_> = page
        .records
        .iter()
        .filter(|r| r.protocol == "imap")
        .collect();
    assert!(
        imap.iter()
            .any(|r| r.outcome == "failure" && r.login == USER && r.remote == "127.0.0.1"),
        "{imap:?}"
    );
    assert!(
        imap.iter()
            .any(|r| r.outcome == "success" && r.mechanism == "PLAIN"),
        "{imap:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_on_a_delivery() {
    let server = start(None).await;
    let account = account(&server.core, USER).await;
    let mut child = python(
        "idle.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .stdin(Stdio::piped())
    .spawn()
    .expect("python3 must be installed to run the IMAP client tests");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stdin = child.stdin.take().expect("stdin");
    let mut log = String::new();
    // The script says when it is idling; each time, deliver one message.
    loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the script answers in time")
            .expect("read")
            .unwrap_or_default();
        log.push_str(&line);
        log.push('\n');
        if line == "IDLING" {
            deliver(
                &server.core,
                account,
                b"From: x@y.z\r\nSubject: pushed\r\n\r\nwake up\r\n",
            )
            .await;
            stdin.write_all(b"delivered\n").await.expect("stdin");
            stdin.flush().await.expect("flush");
        } else if line.is_empty() || line == "PASS" {
            break;
        }
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("script ends")
        .expect("wait");
    assert!(
        out.status.success() && log.contains("PASS"),
        "idle.py failed:\n{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_upgrades_before_login() {
    let server = start(Some(TestCert::new().config)).await;
    run_python(
        "starttls.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_starttls_handshake_that_stalls_is_dropped_after_its_timeout() {
    let server = start(Some(TestCert::new().config)).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut c = BufReader::new(stream);
    let mut line = String::new();
    c.read_line(&mut line).await.expect("greeting");
    assert!(line.contains(" STARTTLS"), "{line}");
    c.get_mut()
        .write_all(b"a STARTTLS\r\n")
        .await
        .expect("write");
    line.clear();
    c.read_line(&mut line).await.expect("read");
    assert!(line.starts_with("a OK "), "{line}");
    // The first bytes of a ClientHello (a 512-byte handshake record announced), then nothing:
    // the paused clock runs to the handshake timeout, well before the login timeout.
    c.get_mut()
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    let before = tokio::time::Instant::now();
    line.clear();
    let closed = tokio::time::timeout(Duration::from_secs(60), c.read_line(&mut line)).await;
    assert_eq!(closed.expect("closed within a minute").expect("read"), 0);
    assert!(before.elapsed() >= marque_session::HANDSHAKE_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_in_clear_where_the_client_is_not_allowed() {
    // No network may sign in in clear: 127.0.0.1 is treated like any remote client.
    let policy = marque_core::signin::SignInPolicy {
        cleartext_networks: Vec::new(),
        ..Default::default()
    };
    let server = start_with_policy(Offer::StartTls(TestCert::new().config), policy).await;
    run_python(
        "cleartext.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
    // Nothing was checked in clear: the only sign-in recorded is the one over TLS.
    let page = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 50)
        .await
        .expect("auth log");
    let outcomes: Vec<&str> = page.records.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["success"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_banned_on_smtp_is_refused_with_the_right_password() {
    let policy = marque_core::signin::SignInPolicy {
        throttle: marque_core::signin::ThrottleConfig {
            first_delay: Duration::from_millis(10),
            account_max_delay: Duration::from_millis(10),
            ban_after: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    let server = start_with_policy(Offer::Plain, policy).await;
    // Failed SMTP AUTHs from 127.0.0.1, as the SMTP service records them.
    for _ in 0..3 {
        let attempt = marque_core::authlog::Attempt {
            protocol: "smtp",
            login: USER,
            remote: "127.0.0.1",
            mechanism: "PLAIN",
        };
        assert!(server.core.sign_in(attempt, "wrong").await.is_err());
    }
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut c = BufReader::new(stream);
    let mut greeting = String::new();
    c.read_line(&mut greeting).await.expect("greeting");
    c.get_mut()
        .write_all(format!("a LOGIN {USER} \"{PASSWORD}\"\r\n").as_bytes())
        .await
        .expect("send");
    let mut answer = String::new();
    c.read_line(&mut answer).await.expect("answer");
    assert!(
        answer.starts_with("a NO [UNAVAILABLE] too many failed sign-ins"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_clients_may_sign_in_in_clear_by_default() {
    let server = start(Some(TestCert::new().config)).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut c = BufReader::new(stream);
    let mut greeting = String::new();
    c.read_line(&mut greeting).await.expect("greeting");
    assert!(
        greeting.contains(" AUTH=PLAIN") && !greeting.contains("LOGINDISABLED"),
        "{greeting}"
    );
    c.get_mut()
        .write_all(format!("a LOGIN {USER} \"{PASSWORD}\"\r\n").as_bytes())
        .await
        .expect("send");
    let mut answer = String::new();
    c.read_line(&mut answer).await.expect("answer");
    assert!(answer.starts_with("a OK "), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_lists_and_fetches() {
    curl_session(start(None).await, "imap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_over_imaps() {
    curl_session(
        start_with(Offer::Implicit(TestCert::new().config)).await,
        "imaps",
    )
    .await;
}

async fn curl_session(server: Server, scheme: &str) {
    let account = account(&server.core, USER).await;
    deliver(
        &server.core,
        account,
        b"From: x@y.z\r\nSubject: for curl\r\n\r\nfetched by curl\r\n",
    )
    .await;
    let curl = |url: String| {
        let mut c = tokio::process::Command::new("curl");
        c.args(["-sS", "--insecure", "--max-time", "30", "--user"])
            .arg(format!("{USER}:{PASSWORD}"))
            .arg(url)
            .kill_on_drop(true);
        c
    };
    let base = format!("{scheme}://127.0.0.1:{}", server.port);
    let list = curl(format!("{base}/"))
        .output()
        .await
        .expect("curl must be installed to run this test");
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success() && text.contains("INBOX") && text.contains("Sent"),
        "curl LIST: {text} {}",
        String::from_utf8_lossy(&list.stderr)
    );
    let fetch = curl(format!("{base}/INBOX;UID=1"))
        .output()
        .await
        .expect("curl");
    let text = String::from_utf8_lossy(&fetch.stdout);
    assert!(
        fetch.status.success() && text.contains("fetched by curl"),
        "curl FETCH: {text} {}",
        String::from_utf8_lossy(&fetch.stderr)
    );
}

/// Runs mbsync with `config`; returns its combined output.
async fn mbsync(config: &std::path::Path) -> String {
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new("mbsync")
            .arg("-c")
            .arg(config)
            .arg("-a")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("mbsync finishes")
    .expect("mbsync (Debian package isync) must be installed to run this test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mbsync failed:\n{text}");
    text
}

fn maildir_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for sub in ["cur", "new"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            v.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_synchronises_both_ways() {
    let server = start(None).await;
    let account = account(&server.core, USER).await;
    deliver_many(&server.core, account, 1000).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    std::fs::create_dir_all(&mail_dir).expect("mail dir");
    let config = dir.path().join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount marque\nHost 127.0.0.1\nPort {port}\nUser {USER}\nPass \"{PASSWORD}\"\n\
             SSLType None\nAuthMechs PLAIN LOGIN\n\n\
             IMAPStore remote\nAccount marque\n\n\
             MaildirStore local\nPath {path}/\nInbox {path}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\n\
             Remove Both\nSyncState *\n",
            port = server.port,
            path = mail_dir.display()
        ),
    )
    .expect("config");

    // First run: everything comes down, flags included, and every folder.
    mbsync(&config).await;
    let inbox = maildir_files(&mail_dir.join("INBOX"));
    assert_eq!(inbox.len(), 1000);
    let flagged = inbox
        .iter()
        .filter(|p| {
            p.to_string_lossy()
                .rsplit_once(":2,")
                .is_some_and(|(_, f)| f.contains('F'))
        })
        .count();
    assert_eq!(flagged, 200);
    for folder in ["Sent", "Trash", "Archive", "Drafts", "Junk"] {
        assert!(mail_dir.join(folder).is_dir(), "{folder} synchronised");
    }

    // Local changes go up: a new message in Archive, a new folder, a flag, a deletion.
    let archive_new = mail_dir.join("Archive/new");
    std::fs::write(
        archive_new.join("1700000000.local.host"),
        b"From: me@c.example\r\nSubject: written offline\r\n\r\nhello\r\n",
    )
    .expect("local message");
    let folder = mail_dir.join("Offline");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(folder.join(sub)).expect("local folder");
    }
    std::fs::write(
        folder.join("new/1700000001.local.host"),
        b"From: me@c.example\r\nSubject: in a new folder\r\n\r\nhi\r\n",
    )
    .expect("message in the new folder");
    let unflagged = inbox
        .iter()
        .find(|p| {
            let s = p.to_string_lossy();
            s.contains("/cur/") && !s.rsplit_once(":2,").is_some_and(|(_, f)| f.contains('F'))
        })
        .expect("an unflagged message");
    let renamed = format!("{}F", unflagged.display());
    std::fs::rename(unflagged, &renamed).expect("flag locally");
    let doomed = inbox
        .iter()
        .find(|p| p.as_path() != unflagged.as_path())
        .expect("another message");
    std::fs::remove_file(doomed).expect("delete locally");

    mbsync(&config).await;
    let store = server.core.store().clone();
    let (archive, offline, inbox_count, flagged_count) = store
        .read(move |s| {
            let count = |name: &str| -> marque_store::Result<(u32, usize)> {
                let m = mail::mailbox_by_name(s, account, name)?.expect("folder");
                let flagged = mail::messages(s, account, m.id, 1, usize::MAX)?
                    .iter()
                    .filter(|(_, r)| r.flags.contains(mail::Flags::FLAGGED))
                    .count();
                Ok((m.messages, flagged))
            };
            let (inbox, flagged) = count("INBOX")?;
            Ok((count("Archive")?.0, count("Offline")?.0, inbox, flagged))
        })
        .await
        .expect("read");
    assert_eq!(archive, 1, "the offline message reached Archive");
    assert_eq!(
        offline, 1,
        "the new folder and its message reached the server"
    );
    assert_eq!(inbox_count, 999, "the local deletion reached the server");
    assert!(flagged_count >= 200, "the local flag reached the server");

    // A third run finds nothing to do: nothing changes on either side.
    let before = maildir_files(&mail_dir.join("INBOX")).len();
    let modseq = |core: Core| async move {
        core.store()
            .read(move |s| {
                Ok(mail::mailbox_by_name(s, account, "INBOX")?
                    .expect("INBOX")
                    .highest_modseq)
            })
            .await
            .expect("read")
    };
    let m1 = modseq(server.core.clone()).await;
    mbsync(&config).await;
    assert_eq!(maildir_files(&mail_dir.join("INBOX")).len(), before);
    assert_eq!(
        modseq(server.core.clone()).await,
        m1,
        "the server did not change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap4rev2_and_binary_once_enabled() {
    let server = start(None).await;
    run_python(
        "rev2.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qresync_reports_what_a_client_missed() {
    let server = start(None).await;
    run_python(
        "qresync.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_and_thread() {
    let server = start(None).await;
    run_python(
        "sort.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searchres_saves_a_result_for_later_commands() {
    let server = start(None).await;
    run_python(
        "searchres.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offlineimap_synchronises_both_ways() {
    let server = start(None).await;
    let account = account(&server.core, USER).await;
    deliver_many(&server.core, account, 30).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    let config = dir.path().join("offlineimaprc");
    std::fs::write(
        &config,
        format!(
            "[general]\naccounts = marque\nmetadata = {meta}\n\n\
             [Account marque]\nlocalrepository = local\nremoterepository = remote\n\n\
             [Repository local]\ntype = Maildir\nlocalfolders = {mail}\n\n\
             [Repository remote]\ntype = IMAP\nremotehost = 127.0.0.1\nremoteport = {port}\n\
             remoteuser = {USER}\nremotepass = {PASSWORD}\nssl = no\nstarttls = no\n",
            meta = dir.path().join("meta").display(),
            mail = mail_dir.display(),
            port = server.port
        ),
    )
    .expect("config");
    let run = || async {
        let out = tokio::time::timeout(
            Duration::from_secs(300),
            tokio::process::Command::new("offlineimap")
                .arg("-c")
                .arg(&config)
                .args(["-o", "-u", "basic"])
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("offlineimap finishes")
        .expect("offlineimap (Debian package offlineimap3) must be installed to run this test");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && !text.contains("ERROR"),
            "offlineimap failed:\n{text}"
        );
    };
    run().await;
    assert_eq!(maildir_files(&mail_dir.join("INBOX")).len(), 30);
    // A message written locally goes up.
    std::fs::write(
        mail_dir.join("Drafts/new/1700000002.local.host"),
        b"From: me@c.example\r\nSubject: draft\r\n\r\nunfinished\r\n",
    )
    .expect("local draft");
    run().await;
    let store = server.core.store().clone();
    let drafts = store
        .read(move |s| {
            Ok(mail::mailbox_by_name(s, account, "Drafts")?
                .expect("Drafts")
                .messages)
        })
        .await
        .expect("read");
    assert_eq!(drafts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_is_logged_out() {
    let server = start(None).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut lines = BufReader::new(stream).lines();
    let greeting = lines.next_line().await.expect("read").expect("greeting");
    assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
    // Nothing is sent: the paused clock runs to the login timeout.
    let bye = lines.next_line().await.expect("read").expect("a line");
    assert_eq!(bye, "* BYE autologout; idle for too long");
    assert_eq!(lines.next_line().await.expect("read"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compress_deflate() {
    let server = start(None).await;
    run_python(
        "compress.py",
        &[server.port.to_string(), USER.into(), PASSWORD.into()],
    )
    .await;
}

/// Sends `command` and returns every line up to its tagged answer.
async fn exchange(
    lines: &mut tokio::io::Lines<BufReader<tokio::net::TcpStream>>,
    tag: &str,
    command: &str,
) -> Vec<String> {
    lines
        .get_mut()
        .get_mut()
        .write_all(format!("{tag} {command}\r\n").as_bytes())
        .await
        .expect("write");
    let mut got = Vec::new();
    loop {
        let line = lines.next_line().await.expect("read").expect("a line");
        let done = line.starts_with(&format!("{tag} "));
        got.push(line);
        if done {
            return got;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_roots_name_the_domain_and_every_pool_above() {
    let server = start(None).await;
    let (core, op) = (&server.core, Actor::operator());
    let limited = |storage_mb| marque_core::Limits {
        storage_mb: Some(storage_mb),
        ..marque_core::Limits::default()
    };
    let reseller = core
        .create_tenant(
            &op,
            NewTenant {
                name: "R".into(),
                kind: marque_core::TenantKind::Reseller,
                limits: limited(500),
                ..NewTenant::default()
            },
        )
        .await
        .expect("reseller")
        .tenant
        .id;
    let customer = core
        .create_tenant(
            &op,
            NewTenant {
                name: "Q".into(),
                parent: reseller,
                limits: limited(300),
                ..NewTenant::default()
            },
        )
        .await
        .expect("customer")
        .tenant
        .id;
    core.create_domain(
        &op,
        NewDomain {
            name: "q.example".into(),
            tenant: customer,
            limits: limited(200),
        },
    )
    .await
    .expect("domain");
    core.create_mailbox(
        &op,
        NewMailbox {
            address: "quinn@q.example".into(),
            password: PASSWORD.into(),
            quota_mb: Some(100),
            tier: None,
            postmaster: false,
        },
    )
    .await
    .expect("mailbox");

    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .expect("connect");
    let mut lines = BufReader::new(stream).lines();
    lines.next_line().await.expect("read").expect("greeting");
    let login = exchange(
        &mut lines,
        "a",
        &format!("LOGIN quinn@q.example \"{PASSWORD}\""),
    )
    .await;
    assert!(login.last().unwrap().starts_with("a OK"), "{login:?}");
    let got = exchange(&mut lines, "b", "GETQUOTAROOT INBOX").await;
    assert!(got.last().unwrap().starts_with("b OK"), "{got:?}");
    // Every quota with a limit is a root, in KiB: the mailbox, the domain, then the pools of
    // the customer and the reseller, numbered from the top of the tree.
    let roots = got
        .iter()
        .find_map(|l| l.strip_prefix("* QUOTAROOT \"INBOX\" "))
        .unwrap_or_else(|| panic!("no QUOTAROOT line in {got:?}"));
    let names: Vec<&str> = roots.split(' ').map(|n| n.trim_matches('"')).collect();
    assert_eq!(names.len(), 4, "{got:?}");
    assert_eq!(&names[..2], ["mailbox", "domain"]);
    let quota = |name: &str| {
        got.iter()
            .find_map(|l| l.strip_prefix(&format!("* QUOTA \"{name}\" ")))
            .unwrap_or_else(|| panic!("no QUOTA for {name} in {got:?}"))
            .to_string()
    };
    assert_eq!(quota("mailbox"), "(STORAGE 0 102400)");
    assert_eq!(quota("domain"), "(STORAGE 0 204800)");
    assert_eq!(quota(names[2]), "(STORAGE 0 307200)", "the customer's pool");
    assert_eq!(quota(names[3]), "(STORAGE 0 512000)", "the reseller's pool");
    assert!(names[2] > names[3], "pool1 is the highest: {names:?}");
    // GETQUOTA of a pool answers the same.
    let pool = exchange(&mut lines, "c", &format!("GETQUOTA \"{}\"", names[3])).await;
    assert!(
        pool.iter().any(|l| l.ends_with("(STORAGE 0 512000)")),
        "{pool:?}"
    );
    assert!(pool.last().unwrap().starts_with("c OK"), "{pool:?}");
}

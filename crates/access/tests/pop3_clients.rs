//! The POP3 server against independent clients over 127.0.0.1: fetchmail (keep and delete
//! modes, STLS required, delivering to a command that writes files), curl over pop3:// (with
//! STLS) and pop3s://, and getmail6.

#[path = "pop3/common.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::{LOGIN, PASSWORD, Server, require, scripts, succeeded};

/// The messages a client delivered into `dir`, in order, with LF line ends.
fn delivered(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| lf(&std::fs::read(p).expect("read message")))
        .collect()
}

fn lf(b: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(b)
        .replace("\r\n", "\n")
        .into_bytes()
}

/// Whether `got` is `want` with header fields the client added in front.
fn is_message(got: &[u8], want: &[u8]) -> bool {
    got.ends_with(&lf(want))
}

async fn fetchmail(server: &Server, home: &Path, out: &Path, keep: bool) -> i32 {
    let rc = home.join("fetchmailrc");
    let mode = if keep { "keep" } else { "nokeep fetchall" };
    let text = format!(
        "set no bouncemail\n\
         poll 127.0.0.1 protocol pop3 port {port} uidl\n\
         \tuser \"{LOGIN}\" there with password \"{PASSWORD}\" is \"root\" here\n\
         \tsslproto \"TLS1.2+\" sslcertck sslcertfile \"{ca}\" sslcommonname \"localhost\"\n\
         \tmda \"python3 {mda} {out}\"\n\
         \t{mode}\n",
        port = server.plain.port(),
        ca = server.ca.display(),
        mda = scripts().join("mda.py").display(),
        out = out.display(),
    );
    std::fs::write(&rc, text).expect("write rc");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let output = tokio::process::Command::new("fetchmail")
        .arg("-f")
        .arg(&rc)
        .arg("--idfile")
        .arg(home.join("fetchids"))
        .arg("--pidfile")
        .arg(home.join("fetchmail.pid"))
        .args(["--nosyslog", "-N", "-v"])
        .env("HOME", home)
        .env("FETCHMAILHOME", home)
        .output()
        .await
        .expect("run fetchmail");
    let code = output.status.code().unwrap_or(-1);
    // 0: mail retrieved; 1: no mail. Anything else is a failure.
    assert!(
        code == 0 || code == 1,
        "fetchmail exited with {code}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(log.contains("> STLS"), "fetchmail uses STLS:\n{log}");
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetchmail_keeps_then_deletes_over_stls() {
    require("fetchmail", "fetchmail");
    let server = Server::start().await;
    let home = tempfile::tempdir().expect("home");
    let out = home.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let messages = common::messages();

    // Keep mode: everything once, nothing removed.
    assert_eq!(fetchmail(&server, home.path(), &out, true).await, 0);
    let got = delivered(&out);
    assert_eq!(got.len(), 3);
    for (g, m) in got.iter().zip(&messages) {
        assert!(is_message(g, m), "{}", String::from_utf8_lossy(g));
    }
    assert_eq!(server.uids().await.len(), 3);

    // Keep mode again: UIDL tells fetchmail there is nothing new.
    assert_eq!(fetchmail(&server, home.path(), &out, true).await, 1);
    assert_eq!(delivered(&out).len(), 3);

    // A new message: only it is fetched.
    let new = b"From: Dan <dan@b.example>\r\nSubject: new\r\n\r\nfresh\r\n";
    common::append(&server.core, server.account, new).await;
    assert_eq!(fetchmail(&server, home.path(), &out, true).await, 0);
    let got = delivered(&out);
    assert_eq!(got.len(), 4);
    assert!(is_message(&got[3], new));

    // Delete mode: everything fetched and removed at QUIT, usage back to zero.
    assert_eq!(fetchmail(&server, home.path(), &out, false).await, 0);
    assert_eq!(delivered(&out).len(), 8);
    assert!(server.uids().await.is_empty());
    assert_eq!(server.usage().await, 0);
}

async fn curl(args: &[&str]) -> String {
    let out = tokio::process::Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "30"])
        .args(args)
        .output()
        .await
        .expect("run curl");
    succeeded(&format!("curl {args:?}"), &out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_lists_and_retrieves_over_stls_and_pop3s() {
    require("curl", "curl");
    let server = Server::start().await;
    let user = format!("{LOGIN}:{PASSWORD}");
    let ca = server.ca.display().to_string();
    let sizes: Vec<usize> = server
        .message_files
        .iter()
        .map(|p| std::fs::read(p).expect("read").len())
        .collect();
    let listing: String = sizes
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {s}\r\n", i + 1))
        .collect();

    // pop3:// with STLS required, trusting the CA.
    let plain = format!("pop3://localhost:{}/", server.plain.port());
    let list = curl(&["--ssl-reqd", "--cacert", &ca, "-u", &user, &plain]).await;
    assert_eq!(list, listing);
    let retr = curl(&[
        "--ssl-reqd",
        "--cacert",
        &ca,
        "-u",
        &user,
        &format!("{plain}2"),
    ])
    .await;
    assert_eq!(
        retr.as_bytes(),
        std::fs::read(&server.message_files[1]).expect("read")
    );

    // pop3s://, once with the CA and once with --insecure.
    let tls = format!("pop3s://localhost:{}/", server.tls.port());
    assert_eq!(curl(&["--cacert", &ca, "-u", &user, &tls]).await, listing);
    let retr = curl(&["--insecure", "-u", &user, &format!("{tls}3")]).await;
    assert_eq!(
        retr.as_bytes(),
        std::fs::read(&server.message_files[2]).expect("read")
    );
    // A custom command: UIDL.
    let uidl = curl(&["--cacert", &ca, "-u", &user, "-X", "UIDL", &tls]).await;
    assert_eq!(uidl.lines().count(), 3, "{uidl}");
    // A wrong password fails.
    let bad = tokio::process::Command::new("curl")
        .args([
            "--silent",
            "--cacert",
            &ca,
            "-u",
            &format!("{LOGIN}:nope"),
            &tls,
        ])
        .output()
        .await
        .expect("run curl");
    assert!(!bad.status.success());
    assert_eq!(server.uids().await.len(), 3, "curl deletes nothing");
}

async fn getmail(server: &Server, home: &Path, out: &Path, delete: bool) -> String {
    let rc = home.join("getmailrc");
    let text = format!(
        "[retriever]\n\
         type = SimplePOP3SSLRetriever\n\
         server = 127.0.0.1\n\
         port = {port}\n\
         username = {LOGIN}\n\
         password = {PASSWORD}\n\
         ca_certs = {ca}\n\
         ssl_cert_hostname = localhost\n\
         \n\
         [destination]\n\
         type = MDA_external\n\
         path = {python}\n\
         arguments = (\"{mda}\", \"{out}\")\n\
         allow_root_commands = true\n\
         \n\
         [options]\n\
         read_all = false\n\
         delete = {delete}\n\
         verbose = 2\n",
        port = server.tls.port(),
        ca = server.ca.display(),
        python = require("python3", "python3").display(),
        mda = scripts().join("mda.py").display(),
        out = out.display(),
    );
    std::fs::write(&rc, text).expect("write rc");
    let output = tokio::process::Command::new("getmail")
        .arg("--getmaildir")
        .arg(home)
        .arg("--rcfile")
        .arg(&rc)
        .env("HOME", home)
        .output()
        .await
        .expect("run getmail");
    succeeded("getmail", &output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getmail_keeps_then_deletes_over_pop3s() {
    require("getmail", "getmail6");
    let server = Server::start().await;
    let home = tempfile::tempdir().expect("home");
    let out = home.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let messages = common::messages();

    // Keep: all three, nothing removed; a second run finds nothing new (UIDL).
    getmail(&server, home.path(), &out, false).await;
    let got = delivered(&out);
    assert_eq!(got.len(), 3);
    for (g, m) in got.iter().zip(&messages) {
        assert!(is_message(g, m), "{}", String::from_utf8_lossy(g));
    }
    getmail(&server, home.path(), &out, false).await;
    assert_eq!(delivered(&out).len(), 3);
    assert_eq!(server.uids().await.len(), 3);

    // A new message, then delete mode: only the new one is fetched, and getmail deletes
    // what it has seen.
    let new = b"From: Eve <eve@b.example>\r\nSubject: later\r\n\r\n.dot first\r\n";
    common::append(&server.core, server.account, new).await;
    getmail(&server, home.path(), &out, true).await;
    let got = delivered(&out);
    assert_eq!(got.len(), 4);
    assert!(
        is_message(&got[3], new),
        "{}",
        String::from_utf8_lossy(&got[3])
    );
    assert!(server.uids().await.is_empty());
    assert_eq!(server.usage().await, 0);
}

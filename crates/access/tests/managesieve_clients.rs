//! ManageSieve with a client nobody on this project wrote: Debian's `sieve-connect`, over
//! STARTTLS (self-signed certificate, verification off), in batch mode (`--exec`): upload,
//! check, list, activate, download, deactivate, delete.

mod managesieve_common;

use std::process::Stdio;

use managesieve_common::{PASSWORD, USER, start};
use marque_core::Actor;
use marque_hosting::sieve::SieveLimits;

const SCRIPT: &str = "require [\"fileinto\", \"imap4flags\"];\r\nif header :contains \"subject\" \"[list]\" {\r\n  addflag \"\\\\Seen\";\r\n  fileinto \"Lists\";\r\n}\r\n";

/// Runs sieve-connect with `commands` on stdin's `--exec` file; returns (success, output).
async fn sieve_connect(port: u16, dir: &std::path::Path, commands: &str) -> (bool, String) {
    let exec = dir.join("commands");
    std::fs::write(&exec, commands).expect("write commands");
    // The password goes through a file descriptor, as the manual advises.
    let out = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(
            "exec sieve-connect --server 127.0.0.1 --port \"$PORT\" --user \"$USER_NAME\" \
             --notlsverify --noclearauth --authmech PLAIN --passwordfd 3 --exec \"$EXEC\" \
             3<<<\"$PW\"",
        )
        .env("PORT", port.to_string())
        .env("USER_NAME", USER)
        .env("EXEC", &exec)
        .env("PW", PASSWORD)
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("sieve-connect must be installed (deploy/scripts/setup.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sieve_connect_manages_scripts_over_starttls() {
    let server = start(SieveLimits::default(), |s| s.plaintext_on_loopback(false)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("filters.siv"), SCRIPT).expect("script file");
    std::fs::write(dir.path().join("broken.siv"), "fileinto \"x\";\r\n").expect("file");

    let (ok, out) = sieve_connect(
        server.port,
        dir.path(),
        "upload filters.siv filters\nlist\nactivate filters\nlist\ndownload filters copy.siv\n",
    )
    .await;
    assert!(ok, "{out}");
    let scripts = server
        .hosting
        .sieve_list(&Actor::operator(), USER)
        .await
        .unwrap();
    assert_eq!(scripts.len(), 1);
    assert_eq!(scripts[0].name, "filters");
    assert!(scripts[0].active);
    assert_eq!(
        server
            .hosting
            .sieve_get(&Actor::operator(), USER, "filters")
            .await
            .unwrap(),
        SCRIPT
    );
    assert!(out.contains("filters"), "{out}");
    let copy = std::fs::read_to_string(dir.path().join("copy.siv")).expect("downloaded");
    assert_eq!(copy, SCRIPT);

    // A script that does not compile: the server's message reaches the user.
    let (_, out) = sieve_connect(server.port, dir.path(), "checkscript broken.siv\n").await;
    assert!(out.contains("line 1"), "{out}");
    let (_, out) = sieve_connect(server.port, dir.path(), "upload broken.siv broken\n").await;
    assert!(out.contains("line 1"), "{out}");

    let (ok, out) = sieve_connect(
        server.port,
        dir.path(),
        "deactivate\ndelete filters\nlist\n",
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        server
            .hosting
            .sieve_list(&Actor::operator(), USER)
            .await
            .unwrap()
            .is_empty()
    );
}

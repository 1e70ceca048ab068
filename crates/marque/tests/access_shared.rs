//! The IMAP listeners (`imap`, `imaps`) of one `marque serve` share their limits, and so do the
//! POP3 listeners (`pop3`, `pop3s`): a user's sessions, the delay that grows after failed
//! sign-ins from one address, and the lock on a maildrop count across both listeners, not per
//! listener. Driven over TCP and TLS against the real binary.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{MARQUE, Server, api, read_line, tls_connect, write_config};
use serde_json::json;

const USER: &str = "pat@shared.example";
const PASSWORD: &str = "correct horse battery";
/// Sessions one user may hold (`MAX_SESSIONS_PER_USER` of the IMAP service).
const MAX_SESSIONS: usize = 20;

/// Sends an IMAP command and reads to its tagged answer, which it returns.
fn imap(s: &mut (impl Read + Write), tag: &str, command: &str) -> String {
    s.write_all(format!("{tag} {command}\r\n").as_bytes())
        .unwrap();
    s.flush().unwrap();
    loop {
        let line = read_line(s);
        assert!(!line.is_empty(), "the server closed during {command}");
        if line.starts_with(&format!("{tag} ")) {
            return line;
        }
    }
}

/// Sends a POP3 command and returns its one-line answer.
fn pop3(s: &mut (impl Read + Write), command: &str) -> String {
    s.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    s.flush().unwrap();
    read_line(s)
}

fn plain(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

fn mailbox(server: &Server, data: &Path) {
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap();
    let token = token.trim();
    let tenant = api(
        server,
        token,
        "POST",
        "/tenants",
        Some(json!({"name": "Shared", "kind": "customer", "parent": 1})),
    )["id"]
        .as_u64()
        .unwrap();
    api(
        server,
        token,
        "POST",
        "/domains",
        Some(json!({"name": "shared.example", "tenant": tenant})),
    );
    api(
        server,
        token,
        "POST",
        "/mailboxes",
        Some(json!({"address": USER, "password": PASSWORD, "quota_mb": 50})),
    );
}

#[test]
fn imap_and_pop3_limits_count_across_their_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["imap", "imaps", "pop3", "pop3s", "http"]);
    let server = MARQUE.serve(&config, &[], &[]);
    let data = dir.path().join("data");
    mailbox(&server, &data);
    let cert = data.join("tls/cert.pem");

    // Sessions per user: the limit is reached on `imap`, and `imaps` refuses the next one.
    let mut open = Vec::new();
    for i in 0..MAX_SESSIONS {
        let mut s = plain(server.addr("imap"));
        assert!(read_line(&mut s).starts_with("* OK "));
        let ok = imap(&mut s, "a", &format!("LOGIN {USER} \"{PASSWORD}\""));
        assert!(ok.starts_with("a OK "), "session {i}: {ok}");
        open.push(s);
    }
    let mut tls = tls_connect(server.addr("imaps"), &cert, "localhost");
    assert!(read_line(&mut tls).starts_with("* OK "));
    let refused = imap(&mut tls, "a", &format!("LOGIN {USER} \"{PASSWORD}\""));
    assert!(refused.starts_with("a NO [LIMIT]"), "{refused}");
    // One session ends: a new one is admitted on either listener.
    let mut first = open.remove(0);
    assert!(imap(&mut first, "z", "LOGOUT").starts_with("z OK"));
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = imap(&mut tls, "b", &format!("LOGIN {USER} \"{PASSWORD}\""));
        if again.starts_with("b OK ") {
            break;
        }
        assert!(Instant::now() < deadline, "never admitted again: {again}");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(open);
    drop(tls);

    // Failed sign-ins from one address: each new connection, on either listener, waits longer
    // (0.5 s, then 1 s, then 2 s) before its NO.
    let mut waits = Vec::new();
    for (i, service) in ["imap", "imaps", "imap"].into_iter().enumerate() {
        let started;
        let answer = if service == "imaps" {
            let mut s = tls_connect(server.addr(service), &cert, "localhost");
            read_line(&mut s);
            started = Instant::now();
            imap(&mut s, "f", &format!("LOGIN {USER} \"wrong {i}\""))
        } else {
            let mut s = plain(server.addr(service));
            read_line(&mut s);
            started = Instant::now();
            imap(&mut s, "f", &format!("LOGIN {USER} \"wrong {i}\""))
        };
        assert!(
            answer.starts_with("f NO [AUTHENTICATIONFAILED]"),
            "{answer}"
        );
        waits.push(started.elapsed());
    }
    for (wait, least) in waits.iter().zip([500, 1000, 2000]) {
        assert!(
            *wait >= Duration::from_millis(least),
            "failures from one address must slow down across connections: {waits:?}"
        );
    }

    // POP3: the maildrop locked on `pop3` is in use for `pop3s`.
    let mut p = plain(server.addr("pop3"));
    assert!(read_line(&mut p).starts_with("+OK "));
    assert!(pop3(&mut p, &format!("USER {USER}")).starts_with("+OK"));
    let ok = pop3(&mut p, &format!("PASS {PASSWORD}"));
    assert!(ok.starts_with("+OK"), "{ok}");
    let mut ps = tls_connect(server.addr("pop3s"), &cert, "localhost");
    assert!(read_line(&mut ps).starts_with("+OK "));
    assert!(pop3(&mut ps, &format!("USER {USER}")).starts_with("+OK"));
    let busy = pop3(&mut ps, &format!("PASS {PASSWORD}"));
    assert!(busy.starts_with("-ERR [IN-USE]"), "{busy}");
    assert!(pop3(&mut p, "QUIT").starts_with("+OK"));
}

//! POP3's one session per maildrop across processes: two real `marque serve` processes, two
//! nodes (`[cluster] node`) on one PostgreSQL database. A session on one makes the other
//! answer `-ERR [IN-USE]`; QUIT frees the maildrop for the other at once; and when the holder
//! is killed with SIGKILL, its lock runs out after `[cluster] lease_secs` and the other node
//! opens the maildrop.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{MARQUE, Server, api, read_line, write_config};
use serde_json::json;

const USER: &str = "pat@cluster.example";
const PASSWORD: &str = "correct horse battery";
const TOKEN: &str = "cluster-admin-token-0123456789";
/// `[cluster] lease_secs` of both nodes: short, so that the test waits little.
const LEASE_SECS: u64 = 3;

fn node(dir: &Path, name: &str, url: &str) -> Server {
    let config = write_config(dir, &["pop3", "http"]);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[store]\nbackend = \"postgres\"\nurl = \"{url}\"\n\n[cluster]\nnode = \"{name}\"\nlease_secs = {LEASE_SECS}\n"
    ));
    std::fs::write(&config, text).unwrap();
    MARQUE.serve(&config, &[], &[("MARQUE_ADMIN_TOKEN", TOKEN)])
}

fn pop3(s: &mut (impl Read + Write), command: &str) -> String {
    s.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    s.flush().unwrap();
    read_line(s)
}

/// Connects and signs in; returns the session and the answer to PASS.
fn sign_in(addr: SocketAddr) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert!(read_line(&mut s).starts_with("+OK"));
    assert!(pop3(&mut s, &format!("USER {USER}")).starts_with("+OK"));
    let answer = pop3(&mut s, &format!("PASS {PASSWORD}"));
    (s, answer)
}

fn quit(mut s: TcpStream) {
    assert!(pop3(&mut s, "QUIT").starts_with("+OK"));
}

#[test]
fn a_maildrop_is_locked_across_nodes_and_freed_when_its_holder_dies() {
    let db = marque_tests::postgres::database();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = node(dir_a.path(), "node-a", db.url());
    let b = node(dir_b.path(), "node-b", db.url());
    let tenant = api(
        &a,
        TOKEN,
        "POST",
        "/tenants",
        Some(json!({"name": "Cluster", "kind": "customer", "parent": 1})),
    )["id"]
        .as_u64()
        .unwrap();
    api(
        &a,
        TOKEN,
        "POST",
        "/domains",
        Some(json!({"name": "cluster.example", "tenant": tenant})),
    );
    api(
        &a,
        TOKEN,
        "POST",
        "/mailboxes",
        Some(json!({"address": USER, "password": PASSWORD, "quota_mb": 50})),
    );
    let (pop_a, pop_b) = (a.addr("pop3"), b.addr("pop3"));

    // A session on node A: node B refuses a second one (RFC 2449 §8.1.1).
    let (held, answer) = sign_in(pop_a);
    assert!(answer.starts_with("+OK"), "{answer}");
    let (other, answer) = sign_in(pop_b);
    assert!(answer.starts_with("-ERR [IN-USE]"), "{answer}");
    drop(other);
    // QUIT on A frees the maildrop for B at once; then A is refused.
    quit(held);
    let (held, answer) = sign_in(pop_b);
    assert!(answer.starts_with("+OK"), "{answer}");
    let (_, answer) = sign_in(pop_a);
    assert!(answer.starts_with("-ERR [IN-USE]"), "{answer}");
    quit(held);

    // A holds it again and is killed: nothing gives the lock back, it runs out.
    let (_held, answer) = sign_in(pop_a);
    assert!(answer.starts_with("+OK"), "{answer}");
    a.kill();
    let killed = Instant::now();
    let (_, answer) = sign_in(pop_b);
    assert!(
        answer.starts_with("-ERR [IN-USE]"),
        "still locked right after the kill: {answer}"
    );
    loop {
        let (s, answer) = sign_in(pop_b);
        if answer.starts_with("+OK") {
            quit(s);
            break;
        }
        assert!(answer.starts_with("-ERR [IN-USE]"), "{answer}");
        assert!(
            killed.elapsed() < Duration::from_secs(LEASE_SECS * 3),
            "the dead node's lock did not run out"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(b);
}

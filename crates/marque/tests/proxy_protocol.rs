//! A `marque serve` whose SMTP listener sits behind a load balancer (`[proxy_protocol]`): a
//! session that starts with a PROXY protocol v2 header runs as the client the header names
//! (the transaction log records that address, not the balancer's), and a connection without
//! one is closed before the greeting. Also the probes a balancer uses, on the real binary.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{MARQUE, api, read_line, write_config};
use serde_json::json;

const USER: &str = "pat@proxied.example";
/// The client the balancer says it is relaying (TEST-NET-1, RFC 5737).
const CLIENT: [u8; 4] = [192, 0, 2, 7];

/// A PROXY protocol v2 header: TCP over IPv4 from `CLIENT`:51000 to `to`.
fn v2_header(to: SocketAddr) -> Vec<u8> {
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.extend_from_slice(&[0x21, 0x11, 0, 12]);
    h.extend_from_slice(&CLIENT);
    match to.ip() {
        std::net::IpAddr::V4(v4) => h.extend_from_slice(&v4.octets()),
        std::net::IpAddr::V6(_) => unreachable!("the listener is on 127.0.0.1"),
    }
    h.extend_from_slice(&51000u16.to_be_bytes());
    h.extend_from_slice(&to.port().to_be_bytes());
    h
}

/// Sends an SMTP command; the last line of the reply.
fn smtp(s: &mut TcpStream, command: &str) -> String {
    s.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    reply(s)
}

fn reply(s: &mut TcpStream) -> String {
    loop {
        let line = read_line(s);
        assert!(!line.is_empty(), "the server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line;
        }
    }
}

#[test]
fn an_smtp_session_behind_a_balancer_runs_as_the_proxied_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp", "http"]);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[proxy_protocol]\nservices = [\"smtp\"]\ntrusted = [\"127.0.0.1/32\"]\n");
    std::fs::write(&config, text).unwrap();
    let server = MARQUE.serve(&config, &[], &[]);
    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let token = token.trim();
    let tenant = api(
        &server,
        token,
        "POST",
        "/tenants",
        Some(json!({"name": "Proxied", "kind": "customer", "parent": 1})),
    )["id"]
        .as_u64()
        .unwrap();
    api(
        &server,
        token,
        "POST",
        "/domains",
        Some(json!({"name": "proxied.example", "tenant": tenant})),
    );
    api(
        &server,
        token,
        "POST",
        "/mailboxes",
        Some(json!({"address": USER, "password": "correct horse battery", "quota_mb": 10})),
    );

    let smtp_addr = server.addr("smtp");
    let mut s = TcpStream::connect(smtp_addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&v2_header(smtp_addr)).unwrap();
    assert!(reply(&mut s).starts_with("220"));
    assert!(smtp(&mut s, "EHLO client.example").starts_with("250"));
    assert!(smtp(&mut s, "MAIL FROM:<someone@elsewhere.example>").starts_with("250"));
    assert!(smtp(&mut s, &format!("RCPT TO:<{USER}>")).starts_with("250"));
    assert!(smtp(&mut s, "DATA").starts_with("354"));
    let body = "From: someone@elsewhere.example\r\nTo: pat@proxied.example\r\n\
                Subject: through the balancer\r\nMessage-ID: <proxied@elsewhere.example>\r\n\r\nhi\r\n.";
    assert!(smtp(&mut s, body).starts_with("250"));
    smtp(&mut s, "QUIT");

    let tx = api(
        &server,
        token,
        "GET",
        &format!("/logs/transactions?tenant={tenant}&message_id=%3Cproxied@elsewhere.example%3E"),
        None,
    );
    let record = &tx["items"][0]["record"];
    assert_eq!(record["client_ip"], "192.0.2.7", "{tx}");

    // Without a header, the connection is closed before the greeting, and the log says why.
    let mut plain = TcpStream::connect(smtp_addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    plain.write_all(b"EHLO sneaky.example\r\n").unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.log().contains("no PROXY protocol header") {
        assert!(
            std::time::Instant::now() < deadline,
            "log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The balancer's probes answer on the http listener, which needs no header.
    let mut probe = TcpStream::connect(server.addr("http")).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    probe
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    probe.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ready\n"), "{answer}");
}

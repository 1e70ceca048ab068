//! Certificates by ACME from Debian's pebble on loopback. pebble resolves the names through a
//! DNS server of the test (`mail.customer.test A 127.0.0.1`), validates by connecting to
//! Marque's `http` listener (HTTP-01) or to its `imaps` listener (TLS-ALPN-01), and issues;
//! Marque stores the certificate and serves it by SNI without a restart. A client that trusts
//! only pebble's root (from its management endpoint) verifies the chain and the name, and
//! sees the IMAP greeting and the submissions banner name `mail.customer.test`; a client with
//! another SNI name sees the default certificate and name.

mod certs_common;
mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use certs_common::pebble::{free_port, pebble_api_certificate, pebble_root, run_pebble};
use certs_common::{call, connect, leaf_sha256, try_connect};
use common::{MARQUE, write_config};
use marque_tests::dns;

const HOST: &str = "mail.customer.test";

async fn issue_and_serve(challenge: &str) {
    let dns = dns::serve(vec![
        dns::Zone::new("customer.test").a(HOST, Ipv4Addr::LOCALHOST),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    // pebble's own HTTPS certificate, signed by a CA that Marque trusts through `ca_file`.
    let (ca, cert, key) = pebble_api_certificate();
    let api_ca = dir.path().join("pebble-api-ca.pem");
    std::fs::write(&api_ca, ca).unwrap();
    std::fs::write(dir.path().join("pebble-cert.pem"), cert).unwrap();
    std::fs::write(dir.path().join("pebble-key.pem"), key).unwrap();
    // Marque first, since pebble needs its ports; the ACME server is asked nothing before
    // the order.
    let api_port = free_port();
    let config = write_config(dir.path(), &["http", "imaps", "submissions"]);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[acme]\nenabled = true\ndirectory = \"https://127.0.0.1:{api_port}/dir\"\n\
         contact = \"mailto:ops@platform.test\"\nca_file = \"{}\"\nchallenge = \"{challenge}\"\n",
        api_ca.display()
    ));
    std::fs::write(&config, text).unwrap();
    let server = MARQUE.serve(&config, &[], &[]);
    let (pebble, mgmt) = run_pebble(
        dir.path(),
        dns.addr,
        api_port,
        server.addr("http").port(),
        server.addr("imaps").port(),
    );
    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let token = token.trim();
    let http = server.addr("http");
    let imaps = server.addr("imaps");
    let default_leaf =
        leaf_sha256(&std::fs::read_to_string(dir.path().join("data/tls/cert.pem")).unwrap());

    let before = connect(imaps, HOST, None, "imap");
    assert_eq!(before.leaf, default_leaf);

    let path = format!("/certificates/{HOST}");
    let (status, body) = call(http, token, "POST", &format!("{path}/order"), None);
    assert_eq!(status, 202, "{body}");
    let mut issued = None;
    for _ in 0..600 {
        let (status, body) = call(http, token, "GET", &path, None);
        assert_eq!(status, 200, "{body}");
        if body["issued"] == true {
            issued = Some(body);
            break;
        }
        if let Some(e) = body["last_error"].as_str() {
            panic!(
                "the order failed: {e}\nmarque:\n{}\npebble:\n{}",
                server.log(),
                std::fs::read_to_string(&pebble.log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let issued =
        issued.unwrap_or_else(|| panic!("no certificate issued; marque:\n{}", server.log()));
    assert_eq!(issued["source"], "acme");
    let chain = issued["chain_pem"].as_str().unwrap();

    let root = dir.path().join("pebble-root.pem");
    pebble_root(mgmt, &api_ca, &root);
    // The chain verifies against pebble's root, for the name asked (python's ssl checks both).
    let mut seen = None;
    for _ in 0..100 {
        match try_connect(imaps, HOST, Some(&root), "imap") {
            Ok(s) => {
                seen = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let seen = seen.unwrap_or_else(|| {
        panic!(
            "{}",
            try_connect(imaps, HOST, Some(&root), "imap").unwrap_err()
        )
    });
    assert_eq!(seen.leaf, leaf_sha256(chain));
    assert!(
        seen.greeting.contains(&format!(" {HOST} IMAP4rev1 ready")),
        "{}",
        seen.greeting
    );
    let smtp = connect(server.addr("submissions"), HOST, Some(&root), "smtp");
    assert!(
        smtp.greeting.starts_with(&format!("220 {HOST} ESMTP")),
        "{}",
        smtp.greeting
    );
    // Another name: the default certificate (not pebble's) and the configured name.
    let other = connect(imaps, "mail.elsewhere.test", None, "imap");
    assert_eq!(other.leaf, default_leaf);
    assert!(
        other.greeting.contains(" localhost IMAP4rev1"),
        "{}",
        other.greeting
    );
    assert!(try_connect(imaps, "mail.elsewhere.test", Some(&root), "imap").is_err());
    drop(pebble);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_certificate_from_pebble_is_served_by_sni() {
    issue_and_serve("http-01").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_certificate_from_pebble_is_served_by_sni() {
    issue_and_serve("tls-alpn-01").await;
}

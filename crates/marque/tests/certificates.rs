//! Uploaded certificates through the admin API, served by SNI on the implicit-TLS listeners
//! without a restart: before the upload the default certificate and name, after it the new
//! certificate and the greeting naming the hostname; a second upload swaps it for the next
//! connection; a deletion returns to the default. Bad uploads are refused with a reason.

mod certs_common;
mod common;

use certs_common::{call, connect, leaf_sha256, self_signed};
use common::{MARQUE, write_config};
use serde_json::json;

#[test]
fn uploads_are_served_by_sni_and_swapped_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["http", "imaps", "submissions", "pop3s"]);
    let server = MARQUE.serve(&config, &[], &[]);
    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let token = token.trim();
    let http = server.addr("http");
    let imaps = server.addr("imaps");
    let default_pem = std::fs::read_to_string(dir.path().join("data/tls/cert.pem")).unwrap();
    let default_leaf = leaf_sha256(&default_pem);

    let before = connect(imaps, "mail.upload.test", None, "imap");
    assert_eq!(before.leaf, default_leaf);
    assert!(
        before.greeting.contains(" localhost IMAP4rev1"),
        "{}",
        before.greeting
    );

    // Refusals carry the reason: another name, a key of another certificate.
    let (chain, key) = self_signed(&["mail.upload.test"]);
    let (other_chain, other_key) = self_signed(&["mail.other.test"]);
    let path = "/certificates/mail.upload.test";
    let (status, body) = call(
        http,
        token,
        "PUT",
        path,
        Some(&json!({"chain_pem": other_chain, "key_pem": other_key})),
    );
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("does not cover mail.upload.test"),
        "{body}"
    );
    let (status, body) = call(
        http,
        token,
        "PUT",
        path,
        Some(&json!({"chain_pem": chain, "key_pem": other_key})),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("does not match"), "{body}");

    let (status, body) = call(
        http,
        token,
        "PUT",
        path,
        Some(&json!({"chain_pem": chain, "key_pem": key})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "upload");
    assert!(
        body.get("key_pem").is_none(),
        "the key is never answered: {body}"
    );

    let after = wait_for_leaf(imaps, "mail.upload.test", &leaf_sha256(&chain));
    assert!(
        after.greeting.contains(" mail.upload.test IMAP4rev1"),
        "{}",
        after.greeting
    );
    let smtp = connect(server.addr("submissions"), "mail.upload.test", None, "smtp");
    assert!(
        smtp.greeting.starts_with("220 mail.upload.test ESMTP"),
        "{}",
        smtp.greeting
    );
    let pop = connect(server.addr("pop3s"), "mail.upload.test", None, "pop3");
    assert!(
        pop.greeting.starts_with("+OK mail.upload.test POP3"),
        "{}",
        pop.greeting
    );
    // Another name still gets the default certificate and name.
    let other = connect(imaps, "mail.other.test", None, "imap");
    assert_eq!(other.leaf, default_leaf);
    assert!(
        other.greeting.contains(" localhost IMAP4rev1"),
        "{}",
        other.greeting
    );

    // A second upload replaces the first for the next connection, same process.
    let (chain2, key2) = self_signed(&["mail.upload.test"]);
    let (status, body) = call(
        http,
        token,
        "PUT",
        path,
        Some(&json!({"chain_pem": chain2, "key_pem": key2})),
    );
    assert_eq!(status, 200, "{body}");
    wait_for_leaf(imaps, "mail.upload.test", &leaf_sha256(&chain2));

    let (status, body) = call(http, token, "GET", "/certificates", None);
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");

    let (status, _) = call(http, token, "DELETE", path, None);
    assert_eq!(status, 204);
    let gone = wait_for_leaf(imaps, "mail.upload.test", &default_leaf);
    assert!(
        gone.greeting.contains(" localhost IMAP4rev1"),
        "{}",
        gone.greeting
    );
    let (status, _) = call(http, token, "GET", path, None);
    assert_eq!(status, 404);
}

/// The resolver reloads right after the API answers, in another task: connects until the
/// expected leaf is served (a bounded number of tries, no timing assertion).
fn wait_for_leaf(addr: std::net::SocketAddr, sni: &str, leaf: &str) -> certs_common::Seen {
    let mut last = None;
    for _ in 0..100 {
        let seen = connect(addr, sni, None, "imap");
        if seen.leaf == leaf {
            return seen;
        }
        last = Some(seen);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{sni} never served {leaf}; last seen {last:?}");
}

//! Certificates by ACME from Debian's pebble on loopback. pebble resolves the names through a
//! DNS server of the test (`mail.customer.test A 127.0.0.1`), validates by connecting to
//! Marque's `http` listener (HTTP-01) or to its `imaps` listener (TLS-ALPN-01), and issues;
//! Marque stores the certificate and serves it by SNI without a restart. A client that trusts
//! only pebble's root (from its management endpoint) verifies the chain and the name, and
//! sees the IMAP greeting and the submissions banner name `mail.customer.test`; a client with
//! another SNI name sees the default certificate and name.

#[path = "../../smtp/tests/common/dns.rs"]
mod dns;

mod certs_common;
mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use certs_common::{call, connect, leaf_sha256, try_connect};
use common::{Server, write_config};

const HOST: &str = "mail.customer.test";

/// pebble, killed when dropped.
struct Pebble {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port for pebble (which takes ports, not sockets).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a certificate for pebble's own HTTPS (its API): (ca PEM, cert PEM, key PEM).
fn pebble_api_certificate() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "pebble API test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
    (ca_cert.pem(), leaf.pem(), key.serialize_pem())
}

/// pebble's root of issuance, from its management endpoint (it changes on every start).
fn pebble_root(mgmt: SocketAddr, api_ca: &Path, out: &Path) {
    let status = Command::new("curl")
        .args(["-sS", "--fail", "--cacert", &api_ca.display().to_string()])
        .args(["-o", &out.display().to_string()])
        .arg(format!("https://{mgmt}/roots/0"))
        .status()
        .expect("curl must be installed");
    assert!(status.success(), "fetching pebble's root");
}

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
    let server = Server::start(&config, &[], &[]);
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

fn run_pebble(
    dir: &Path,
    dns: SocketAddr,
    api_port: u16,
    http_port: u16,
    tls_port: u16,
) -> (Pebble, SocketAddr) {
    let api: SocketAddr = format!("127.0.0.1:{api_port}").parse().unwrap();
    let mgmt: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = serde_json::json!({"pebble": {
        "listenAddress": api.to_string(),
        "managementListenAddress": mgmt.to_string(),
        "certificate": dir.join("pebble-cert.pem"),
        "privateKey": dir.join("pebble-key.pem"),
        "httpPort": http_port,
        "tlsPort": tls_port,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
    }});
    let config_path = dir.join("pebble.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let log = dir.join("pebble.log");
    let child = Command::new("pebble")
        .args(["-config", &config_path.display().to_string()])
        .args(["-dnsserver", &dns.to_string()])
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.join("pebble.err")).unwrap())
        .spawn()
        .expect("pebble must be installed (Debian package pebble)");
    let pebble = Pebble { child, log };
    for _ in 0..200 {
        if std::net::TcpStream::connect(api).is_ok() && std::net::TcpStream::connect(mgmt).is_ok() {
            return (pebble, mgmt);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "pebble did not start: {}",
        std::fs::read_to_string(&pebble.log).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_certificate_from_pebble_is_served_by_sni() {
    issue_and_serve("http-01").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_certificate_from_pebble_is_served_by_sni() {
    issue_and_serve("tls-alpn-01").await;
}

//! The real `marque` binary of this package (run through `marque_tests::binary`), and the
//! clients the end-to-end tests talk to it with: raw lines, TLS, curl.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[allow(unused_imports)] // Each test uses its own part.
pub use marque_tests::binary::{Marque, Server, write_config};

/// The binary built for these tests.
pub const MARQUE: Marque = Marque::at(env!("CARGO_BIN_EXE_marque"));

/// Connects and reads what the server says first (until it closes or a line ends).
pub fn greeting(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    read_line(&mut s)
}

pub fn read_line(s: &mut impl Read) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = s.read(&mut byte) {
        out.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A TLS client that trusts only the PEM certificate at `cert`.
pub fn tls_connect(
    addr: SocketAddr,
    cert: &Path,
    name: &str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from(name.to_string()).unwrap(),
    )
    .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    // Drive the handshake now so that certificate errors surface here.
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .expect("TLS handshake");
    }
    stream.flush().unwrap();
    stream
}

/// One API call with curl to the `http` listener at `http`; returns the status and the body.
pub fn curl(
    http: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, String) {
    let url = format!("http://{http}/api/v1{path}");
    let auth = format!("Authorization: Bearer {token}");
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "--max-time", "120", "-X", method, "-H", &auth])
        .args([
            "-H",
            "Content-Type: application/json",
            "-w",
            "\n%{http_code}",
        ]);
    if let Some(b) = body {
        cmd.args(["--data-binary", &b.to_string()]);
    }
    let out = cmd
        .arg(&url)
        .output()
        .expect("curl must be installed (Debian package curl)");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (body, status) = text.rsplit_once('\n').expect("status line");
    (status.trim().parse().expect("status"), body.to_string())
}

/// One API call to `server`; returns the status and the body.
pub fn call(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> (u16, String) {
    curl(server.addr("http"), token, method, path, body)
}

/// A call that must succeed; its JSON answer.
pub fn api(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let (status, text) = call(server, token, method, path, body.as_ref());
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {text}"
    );
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

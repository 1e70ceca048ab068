//! What the certificate tests share: API calls with curl, and a real TLS client (Python's
//! `ssl` with imaplib's and smtplib's view of the greeting) that connects with a chosen SNI
//! name and reports the certificate it was served.

#![allow(dead_code)]

pub mod pebble;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// One API call on the `http` listener ([`crate::common::curl`]); returns the status and the
/// JSON answer.
pub fn call(
    http: SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let (status, body) = crate::common::curl(http, token, method, path, body);
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(Value::String(body))
    };
    (status, json)
}

/// The client: connects to `addr` with SNI `sni`, verifies the chain and the name against
/// `cafile` (or verifies nothing with `-`), prints the SHA-256 of the leaf it was served and
/// the server's first line (IMAP greeting or SMTP banner).
const CLIENT: &str = r#"
import hashlib, imaplib, smtplib, ssl, sys
host, port, sni, cafile, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
if cafile == "-":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
else:
    ctx = ssl.create_default_context(cafile=cafile)
import socket
raw = socket.create_connection((host, port), timeout=30)
tls = ctx.wrap_socket(raw, server_hostname=sni)
leaf = tls.getpeercert(binary_form=True)
print(hashlib.sha256(leaf).hexdigest())
line = b""
while not line.endswith(b"\n"):
    chunk = tls.recv(1)
    if not chunk:
        break
    line += chunk
print(line.decode().strip())
tls.close()
"#;

/// What the client saw.
#[derive(Debug)]
pub struct Seen {
    /// SHA-256 of the leaf certificate, hex.
    pub leaf: String,
    /// The greeting or banner.
    pub greeting: String,
}

/// Connects with the Python client; panics with its error if the handshake or the
/// verification fails.
pub fn connect(addr: SocketAddr, sni: &str, cafile: Option<&Path>, proto: &str) -> Seen {
    try_connect(addr, sni, cafile, proto).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`connect`], returning the client's error instead.
pub fn try_connect(
    addr: SocketAddr,
    sni: &str,
    cafile: Option<&Path>,
    proto: &str,
) -> Result<Seen, String> {
    let ca = cafile.map_or_else(|| "-".to_string(), |p| p.display().to_string());
    let out = Command::new("python3")
        .args(["-c", CLIENT])
        .args([
            &addr.ip().to_string(),
            &addr.port().to_string(),
            sni,
            &ca,
            proto,
        ])
        .output()
        .expect("python3 must be installed (Debian package python3)");
    if !out.status.success() {
        return Err(format!(
            "TLS client for {sni}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    Ok(Seen {
        leaf: lines.next().unwrap_or_default().to_string(),
        greeting: lines.next().unwrap_or_default().to_string(),
    })
}

/// SHA-256 (hex) of the first certificate of a PEM chain, to compare with [`Seen::leaf`].
pub fn leaf_sha256(chain_pem: &str) -> String {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("valid PEM");
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(der.as_ref())?;
            c.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// A self-signed certificate for `names`: (chain PEM, key PEM).
pub fn self_signed(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let c = rcgen::generate_simple_self_signed(names).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

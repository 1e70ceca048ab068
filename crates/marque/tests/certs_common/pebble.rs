//! Debian's pebble ACME server on loopback, for the certificate tests: its own HTTPS
//! certificate (from a test CA Marque is told to trust), its configuration pointing its
//! validation at Marque's listeners, and its root of issuance for the clients.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// pebble, killed when dropped.
pub struct Pebble {
    child: Child,
    pub log: std::path::PathBuf,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port for pebble (which takes ports, not sockets).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A CA and a certificate for pebble's own HTTPS (its API): (ca PEM, cert PEM, key PEM).
pub fn pebble_api_certificate() -> (String, String, String) {
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
pub fn pebble_root(mgmt: SocketAddr, api_ca: &Path, out: &Path) {
    let status = Command::new("curl")
        .args(["-sS", "--fail", "--cacert", &api_ca.display().to_string()])
        .args(["-o", &out.display().to_string()])
        .arg(format!("https://{mgmt}/roots/0"))
        .status()
        .expect("curl must be installed");
    assert!(status.success(), "fetching pebble's root");
}

pub fn run_pebble(
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

//! Running the real `marque` binary on loopback with port 0 listeners.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_marque");

/// A `marque` command with a clean environment for the variables it reads.
pub fn marque() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("MARQUE_CONFIG")
        .env_remove("MARQUE_ADMIN_TOKEN")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

/// Runs `marque ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    marque().args(args).output().expect("marque runs")
}

/// Writes a config into `dir` with every named service on `127.0.0.1:0`.
pub fn write_config(dir: &Path, services: &[&str]) -> PathBuf {
    let mut text = format!(
        "[server]\nhostname = \"localhost\"\ndata_dir = \"{}\"\nshutdown_grace_secs = 2\n\n[listeners]\n",
        dir.join("data").display()
    );
    for s in services {
        text.push_str(&format!("{s} = [\"127.0.0.1:0\"]\n"));
    }
    // SPF, DKIM and DMARC lookups stay on loopback and are refused at once (temperror).
    text.push_str(&format!(
        "\n[dns]\nnameservers = [\"{}\"]\n",
        refusing_dns()
    ));
    // Webhook receivers in these tests run on loopback, which webhooks may not reach unless
    // allowed.
    text.push_str("\n[webhooks]\nallow_networks = [\"127.0.0.0/8\"]\n");
    let path = dir.join("marque.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A running `marque serve`.
pub struct Server {
    pub child: Child,
    pub listeners: BTreeMap<String, SocketAddr>,
    pub stderr: PathBuf,
}

impl Server {
    /// Starts `marque serve --config CONFIG --print-listeners EXTRA...` and waits for `ready`.
    pub fn start(config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let stderr = config.with_extension("log");
        let mut cmd = marque();
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--print-listeners")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("marque serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut listeners = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == "ready" => break,
                Ok(line) => {
                    let mut parts = line.split_whitespace();
                    assert_eq!(parts.next(), Some("listening"), "unexpected line {line:?}");
                    let service = parts.next().unwrap().to_string();
                    let addr = parts.next().unwrap().parse().unwrap();
                    listeners.insert(service, addr);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "marque serve did not become ready; its log:\n{}",
                        std::fs::read_to_string(&stderr).unwrap_or_default()
                    );
                }
            }
        }
        Server {
            child,
            listeners,
            stderr,
        }
    }

    pub fn addr(&self, service: &str) -> SocketAddr {
        self.listeners[service]
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, Signal::SIGTERM).unwrap();
        wait(&mut self.child, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("no exit after SIGTERM; log:\n{}", self.log()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits up to `limit` for the child to exit.
pub fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

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

/// Runs `marque ARGS` with `input` on standard input.
pub fn run_with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = marque()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("marque runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// A DNS server on 127.0.0.1 (UDP) that answers every question `REFUSED` (RFC 1035 §4.1.1),
/// so that the server's lookups get an answer at once and never leave the machine.
pub fn refusing_dns() -> SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            // The header and one question (labels, then type and class); nothing after it.
            let mut end = 12;
            while end < n && buf[end] != 0 {
                end += usize::from(buf[end]) + 1;
            }
            end += 5;
            if n < 12 || end > n {
                continue;
            }
            let mut reply = buf[..end].to_vec();
            reply[2] = (reply[2] | 0x80) & !0x02; // QR, not truncated
            reply[3] = (reply[3] & 0xf0) | 5; // RCODE REFUSED
            reply[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
            let _ = sock.send_to(&reply, peer);
        }
    });
    addr
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

//! The real `marque` binary on loopback: a config written to a temporary directory with every
//! listener on `127.0.0.1:0`, `marque serve` started and waited for until it is ready, its
//! listeners' addresses read from its output, and stopped with SIGTERM or killed with SIGKILL
//! (the crash tests).
//!
//! Cargo hands the path of the built binary only to the tests of its own package
//! (`env!("CARGO_BIN_EXE_marque")`), so those tests name it in a [`Marque`].

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::process::Watched;

/// The binary under test.
#[derive(Debug, Clone, Copy)]
pub struct Marque {
    bin: &'static str,
}

impl Marque {
    /// The binary at `bin`.
    pub const fn at(bin: &'static str) -> Marque {
        Marque { bin }
    }

    /// A `marque` command with a clean environment for the variables it reads.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(self.bin);
        cmd.env_remove("MARQUE_CONFIG")
            .env_remove("MARQUE_ADMIN_TOKEN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `marque ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("marque runs")
    }

    /// Runs `marque ARGS` with `input` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("marque runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("marque ends")
    }

    /// Starts `marque serve --config CONFIG --print-listeners EXTRA...` and waits for `ready`.
    pub fn serve(&self, config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let stderr = config.with_extension("log");
        let mut cmd = self.command();
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--print-listeners")
            .args(extra)
            .stderr(std::fs::File::create(&stderr).expect("log file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let watched = Watched::spawn(&mut cmd).expect("marque serve starts");
        let mut listeners = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match watched.line(left) {
                Some(line) if line == "ready" => break,
                Some(line) => {
                    let mut parts = line.split_whitespace();
                    assert_eq!(parts.next(), Some("listening"), "unexpected line {line:?}");
                    let service = parts.next().expect("service").to_string();
                    let addr = parts.next().expect("address").parse().expect("address");
                    listeners.insert(service, addr);
                }
                None => {
                    let mut child = watched.child;
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "marque serve did not become ready; its log:\n{}",
                        std::fs::read_to_string(&stderr).unwrap_or_default()
                    );
                }
            }
        }
        let child = watched.child;
        Server {
            child,
            listeners,
            stderr,
        }
    }
}

/// The variable that puts the configs [`write_config`] writes on PostgreSQL: with
/// `MARQUE_TEST_STORE=postgres`, each config gets `[store] backend = "postgres"` and a fresh
/// database of the test server ([`crate::postgres`]); unset or `rocksdb`, the embedded default.
pub const STORE_ENV: &str = "MARQUE_TEST_STORE";

/// The `[store]` section for the backend [`STORE_ENV`] names ("" for the default).
///
/// # Panics
/// On a value other than `rocksdb` or `postgres`, so that a typo does not test the wrong
/// backend.
pub fn store_section() -> String {
    match std::env::var(STORE_ENV).as_deref() {
        Err(_) | Ok("") | Ok("rocksdb") => String::new(),
        Ok("postgres") => {
            let db = crate::postgres::database();
            let section = format!(
                "[store]\nbackend = \"postgres\"\nurl = \"{}\"\n\n",
                db.url()
            );
            // The database lives until the test process ends, as the server using it may; the
            // test cluster goes with the process.
            std::mem::forget(db);
            section
        }
        Ok(other) => panic!("{STORE_ENV}={other}: expected rocksdb or postgres"),
    }
}

/// Writes a config into `dir` with every named service on `127.0.0.1:0`, on the backend
/// [`STORE_ENV`] names.
pub fn write_config(dir: &Path, services: &[&str]) -> PathBuf {
    let mut text = format!(
        "[server]\nhostname = \"localhost\"\ndata_dir = \"{}\"\nshutdown_grace_secs = 2\n\n{}[listeners]\n",
        dir.join("data").display(),
        store_section()
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
    std::fs::write(&path, text).expect("write config");
    path
}

/// A running `marque serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub listeners: BTreeMap<String, SocketAddr>,
    pub stderr: PathBuf,
}

impl Server {
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
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        kill(pid, Signal::SIGTERM).expect("SIGTERM");
        wait(&mut self.child, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("no exit after SIGTERM; log:\n{}", self.log()))
    }

    /// SIGKILL: no shutdown, no flush; only what was made durable remains. Waits for the exit.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("exit");
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
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("child status") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A DNS server on 127.0.0.1 (UDP) that answers every question `REFUSED` (RFC 1035 §4.1.1),
/// so that the server's lookups get an answer at once and never leave the machine.
fn refusing_dns() -> SocketAddr {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let addr = sock.local_addr().expect("udp addr");
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

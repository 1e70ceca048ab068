//! A ManageSieve server on 127.0.0.1:0 over a fresh store with one customer, one domain and
//! two mailboxes, with STARTTLS on a self-signed certificate.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use marque_access::managesieve::ManageSieve;
use marque_core::Core;
use marque_hosting::Hosting;
use marque_hosting::sieve::SieveLimits;
use marque_tests::{Offer, Platform, Services, TestCert};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const USER: &str = "ann@c.example";
pub use marque_tests::PASSWORD;
pub const OTHER: &str = "bob@c.example";

pub struct Server {
    pub port: u16,
    pub core: Core,
    /// The hosting features over `core`, which keep the scripts.
    pub hosting: Hosting,
    _services: Services,
    _dir: tempfile::TempDir,
}

/// Starts a server; `configure` adjusts the service (limits, plaintext policy).
pub async fn start(limits: SieveLimits, configure: fn(ManageSieve) -> ManageSieve) -> Server {
    let policy = marque_core::signin::SignInPolicy {
        throttle: marque_core::signin::ThrottleConfig {
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            account_max_delay: Duration::ZERO,
            ban_after: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    start_with_policy(limits, policy, configure).await
}

/// Starts a server whose core follows `policy` (the sign-in throttle, the networks allowed
/// to sign in in clear).
pub async fn start_with_policy(
    limits: SieveLimits,
    policy: marque_core::signin::SignInPolicy,
    configure: fn(ManageSieve) -> ManageSieve,
) -> Server {
    let Platform { core, dir, .. } = Platform::builder()
        .configure(move |core| core.with_sign_in_policy(policy))
        .customer("C")
        .domain("c.example")
        .mailbox(USER, 10)
        .mailbox(OTHER, 10)
        .build()
        .await;
    let hosting = Hosting::new(core).with_sieve_limits(limits);
    let core = hosting.core().clone();
    let services = Services::new(Duration::from_secs(1));
    let handler = configure(ManageSieve::new(&hosting, "sieve.test"));
    let addr = services
        .listen(
            "managesieve",
            Offer::StartTls(TestCert::new().config),
            Arc::new(handler),
        )
        .await;
    Server {
        port: addr.port(),
        core,
        hosting,
        _services: services,
        _dir: dir,
    }
}

/// A raw client: writes bytes, reads lines and whole responses.
pub struct Raw {
    pub r: BufReader<TcpStream>,
}

impl Raw {
    pub async fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut raw = Raw {
            r: BufReader::new(s),
        };
        raw.response().await;
        raw
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).await.expect("write");
    }

    /// Reads through the next line that starts with OK, NO or BYE; literals are read whole.
    pub async fn response(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = self.r.read_line(&mut line).await.expect("read");
            if n == 0 {
                all.push_str("<EOF>");
                return all;
            }
            all.push_str(&line);
            if let Some(len) = line
                .trim_end()
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .and_then(|n| n.parse::<usize>().ok())
            {
                let mut data = vec![0u8; len];
                self.r.read_exact(&mut data).await.expect("literal");
                all.push_str(&String::from_utf8_lossy(&data));
                continue;
            }
            if line.starts_with("OK") || line.starts_with("NO") || line.starts_with("BYE") {
                return all;
            }
        }
    }

    pub async fn cmd(&mut self, bytes: &str) -> String {
        self.send(bytes.as_bytes()).await;
        self.response().await
    }

    /// Signs in with SASL PLAIN and its initial response.
    pub async fn login(&mut self, user: &str, password: &str) -> String {
        use base64::Engine;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        self.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{token}\"\r\n"))
            .await
    }
}

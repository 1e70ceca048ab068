//! Shared set-up of the POP3 tests: a core with one customer, domain and mailbox whose INBOX
//! holds a few messages, and the POP3 service on 127.0.0.1:0 twice (plain with STLS, and
//! implicit TLS), with a test certificate the clients trust.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use marque_access::pop3::Pop3;
use marque_core::Core;
use marque_store::counters::{self, Metric};
use marque_store::mail::{self, AppendOptions, PreparedMessage};
use marque_store::{AccountId, Reader, TenantId};
use marque_tests::clients::{python, run_python};
#[allow(unused_imports)] // Each test uses its own part.
pub use marque_tests::clients::{require, succeeded};
use marque_tests::{Offer, Platform, Services, TestCert};

pub const LOGIN: &str = "ann@c.example";
pub use marque_tests::PASSWORD;
pub const HOST: &str = "pop.c.example";

/// The messages put in the INBOX, in order. The second has bare LF line ends and lines that
/// begin with a dot; the third has a long body for TOP.
pub fn messages() -> Vec<Vec<u8>> {
    let mut third =
        b"From: Carol <carol@b.example>\r\nTo: ann@c.example\r\nSubject: long\r\n\r\n".to_vec();
    for i in 1..=40 {
        third.extend_from_slice(format!("line {i}\r\n").as_bytes());
    }
    vec![
        b"From: Bob <bob@b.example>\r\nTo: ann@c.example\r\nSubject: hello\r\nMessage-ID: <1@b.example>\r\n\r\nHi Ann.\r\n".to_vec(),
        b"From: Bob <bob@b.example>\nTo: ann@c.example\nSubject: dots\nMessage-ID: <2@b.example>\n\n.leading dot\n..two dots\n.\nend\n".to_vec(),
        third,
    ]
}

/// What the client receives of a message: CRLF line ends, the last line ended (written here
/// independently of the server's own code).
pub fn on_the_wire(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if raw.is_empty() {
        return out;
    }
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    for line in body.split(|&b| b == b'\n') {
        out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub struct Server {
    pub core: Core,
    pub pop3: Pop3,
    pub account: AccountId,
    pub customer: TenantId,
    /// The plain listener (STLS offered).
    pub plain: SocketAddr,
    /// The implicit-TLS listener.
    pub tls: SocketAddr,
    /// The test certificate in PEM, for the clients to trust.
    pub ca: PathBuf,
    /// The messages written to the INBOX, as the files the scripts compare against.
    pub message_files: Vec<PathBuf>,
    services: Services,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server whose INBOX holds [`messages`].
    pub async fn start() -> Server {
        Server::start_with(|p| p).await
    }

    /// Starts a server with a handler adjusted by `adjust` (timers).
    pub async fn start_with(adjust: impl FnOnce(Pop3) -> Pop3) -> Server {
        Server::start_with_policy(Server::fast_sign_in(), adjust).await
    }

    /// The sign-in policy of the tests: the default, with 10 ms delays after failures.
    pub fn fast_sign_in() -> marque_core::signin::SignInPolicy {
        marque_core::signin::SignInPolicy {
            throttle: marque_core::signin::ThrottleConfig {
                first_delay: Duration::from_millis(10),
                account_max_delay: Duration::from_millis(10),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Starts a server whose core follows `policy` (throttle, networks allowed in clear).
    pub async fn start_with_policy(
        policy: marque_core::signin::SignInPolicy,
        adjust: impl FnOnce(Pop3) -> Pop3,
    ) -> Server {
        let platform = Platform::builder()
            .configure(move |core| core.with_sign_in_policy(policy))
            .customer("C")
            .domain("c.example")
            .mailbox(LOGIN, 100)
            .build()
            .await;
        let customer = platform.tenant("C");
        let Platform { core, dir, .. } = platform;
        let account = marque_tests::account(&core, LOGIN).await;
        let mut message_files = Vec::new();
        for (i, raw) in messages().into_iter().enumerate() {
            append(&core, account, &raw).await;
            let path = dir.path().join(format!("message-{}.eml", i + 1));
            std::fs::write(&path, on_the_wire(&raw)).expect("write message file");
            message_files.push(path);
        }

        let cert = TestCert::new();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &cert.pem).expect("write ca");

        let pop3 = adjust(Pop3::new(&core, HOST));
        let handler = Arc::new(pop3.clone());
        let services = Services::new(Duration::from_secs(5));
        let plain = services
            .listen(
                "pop3",
                Offer::StartTls(cert.config.clone()),
                handler.clone(),
            )
            .await;
        let tls_addr = services
            .listen("pop3s", Offer::Implicit(cert.config), handler)
            .await;
        Server {
            core,
            pop3,
            account,
            customer,
            plain,
            tls: tls_addr,
            ca,
            message_files,
            services,
            dir,
        }
    }

    /// Starts the graceful shutdown of both listeners.
    pub fn stop(&self) {
        self.services.stop();
    }

    /// The UIDs in the INBOX.
    pub async fn uids(&self) -> Vec<u32> {
        let account = self.account;
        self.core
            .store()
            .read(move |s| {
                let inbox = mail::mailbox_by_name(s, account, "INBOX")?.expect("INBOX");
                mail::uids(s, account, inbox.id)
            })
            .await
            .expect("uids")
    }

    /// The bytes the mailbox's quota counter holds.
    pub async fn usage(&self) -> i64 {
        let charges = self
            .core
            .usage_charges(self.account)
            .await
            .expect("charges");
        let counter = counters::key(charges[0].owner, Metric::StorageUsed);
        self.core
            .store()
            .read(move |s| s.counter(&counter))
            .await
            .expect("counter")
    }

    /// Environment of a client run: the addresses, credentials, certificate and messages.
    pub fn env(&self) -> Vec<(String, String)> {
        let files: Vec<String> = self
            .message_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        vec![
            ("POP3_HOST".into(), "127.0.0.1".into()),
            ("POP3_PORT".into(), self.plain.port().to_string()),
            ("POP3S_PORT".into(), self.tls.port().to_string()),
            ("POP3_USER".into(), LOGIN.into()),
            ("POP3_PASS".into(), PASSWORD.into()),
            ("POP3_CA".into(), self.ca.display().to_string()),
            ("POP3_MESSAGES".into(), files.join(":")),
        ]
    }

    /// Runs one of the Python scripts under `tests/pop3/`, which must succeed.
    pub async fn python(&self, script: &str, args: &[&str]) -> String {
        let path = scripts().join(script);
        run_python(
            &format!("python3 {script} {args:?}"),
            python().arg(&path).args(args).envs(self.env()),
        )
        .await
    }
}

/// Appends a message to the INBOX.
pub async fn append(core: &Core, account: AccountId, raw: &[u8]) -> u32 {
    let msg = PreparedMessage::new(core.store(), raw).expect("prepare");
    let charges = core.usage_charges(account).await.expect("charges");
    core.store()
        .transact(move |txn| {
            let inbox = mail::mailbox_by_name(txn, account, "INBOX")?.expect("INBOX");
            mail::append(
                txn,
                account,
                inbox.id,
                &msg,
                &AppendOptions::default(),
                &charges,
            )
        })
        .await
        .expect("append")
        .uid
}

/// The folder of the client scripts.
pub fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pop3")
}

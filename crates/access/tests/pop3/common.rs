//! Shared set-up of the POP3 tests: a core with one customer, domain and mailbox whose INBOX
//! holds a few messages, and the POP3 service on 127.0.0.1:0 twice (plain with STLS, and
//! implicit TLS), with a test certificate the clients trust.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use marque_access::pop3::Pop3;
use marque_core::{Actor, Core, HashCost, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantKind};
use marque_session::{Listener, Shutdown, TlsConfig, serve};
use marque_store::counters::{self, Metric};
use marque_store::mail::{self, AppendOptions, PreparedMessage};
use marque_store::{AccountId, Reader, Store, StoreOptions, TenantId};
use tokio::net::TcpListener;

pub const LOGIN: &str = "ann@c.example";
pub const PASSWORD: &str = "correct horse battery";
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
    pub dir: tempfile::TempDir,
    shutdown: Shutdown,
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
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            Store::open(&dir.path().join("db"), StoreOptions::default()).expect("open store");
        let core = Core::open_with(store, HashCost::insecure_for_tests())
            .expect("open core")
            .with_sign_in_policy(policy);
        core.bootstrap(None).await.expect("bootstrap");
        let op = Actor::operator();
        let customer = core
            .create_tenant(
                &op,
                NewTenant {
                    name: "C".into(),
                    kind: TenantKind::Customer,
                    parent: PROVIDER,
                    ..NewTenant::default()
                },
            )
            .await
            .expect("tenant")
            .tenant
            .id;
        core.create_domain(
            &op,
            NewDomain {
                name: "c.example".into(),
                tenant: customer,
                ..NewDomain::default()
            },
        )
        .await
        .expect("domain");
        let account = core
            .create_mailbox(
                &op,
                NewMailbox {
                    address: LOGIN.into(),
                    password: PASSWORD.into(),
                    quota_mb: Some(100),
                    tier: None,
                    postmaster: false,
                },
            )
            .await
            .expect("mailbox")
            .id;
        let mut message_files = Vec::new();
        for (i, raw) in messages().into_iter().enumerate() {
            append(&core, account, &raw).await;
            let path = dir.path().join(format!("message-{}.eml", i + 1));
            std::fs::write(&path, on_the_wire(&raw)).expect("write message file");
            message_files.push(path);
        }

        let cert = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .expect("certificate");
        let cert_pem = cert.cert.pem();
        let tls = TlsConfig::from_pem(
            cert_pem.as_bytes(),
            cert.signing_key.serialize_pem().as_bytes(),
        )
        .expect("tls config");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &cert_pem).expect("write ca");

        let pop3 = adjust(Pop3::new(&core, HOST));
        let handler = Arc::new(pop3.clone());
        let shutdown = Shutdown::new();
        let plain_tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let plain = plain_tcp.local_addr().expect("addr");
        let tls_tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let tls_addr = tls_tcp.local_addr().expect("addr");
        tokio::spawn(serve(
            Listener::new("pop3", plain_tcp).starttls(tls.clone()),
            handler.clone(),
            shutdown.signal(),
            Duration::from_secs(5),
        ));
        tokio::spawn(serve(
            Listener::new("pop3s", tls_tcp).implicit_tls(tls),
            handler,
            shutdown.signal(),
            Duration::from_secs(5),
        ));
        Server {
            core,
            pop3,
            account,
            customer,
            plain,
            tls: tls_addr,
            ca,
            message_files,
            dir,
            shutdown,
        }
    }

    /// Starts the graceful shutdown of both listeners.
    pub fn stop(&self) {
        self.shutdown.trigger();
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
        let out = tokio::process::Command::new("python3")
            .arg(&path)
            .args(args)
            .envs(self.env())
            .output()
            .await
            .expect("python3 must be installed to run the POP3 client tests");
        succeeded(&format!("python3 {script} {args:?}"), &out)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.trigger();
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

/// Checks that a client exited with 0 and returns its standard output.
pub fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout
}

/// The path of `tool`; a test that needs it fails with a clear message if it is missing.
pub fn require(tool: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{tool}` is not installed: this test needs the Debian package `{package}`")
        })
}

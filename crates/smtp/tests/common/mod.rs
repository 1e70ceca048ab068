//! Shared set-up for the SMTP tests: a core on a real store with a customer, its domain,
//! mailboxes (one with a 1 MiB quota, already full), aliases and a list; the SMTP handler on
//! `smtp`, `submission` (STARTTLS) and `submissions` (implicit TLS) listeners on 127.0.0.1:0;
//! and a runner for Python `smtplib` scripts and `swaks`.

#![allow(dead_code)]

pub mod remote;

pub use marque_tests::dns;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use marque_core::{AccountId, Actor, Core, Recipient, TenantId};
use marque_delivery::TransactionRecord;
use marque_hosting::Hosting;
use marque_smtp::{Config, Smtp};
use marque_store::logs::{self, LogKind, Query, Term};
use marque_store::mail::{self, MessageRecord};
use marque_tests::clients::{python as python3, run_python};
use marque_tests::{Offer, Platform, Services, TestCert};

pub use marque_tests::PASSWORD;

pub struct Server {
    pub core: Core,
    /// The hosting features over `core` (the outbound queue's administration, identities).
    pub hosting: Hosting,
    pub customer: TenantId,
    pub smtp: SocketAddr,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    _services: Services,
    _dir: tempfile::TempDir,
    /// The loopback DNS server SPF, DKIM and DMARC ask when the test gave none.
    _dns: Option<dns::TestDns>,
}

/// Test limits: 64 KiB messages, 5 recipients.
pub fn test_config() -> Config {
    let mut c = Config::new("mx.test.example");
    c.max_message_size = 64 * 1024;
    c.max_recipients = 5;
    c.greeting_delay = std::time::Duration::ZERO;
    c
}

/// The core's sign-in throttle for tests: 1 ms delays, the default ban.
pub fn fast_sign_in() -> marque_core::signin::ThrottleConfig {
    marque_core::signin::ThrottleConfig {
        first_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(1),
        account_max_delay: std::time::Duration::from_millis(1),
        ..Default::default()
    }
}

pub async fn start() -> Server {
    start_with(test_config()).await
}

pub async fn start_with(config: Config) -> Server {
    start_with_sign_in(config, fast_sign_in()).await
}

/// Starts with the sign-in throttle set to `throttle` (the core's, shared by every service).
pub async fn start_with_sign_in(
    mut config: Config,
    throttle: marque_core::signin::ThrottleConfig,
) -> Server {
    // Never the system's resolver: an empty zone answers everything at once.
    let own_dns = if config.nameservers.is_empty() {
        let d = dns::serve(vec![dns::Zone::new("test.invalid")]).await;
        config.nameservers = vec![d.addr];
        Some(d)
    } else {
        None
    };
    let platform = Platform::builder()
        .configure(move |core| {
            core.with_sign_in_policy(marque_core::signin::SignInPolicy {
                throttle,
                ..Default::default()
            })
        })
        .mail_customer()
        .build()
        .await;
    let customer = platform.tenant("C");
    let Platform { core, dir, .. } = platform;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let op = Actor::operator();
    core.create_alias(
        &op,
        "team@c.example",
        &["ann@c.example".into(), "bob@c.example".into()],
    )
    .await
    .expect("alias");
    core.create_alias(&op, "sales@c.example", &["ann@c.example".into()])
        .await
        .expect("alias");
    core.create_list(
        &op,
        "all@c.example",
        "All",
        &["ann@c.example".into(), "bob@c.example".into()],
    )
    .await
    .expect("list");
    fill(&core, "tiny@c.example").await;

    let handler = Arc::new(Smtp::new(&core, config));
    let services = Services::new(Duration::from_secs(5));
    let tls = TestCert::new().config;
    let smtp = services
        .listen("smtp", Offer::StartTls(tls.clone()), handler.clone())
        .await;
    let submission = services
        .listen("submission", Offer::StartTls(tls.clone()), handler.clone())
        .await;
    let submissions = services
        .listen("submissions", Offer::Implicit(tls), handler)
        .await;
    Server {
        core,
        hosting,
        customer,
        smtp,
        submission,
        submissions,
        _services: services,
        _dir: dir,
        _dns: own_dns,
    }
}

/// Fills a 1 MiB mailbox to exactly its quota.
async fn fill(core: &Core, address: &str) {
    let r = local(core, address).await;
    let mut raw = b"Subject: filler\r\n\r\n".to_vec();
    // Exactly the 1 MiB quota, as stored (line ends included).
    raw.resize(1024 * 1024 - 2, b'x');
    raw.extend_from_slice(b"\r\n");
    let (res, _) = marque_delivery::deliver(
        core,
        &marque_delivery::Environment::default(),
        marque_delivery::Delivery {
            raw,
            sender: String::new(),
            recipients: vec![r],
            record: TransactionRecord::default(),
            extra_owners: vec![],
        },
    )
    .await
    .expect("fill");
    assert!(matches!(
        res[0],
        marque_delivery::RecipientResult::Delivered { .. }
    ));
}

pub async fn local(core: &Core, address: &str) -> marque_delivery::LocalRecipient {
    match core.resolve_address(address).await.expect("resolve") {
        Some(Recipient::Mailbox {
            account, tenant, ..
        }) => marque_delivery::LocalRecipient {
            address: address.into(),
            account,
            tenant,
        },
        other => panic!("{address} is not a mailbox: {other:?}"),
    }
}

pub async fn account(core: &Core, address: &str) -> AccountId {
    local(core, address).await.account
}

/// The INBOX of `address`: each message's record and body.
pub async fn inbox(core: &Core, address: &str) -> Vec<(MessageRecord, Vec<u8>)> {
    let account = account(core, address).await;
    let s = core.store();
    let inbox = mail::mailbox_by_name(s, account, "INBOX")
        .expect("read")
        .expect("INBOX");
    mail::messages(s, account, inbox.id, 1, 1000)
        .expect("messages")
        .into_iter()
        .map(|(_, m)| {
            let body = mail::message_body(s, &m.blob)
                .expect("body")
                .expect("stored");
            (m, body)
        })
        .collect()
}

/// Transaction records of `owner` indexed under `address`, newest first.
pub fn transactions(core: &Core, owner: TenantId, address: &str) -> Vec<TransactionRecord> {
    logs::search(
        core.store(),
        &Query {
            owner,
            kind: LogKind::Transaction,
            term: Some((Term::Address, address.into())),
            from_ms: 0,
            to_ms: u64::MAX,
            after: None,
            limit: 100,
        },
    )
    .expect("search")
    .entries
    .iter()
    .map(|e| serde_json::from_slice(&e.body).expect("record"))
    .collect()
}

const PRELUDE: &str = r#"
import smtplib, ssl, socket, sys, base64
PORT = int(sys.argv[1])
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE
def expect(r, code, enh=None):
    c, text = r
    text = text.decode() if isinstance(text, bytes) else text
    assert c == code, f"expected {code}, got {c} {text}"
    if enh is not None:
        assert text.startswith(enh), f"expected {enh}, got {c} {text}"
def raw(data, wait_for=None):
    """Writes everything at once (pipelining) and reads until the server closes or wait_for is seen."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    s.recv(4096)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
        if wait_for is not None and wait_for in out:
            break
    s.close()
    return out.decode()
"#;

/// Runs a Python script (after [`PRELUDE`]) with the port as its argument; panics with its
/// output if it fails. Returns its stdout.
pub async fn python(port: u16, script: &str) -> String {
    let program = format!("{PRELUDE}\n{script}");
    run_python(
        "python",
        python3().arg("-c").arg(&program).arg(port.to_string()),
    )
    .await
}

/// Runs `swaks` with `args`; returns (success, output).
pub async fn swaks(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("swaks")
        .args(args)
        .output()
        .await
        .expect("swaks must be installed (Debian package `swaks`) to run the SMTP tests");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

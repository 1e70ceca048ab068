//! Shared set-up of the IMAP tests: a fresh store with one customer, one domain and two
//! mailboxes (one with a 1 MB quota), and the IMAP service on 127.0.0.1:0, plain, with
//! STARTTLS or with implicit TLS over a self-signed certificate the clients can trust.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use marque_core::{Core, TenantId};
use marque_session::TlsConfig;
use marque_store::AccountId;
use marque_store::mail::{self, AppendOptions, Flags, PreparedMessage};
#[allow(unused_imports)] // Each test uses its own part.
pub use marque_tests::{Offer, TestCert, account, services::CERT_HOST};
use marque_tests::{Platform, Services};

pub const USER: &str = "ann@c.example";
pub use marque_tests::PASSWORD;
pub const QUOTA_USER: &str = "tiny@c.example";
pub const QUOTA_PASSWORD: &str = "small but mighty";

pub struct Server {
    pub port: u16,
    pub core: Core,
    pub customer: TenantId,
    _services: Services,
    _dir: tempfile::TempDir,
}

/// The server with STARTTLS offered when `tls` is given, plain otherwise.
pub async fn start(tls: Option<TlsConfig>) -> Server {
    start_with(match tls {
        Some(t) => Offer::StartTls(t),
        None => Offer::Plain,
    })
    .await
}

pub async fn start_with(tls: Offer) -> Server {
    start_with_policy(tls, marque_core::signin::SignInPolicy::default()).await
}

/// Starts a server whose core follows `policy` (the sign-in throttle, and the networks that
/// may sign in without TLS).
pub async fn start_with_policy(tls: Offer, policy: marque_core::signin::SignInPolicy) -> Server {
    start_configured(tls, policy, |h| h).await
}

/// The server with `policy`, and the handler `adjust` makes of the default one (other limits,
/// say).
pub async fn start_configured(
    tls: Offer,
    policy: marque_core::signin::SignInPolicy,
    adjust: impl FnOnce(marque_access::imap::Imap) -> marque_access::imap::Imap,
) -> Server {
    let platform = Platform::builder()
        .configure(move |core| core.with_sign_in_policy(policy))
        .customer("C")
        .domain("c.example")
        .mailbox_with(USER, PASSWORD, 100)
        .mailbox_with(QUOTA_USER, QUOTA_PASSWORD, 1)
        .build()
        .await;
    let customer = platform.tenant("C");
    let Platform { core, dir, .. } = platform;
    let service = match tls {
        Offer::Implicit(_) => "imaps",
        _ => "imap",
    };
    let services = Services::new(Duration::from_secs(1));
    let handler = adjust(marque_access::imap::Imap::new(&core, "imap.test"));
    let port = services
        .listen(service, tls, Arc::new(handler))
        .await
        .port();
    Server {
        port,
        core,
        customer,
        _services: services,
        _dir: dir,
    }
}

/// Delivers a message into INBOX the way delivery does: through `mail::append`.
pub async fn deliver(core: &Core, account: AccountId, raw: &[u8]) {
    let store = core.store().clone();
    let msg = PreparedMessage::new(&store, raw).expect("prepare");
    let charges = core.usage_charges(account).await.expect("charges");
    store
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
        .expect("deliver");
}

/// Delivers `n` messages into INBOX in one transaction; every third is `\Seen`, every fifth
/// `\Flagged`.
pub async fn deliver_many(core: &Core, account: AccountId, n: usize) {
    let store = core.store().clone();
    let mut prepared = Vec::with_capacity(n);
    for i in 0..n {
        let raw = format!(
            "From: sender{i}@example.org\r\nTo: {USER}\r\nSubject: message {i}\r\n\
             Message-ID: <m{i}@example.org>\r\n\r\nbody of message {i}\r\n"
        );
        let mut flags = Flags::empty();
        if i % 3 == 0 {
            flags = flags.union(Flags::SEEN);
        }
        if i % 5 == 0 {
            flags = flags.union(Flags::FLAGGED);
        }
        prepared.push((
            PreparedMessage::new(&store, raw.as_bytes()).expect("prepare"),
            flags,
        ));
    }
    let charges = core.usage_charges(account).await.expect("charges");
    store
        .transact(move |txn| {
            let inbox = mail::mailbox_by_name(txn, account, "INBOX")?.expect("INBOX");
            for (msg, flags) in &prepared {
                let opts = AppendOptions {
                    flags: *flags,
                    ..AppendOptions::default()
                };
                mail::append(txn, account, inbox.id, msg, &opts, &charges)?;
            }
            Ok::<_, marque_store::Error>(())
        })
        .await
        .expect("deliver");
}

/// One message of a folder as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub uid: u32,
    pub flags: Flags,
    pub subject: String,
}

/// The messages of folder `name` of `account`, read straight from the store, in UID order;
/// `None` when there is no such folder.
pub async fn folder(core: &Core, account: AccountId, name: &str) -> Option<Vec<Stored>> {
    let store = core.store().clone();
    let name = name.to_string();
    store
        .read(move |s| {
            let Some(m) = mail::mailbox_by_name(s, account, &name)? else {
                return Ok(None);
            };
            let mut messages = Vec::new();
            for (uid, r) in mail::messages(s, account, m.id, 1, usize::MAX)? {
                let subject = mail::message_meta(s, &r.blob)?
                    .and_then(|meta| meta.envelope.subject)
                    .unwrap_or_default();
                messages.push(Stored {
                    uid,
                    flags: r.flags,
                    subject,
                });
            }
            Ok(Some(messages))
        })
        .await
        .expect("read the store")
}

/// Runs `tests/imap/<script>` with Python 3 against the server on `port` as [`USER`] (from
/// that directory, so that it can import its neighbours) and fails the test unless it exits
/// successfully and prints `PASS`.
pub async fn python_client_passes(script: &str, port: u16) {
    let dir = format!("{}/tests/imap", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new("python3")
            .arg(format!("{dir}/{script}"))
            .args([port.to_string(), USER.into(), PASSWORD.into()])
            .current_dir(&dir)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the script finishes")
    .expect("python3 must be installed to run the IMAP client tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("PASS"),
        "{script}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

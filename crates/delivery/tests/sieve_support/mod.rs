//! What the Sieve delivery tests share: a real store with a customer, its domain and three
//! mailboxes, a recording outbox, and helpers to set scripts and read folders back.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use marque_core::{AccountId, Core, Recipient, TenantId};
use marque_delivery::{
    Delivery, DeliveryError, Environment, LocalRecipient, OutboundMessage, Outbox, RecipientResult,
    SieveConfig, SieveEngine, TransactionRecord,
};
use marque_hosting::Hosting;
use marque_store::{Txn, mail};
use marque_tests::Platform;

/// An outbox that remembers what it was given.
#[derive(Debug, Default)]
pub struct Recording {
    pub sent: Mutex<Vec<OutboundMessage>>,
}

impl Outbox for Recording {
    fn queue(&self, _txn: &mut Txn<'_>, msg: OutboundMessage) -> Result<(), DeliveryError> {
        self.sent.lock().unwrap().push(msg);
        Ok(())
    }
}

impl Recording {
    pub fn take(&self) -> Vec<OutboundMessage> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }
}

pub struct World {
    pub core: Core,
    /// The hosting features over `core` (global scripts).
    pub hosting: Hosting,
    pub customer: TenantId,
    pub outbox: Arc<Recording>,
    pub env: Environment,
    _dir: tempfile::TempDir,
}

pub async fn world() -> World {
    world_with(SieveConfig::default()).await
}

pub async fn world_with(config: SieveConfig) -> World {
    let platform = Platform::builder().mail_customer().build().await;
    let customer = platform.tenant("C");
    let Platform { core, dir, .. } = platform;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let outbox = Arc::new(Recording::default());
    let env = Environment {
        sieve: Arc::new(SieveEngine::new(config, "mx.c.example")),
        outbox: outbox.clone(),
        hostname: "mx.c.example".into(),
    };
    World {
        core,
        hosting,
        customer,
        outbox,
        env,
        _dir: dir,
    }
}

impl World {
    pub async fn local(&self, address: &str) -> LocalRecipient {
        match self.core.resolve_address(address).await.unwrap() {
            Some(Recipient::Mailbox {
                account, tenant, ..
            }) => LocalRecipient {
                address: address.into(),
                account,
                tenant,
            },
            other => panic!("{address} is not a mailbox: {other:?}"),
        }
    }

    pub async fn account(&self, address: &str) -> AccountId {
        self.local(address).await.account
    }

    /// Makes `text` the active script of `address`.
    pub async fn script(&self, address: &str, text: &str) {
        let account = self.account(address).await;
        let text = text.as_bytes().to_vec();
        self.core
            .store()
            .transact(move |txn| -> marque_store::Result<()> {
                marque_store::sieve::put(txn, account, "main", &text)?;
                marque_store::sieve::set_active(txn, account, Some("main"))
            })
            .await
            .unwrap();
    }

    /// Delivers a short message with `subject` from `x@remote.example` to `to` alone.
    pub async fn deliver_subject(
        &self,
        to: &str,
        subject: &str,
    ) -> (Vec<RecipientResult>, TransactionRecord) {
        let raw = message("x@remote.example", to, subject, "b");
        self.deliver(&raw, "x@remote.example", &[to]).await
    }

    /// Delivers `raw` from `sender` to `to` and returns the results and the record.
    pub async fn deliver(
        &self,
        raw: &[u8],
        sender: &str,
        to: &[&str],
    ) -> (Vec<RecipientResult>, TransactionRecord) {
        let mut recipients = Vec::new();
        for a in to {
            recipients.push(self.local(a).await);
        }
        marque_delivery::deliver(
            &self.core,
            &self.env,
            Delivery {
                raw: raw.to_vec(),
                sender: sender.into(),
                recipients,
                record: TransactionRecord {
                    when: 1_000,
                    direction: "inbound".into(),
                    client_ip: "192.0.2.7".into(),
                    sender: sender.into(),
                    ..TransactionRecord::default()
                },
                extra_owners: vec![],
            },
        )
        .await
        .expect("delivery")
    }

    /// The messages of folder `name` of `address` (empty if the folder does not exist), each
    /// with its content.
    pub async fn folder(&self, address: &str, name: &str) -> Vec<(mail::MessageRecord, String)> {
        let account = self.account(address).await;
        let s = self.core.store();
        let Some(f) = mail::mailbox_by_name(s, account, name).unwrap() else {
            return Vec::new();
        };
        mail::messages(s, account, f.id, 1, 1000)
            .unwrap()
            .into_iter()
            .map(|(_, m)| {
                let body = mail::message_body(s, &m.blob).unwrap().unwrap();
                (m, String::from_utf8_lossy(&body).into_owned())
            })
            .collect()
    }

    pub async fn folder_exists(&self, address: &str, name: &str) -> bool {
        let account = self.account(address).await;
        mail::mailbox_by_name(self.core.store(), account, name)
            .unwrap()
            .is_some()
    }
}

/// A plain message.
pub fn message(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@remote.example>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n",
        blake3::hash(format!("{from}{to}{subject}{body}").as_bytes()).to_hex()
    )
    .into_bytes()
}

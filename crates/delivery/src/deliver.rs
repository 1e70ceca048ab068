//! The durable write of a local delivery.
//!
//! Given the raw message (trace headers already prepended), the envelope sender and the
//! resolved local recipients, [`deliver`] stores the body once, appends it to each recipient's
//! INBOX with that recipient's quota charges, and writes the transaction log record — all in
//! one [`marque_store::Store::transact`], which resolves once the batch is durable. A recipient
//! over quota gets [`RecipientResult::OverQuota`] and does not stop the others: `mail::append`
//! checks every charge before it writes, so a refused recipient leaves nothing behind.

use std::collections::BTreeSet;

use marque_core::outbound::QueuedMessage;
use marque_core::quota::usage_charges_txn;
use marque_core::{AccountId, Actor, Core, CoreError, TenantId};
use marque_store::logs::{self, LogKind, Term};
use marque_store::mail::{self, AppendOptions, PreparedMessage};
use tracing::instrument;

use crate::record::{Outcome, RecipientRecord, TransactionRecord};

/// A resolved local recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRecipient {
    /// The address the message is delivered under (for the log).
    pub address: String,
    pub account: AccountId,
    /// The mailbox's tenant (whose log, and whose ancestors' logs, get the record).
    pub tenant: TenantId,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientResult {
    /// Stored in INBOX under this UID.
    Delivered { uid: u32 },
    /// A quota (mailbox, domain or pool) would be passed; nothing was stored for it.
    OverQuota { reason: String },
    /// The recipient's mail state is missing or unreadable.
    Failed { reason: String },
}

impl RecipientResult {
    /// The outcome and reason as the log records them.
    pub fn as_log(&self) -> (Outcome, String) {
        match self {
            RecipientResult::Delivered { .. } => (Outcome::Delivered, String::new()),
            RecipientResult::OverQuota { reason } => {
                (Outcome::Rejected, format!("over quota: {reason}"))
            }
            RecipientResult::Failed { reason } => (Outcome::Deferred, reason.clone()),
        }
    }
}

/// One local delivery.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The message as stored (with `Return-Path:` and `Received:` prepended).
    pub raw: Vec<u8>,
    /// The envelope sender (empty: the null sender).
    pub sender: String,
    pub recipients: Vec<LocalRecipient>,
    /// The transaction record to write with the delivery; the outcome of each local recipient
    /// is appended to its `recipients` inside the transaction. Recipients refused earlier (at
    /// RCPT) may already be listed.
    pub record: TransactionRecord,
    /// Tenants that read the record besides the recipients' chains (the sender's, when
    /// authenticated; the provider when nobody else).
    pub extra_owners: Vec<TenantId>,
}

/// Why a delivery failed as a whole (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("store: {0}")]
    Store(#[from] marque_store::Error),
    #[error("directory: {0}")]
    Core(#[from] CoreError),
    #[error("encoding the log record: {0}")]
    Encode(String),
}

/// The tenant chains (root first) of `tenants`, merged.
pub async fn owners_of(
    core: &Core,
    tenants: impl IntoIterator<Item = TenantId>,
) -> Result<Vec<TenantId>, DeliveryError> {
    let op = Actor::operator();
    let mut out = BTreeSet::new();
    let unique: BTreeSet<TenantId> = tenants.into_iter().collect();
    for t in unique {
        out.extend(core.get_tenant(&op, t).await?.path);
    }
    Ok(out.into_iter().collect())
}

/// Writes the transaction record alone (a transaction in which nothing was delivered).
pub async fn record_only(
    core: &Core,
    record: TransactionRecord,
    owner_tenants: Vec<TenantId>,
) -> Result<(), DeliveryError> {
    let owners = owners_or_provider(owners_of(core, owner_tenants).await?);
    core.store()
        .transact(move |txn| -> Result<(), DeliveryError> {
            write_record(txn, &owners, &record)?;
            Ok(())
        })
        .await
}

fn owners_or_provider(owners: Vec<TenantId>) -> Vec<TenantId> {
    if owners.is_empty() {
        vec![marque_core::PROVIDER]
    } else {
        owners
    }
}

fn write_record(
    txn: &mut marque_store::Txn<'_>,
    owners: &[TenantId],
    record: &TransactionRecord,
) -> Result<u64, DeliveryError> {
    let body = serde_json::to_vec(record).map_err(|e| DeliveryError::Encode(e.to_string()))?;
    let client = record.client_ip.clone();
    let sender = record.sender.to_ascii_lowercase();
    let mut terms: Vec<(Term, String)> = vec![(Term::Ip, client)];
    if !sender.is_empty() {
        terms.push((Term::Address, sender));
    }
    for r in &record.recipients {
        let a = r.address.to_ascii_lowercase();
        if !terms.iter().any(|(t, v)| *t == Term::Address && *v == a) {
            terms.push((Term::Address, a));
        }
    }
    if let Some(id) = &record.message_id {
        terms.push((Term::MessageId, id.clone()));
    }
    let terms: Vec<(Term, &str)> = terms.iter().map(|(t, v)| (*t, v.as_str())).collect();
    Ok(logs::append(
        txn,
        owners,
        LogKind::Transaction,
        record.when,
        &terms,
        &body,
    )?)
}

/// Delivers to every local recipient in one durable transaction and returns each recipient's
/// result, in order, with the record as written.
pub async fn deliver(
    core: &Core,
    delivery: Delivery,
) -> Result<(Vec<RecipientResult>, TransactionRecord), DeliveryError> {
    deliver_and_queue(core, delivery, None).await
}

/// As [`deliver`], and in the same durable write puts `outbound` (the remote recipients) in
/// the outbound queue with the same body; each of them is recorded as queued.
#[instrument(skip_all, fields(recipients = delivery.recipients.len(), size = delivery.raw.len()))]
pub async fn deliver_and_queue(
    core: &Core,
    delivery: Delivery,
    outbound: Option<QueuedMessage>,
) -> Result<(Vec<RecipientResult>, TransactionRecord), DeliveryError> {
    let Delivery {
        raw,
        sender: _,
        recipients,
        mut record,
        extra_owners,
    } = delivery;
    let owners = owners_or_provider(
        owners_of(
            core,
            recipients
                .iter()
                .map(|r| r.tenant)
                .chain(extra_owners.iter().copied()),
        )
        .await?,
    );
    // Hashing, compression and parsing are CPU work: off the async workers, before the write.
    let store = core.store().clone();
    let prepared = tokio::task::spawn_blocking(move || PreparedMessage::new(&store, &raw))
        .await
        .map_err(|e| marque_store::Error::Aborted(e.to_string()))??;
    if record.size == 0 {
        record.size = prepared.size();
    }
    if record.message_id.is_none() {
        record.message_id = prepared.meta.envelope.message_id.clone();
    }
    core.store()
        .transact(move |txn| -> Result<_, DeliveryError> {
            let mut results = Vec::with_capacity(recipients.len());
            for r in &recipients {
                let result = deliver_one(txn, r.account, &prepared)?;
                let (outcome, reason) = result.as_log();
                record.recipients.push(RecipientRecord {
                    address: r.address.clone(),
                    outcome,
                    reason,
                });
                results.push(result);
            }
            if let Some(mut m) = outbound {
                if m.message_id.is_none() {
                    m.message_id = record.message_id.clone();
                }
                for r in &m.recipients {
                    record.recipients.push(RecipientRecord {
                        address: r.address.clone(),
                        outcome: Outcome::Queued,
                        reason: String::new(),
                    });
                }
                marque_core::outbound::queue_message(txn, m, &prepared.blob)?;
            }
            write_record(txn, &owners, &record)?;
            Ok((results, record))
        })
        .await
}

fn deliver_one(
    txn: &mut marque_store::Txn<'_>,
    account: AccountId,
    msg: &PreparedMessage,
) -> Result<RecipientResult, DeliveryError> {
    let Some(inbox) = mail::mailbox_by_name(txn, account, "INBOX")? else {
        return Ok(RecipientResult::Failed {
            reason: format!("account {account} has no INBOX"),
        });
    };
    let charges = usage_charges_txn(txn, account)?;
    match mail::append(
        txn,
        account,
        inbox.id,
        msg,
        &AppendOptions::default(),
        &charges,
    ) {
        Ok(a) => Ok(RecipientResult::Delivered { uid: a.uid }),
        // Nothing was written for this recipient: the limits are checked before any write.
        Err(marque_store::Error::LimitExceeded { counter, .. }) => {
            Ok(RecipientResult::OverQuota { reason: counter })
        }
        Err(e) => Err(e.into()),
    }
}

//! The durable write of a local delivery.
//!
//! Given the raw message (trace headers already prepended), the envelope sender and the
//! resolved local recipients, [`deliver`] first runs each recipient's Sieve scripts (reading
//! them and what they ask about from the store), then writes everything they decided — the
//! body once per distinct content, each recipient's copies with their folders, flags and quota
//! charges, the messages handed to the [`Outbox`], the ids remembered for `duplicate` and
//! `vacation`, and the transaction log record — in one [`marque_store::Store::transact`], which
//! resolves once the batch is durable. A recipient over quota gets
//! [`RecipientResult::OverQuota`] and does not stop the others: `mail::append` checks every
//! charge before it writes, so a refused recipient leaves nothing behind.

use std::collections::BTreeSet;
use std::sync::Arc;

use marque_core::{AccountId, Actor, Core, CoreError, TenantId};
use marque_hosting::outbound::QueuedMessage;
use marque_store::logs::{self, LogKind, Term};
use tracing::{instrument, warn};

use crate::outbox::{NoOutbox, Outbox};
use crate::record::{Outcome, RecipientRecord, TransactionRecord};
use crate::sieve::SieveEngine;

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
    /// A Sieve `reject` or `ereject` (RFC 5429): nothing stored. The SMTP session answers
    /// `550 5.7.1 <reason>` when every recipient rejected; otherwise a DSN was queued.
    Rejected { reason: String },
    /// A Sieve `discard`: accepted, nothing stored.
    Discarded,
    /// Sieve `redirect` only: accepted and queued to these addresses, nothing stored.
    Redirected { to: Vec<String> },
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
            RecipientResult::Rejected { reason } => {
                (Outcome::Rejected, format!("rejected by Sieve: {reason}"))
            }
            RecipientResult::Discarded => (Outcome::Delivered, "discarded by Sieve".into()),
            RecipientResult::Redirected { to } => (
                Outcome::Queued,
                format!("redirected by Sieve to {}", to.join(", ")),
            ),
        }
    }

    /// True if the message was taken care of for this recipient (stored, discarded or
    /// redirected): the SMTP session may answer 250.
    pub fn is_accepted(&self) -> bool {
        matches!(
            self,
            RecipientResult::Delivered { .. }
                | RecipientResult::Discarded
                | RecipientResult::Redirected { .. }
        )
    }
}

/// What delivery works with besides the core: the Sieve engine and the outbound queue.
#[derive(Clone)]
pub struct Environment {
    pub sieve: Arc<SieveEngine>,
    pub outbox: Arc<dyn Outbox>,
    /// The server's name, in the DSN of a `reject`.
    pub hostname: String,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("sieve", &self.sieve)
            .field("hostname", &self.hostname)
            .finish()
    }
}

impl Default for Environment {
    /// Default limits and no outbound queue ([`NoOutbox`]).
    fn default() -> Self {
        Environment {
            sieve: Arc::new(SieveEngine::default()),
            outbox: Arc::new(NoOutbox),
            hostname: "localhost".into(),
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
    /// The outbox cannot take messages (no outbound queue); handled per action.
    #[error("outbound queue unavailable: {0}")]
    OutboxUnavailable(String),
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
///
/// When some but not all recipients rejected the message with Sieve, a DSN for them goes to
/// the envelope sender through the outbox; when all did, nothing is queued and the caller (the
/// SMTP session, still open) refuses the message instead.
pub async fn deliver(
    core: &Core,
    env: &Environment,
    delivery: Delivery,
) -> Result<(Vec<RecipientResult>, TransactionRecord), DeliveryError> {
    deliver_and_queue(core, env, delivery, None).await
}

/// As [`deliver`], and in the same durable write puts `outbound` (the remote recipients) in
/// the outbound queue with the same body; each of them is recorded as queued.
#[instrument(skip_all, fields(recipients = delivery.recipients.len(), size = delivery.raw.len()))]
pub async fn deliver_and_queue(
    core: &Core,
    env: &Environment,
    delivery: Delivery,
    outbound: Option<QueuedMessage>,
) -> Result<(Vec<RecipientResult>, TransactionRecord), DeliveryError> {
    let Delivery {
        raw,
        sender,
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
    let scripts = crate::sieve::load::chains(core, &recipients).await?;
    // Running scripts, hashing, compression and parsing are CPU work: off the async workers,
    // before the write.
    let store = core.store().clone();
    let engine = env.sieve.clone();
    let evaluated = {
        let recipients = recipients.clone();
        let sender = sender.clone();
        tokio::task::spawn_blocking(move || {
            crate::sieve::load::evaluate(&engine, &store, &recipients, &sender, scripts, raw)
        })
        .await
        .map_err(|e| marque_store::Error::Aborted(e.to_string()))??
    };
    if record.size == 0 {
        record.size = evaluated.original().size();
    }
    if record.message_id.is_none() {
        record.message_id = evaluated.original().meta.envelope.message_id.clone();
    }
    for (r, plan) in recipients.iter().zip(&evaluated.plans) {
        if let Some(error) = &plan.error {
            warn!(recipient = %r.address, account = %r.account, %error, "Sieve script failed; delivered to INBOX");
        }
    }
    let outbox = env.outbox.clone();
    let hostname = env.hostname.clone();
    core.store()
        .transact(move |txn| -> Result<_, DeliveryError> {
            let mut results = Vec::with_capacity(recipients.len());
            for (i, r) in recipients.iter().enumerate() {
                let plan = &evaluated.plans[i];
                let prepared = evaluated.prepared_for(i);
                let (result, notes) =
                    crate::sieve::apply::apply(txn, outbox.as_ref(), r, plan, &prepared)?;
                let (mut outcome, mut reason) = result.as_log();
                if outcome == Outcome::Delivered && record.auth.as_ref().is_some_and(|a| a.junk) {
                    outcome = Outcome::Junk;
                    reason = join("DMARC policy quarantine", &reason);
                }
                if let Some(error) = &plan.error {
                    reason = join(
                        &format!("Sieve script failed ({error}); filed in INBOX"),
                        &reason,
                    );
                }
                for n in &notes {
                    reason = join(&reason, n);
                }
                record.recipients.push(RecipientRecord {
                    address: r.address.clone(),
                    outcome,
                    reason,
                });
                results.push(result);
            }
            crate::sieve::load::bounce_rejected(
                txn,
                outbox.as_ref(),
                &hostname,
                &sender,
                &recipients,
                &results,
                evaluated.original_raw(),
            )?;
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
                marque_hosting::outbound::queue_message(txn, m, &evaluated.original().blob)?;
            }
            write_record(txn, &owners, &record)?;
            Ok((results, record))
        })
        .await
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}; {b}"),
    }
}

//! The outbound queue's messages: what a queued message is, how it enters the queue inside the
//! caller's transaction, and how workers claim it, record each remote answer and finish it.
//!
//! The store's queue ([`marque_store::queue`]) keeps opaque payloads ordered by due time; this
//! module gives them their meaning. A [`QueuedMessage`] holds the envelope (sender, each
//! recipient with its state, the RFC 3461 parameters), a reference on the body blob, its owner
//! (for scoping and for the source address it is sent from) and its schedule.
//!
//! Durability rules the order of things: [`queue_message`] writes in the transaction that
//! stores the body and answers the client, so a `250` always means the entry is on disk;
//! workers claim entries with a lease in the store ([`claim_due`]: its holder is the node and
//! its incarnation) so that a crashed worker's entries come back and no two processes deliver
//! one entry at once; a recipient the remote side accepted is marked
//! [`RcptStatus::Delivered`] in its own durable write ([`mark_delivered`]) before anything else
//! happens, so it is never sent twice; and both that write and the attempt's outcome
//! ([`finish_attempt`]) are made only while the worker's lease holds.
//!
//! # Layout
//! - this file: the model and the worker-side operations.
//! - `admin`: list, show, retry and delete for principals, through [`marque_core::policy::authorize`].
//! - `identity`: the source address and EHLO name of a tenant or a domain.

mod admin;
mod identity;

use serde::{Deserialize, Serialize};

use marque_store::blob::{self, BlobHash, PreparedBlob};
use marque_store::lease::Holder;
use marque_store::{Txn, queue};

use marque_core::directory::Reader;
use marque_core::error::{CoreError, Result};
use marque_core::ids::TenantId;

pub use admin::QueueItem;
pub use identity::{IdentityOf, OutboundIdentity, outbound_identity};

/// Why a message is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Submitted by a user for a remote recipient.
    Relay,
    /// Forwarded by a Sieve `redirect` or an alias to a remote address.
    Redirect,
    /// A Sieve vacation reply.
    Vacation,
    /// A delivery status notification (RFC 3464); its sender is always `<>`.
    Bounce,
}

/// Where one recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RcptStatus {
    Pending,
    /// The remote side accepted it (a 2xx after the content).
    Delivered,
    /// Refused for good (5xx) or given up after the maximum age.
    Failed,
}

/// `RET=` of MAIL FROM (RFC 3461 §4.3): how much of the message a DSN returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ret {
    Full,
    Hdrs,
}

/// `NOTIFY=` of RCPT TO (RFC 3461 §4.1). `never` excludes the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub never: bool,
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

impl Notify {
    /// Whether a failure DSN is wanted: asked for, or NOTIFY absent (RFC 3461 §4.1 leaves the
    /// default to the MTA; failures are always reported then).
    pub fn wants_failure(notify: Option<Notify>) -> bool {
        notify.is_none_or(|n| n.failure)
    }

    /// Whether a success DSN is wanted (only when asked for explicitly).
    pub fn wants_success(notify: Option<Notify>) -> bool {
        notify.is_some_and(|n| n.success)
    }

    /// Whether a delay DSN is wanted (only when asked for explicitly).
    pub fn wants_delay(notify: Option<Notify>) -> bool {
        notify.is_some_and(|n| n.delay)
    }

    /// The parameter value as it is sent on: `NEVER` or `SUCCESS,FAILURE,DELAY`.
    pub fn to_param(self) -> String {
        if self.never {
            return "NEVER".into();
        }
        let mut parts = Vec::new();
        if self.success {
            parts.push("SUCCESS");
        }
        if self.failure {
            parts.push("FAILURE");
        }
        if self.delay {
            parts.push("DELAY");
        }
        parts.join(",")
    }
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedRecipient {
    pub address: String,
    pub status: RcptStatus,
    /// Delivery attempts that reached this recipient (connection failures included).
    pub attempts: u32,
    /// The last answer or error, as the DSN and the queue listing show it.
    pub last_reply: String,
    /// The remote host that gave the last answer, if any.
    #[serde(default)]
    pub remote_host: Option<String>,
    pub notify: Option<Notify>,
    /// `ORCPT=` as given (`rfc822;xtext`).
    pub orcpt: Option<String>,
    /// A "delayed" DSN was sent for it (RFC 3461 `NOTIFY=DELAY`: one per recipient).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delay_reported: bool,
}

impl QueuedRecipient {
    /// A pending recipient.
    pub fn new(address: impl Into<String>) -> Self {
        QueuedRecipient {
            address: address.into(),
            status: RcptStatus::Pending,
            attempts: 0,
            last_reply: String::new(),
            remote_host: None,
            notify: None,
            orcpt: None,
            delay_reported: false,
        }
    }

    /// The domain part, lowercased.
    pub fn domain(&self) -> String {
        self.address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// A message in the outbound queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    pub kind: Kind,
    /// The envelope sender; empty for the null sender (DSNs).
    pub sender: String,
    pub recipients: Vec<QueuedRecipient>,
    pub ret: Option<Ret>,
    /// `ENVID=` as given (xtext).
    pub envid: Option<String>,
    /// The body; the entry holds one reference on it.
    pub blob: BlobHash,
    pub size: u64,
    pub message_id: Option<String>,
    /// The owning tenant: who sees the entry, and whose source address it leaves from.
    pub tenant: TenantId,
    /// The sender's domain when it is one of ours (its source address comes first).
    pub domain: Option<String>,
    pub created_ms: u64,
    /// Delivery attempts of the whole message.
    pub attempts: u32,
}

impl QueuedMessage {
    /// A message of `kind` from `sender` (empty: `<>`) to `recipients`, owned by `tenant`; the
    /// sender's domain is noted for the source address. The body is set by [`queue_message`],
    /// the DSN parameters by the caller.
    pub fn new(
        kind: Kind,
        sender: impl Into<String>,
        recipients: Vec<QueuedRecipient>,
        tenant: TenantId,
    ) -> Self {
        let sender = sender.into();
        let domain = sender.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        QueuedMessage {
            kind,
            sender,
            recipients,
            ret: None,
            envid: None,
            blob: BlobHash([0; 32]),
            size: 0,
            message_id: None,
            tenant,
            domain,
            created_ms: 0,
            attempts: 0,
        }
    }

    /// The recipients still to deliver.
    pub fn pending(&self) -> impl Iterator<Item = &QueuedRecipient> {
        self.recipients
            .iter()
            .filter(|r| r.status == RcptStatus::Pending)
    }

    /// True once no recipient is pending.
    pub fn is_done(&self) -> bool {
        self.pending().next().is_none()
    }

    fn encode(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| CoreError::Task(format!("queue entry: {e}")))
    }

    fn decode(id: u64, bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| {
            CoreError::Store(marque_store::Error::Corrupt {
                keyspace: marque_store::Keyspace::Queue,
                reason: format!("queue entry {id}: {e}"),
            })
        })
    }
}

/// A message a worker holds: its id and content as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: u64,
    pub message: QueuedMessage,
}

/// Puts `message` in the queue inside the caller's transaction, due now: stores the body if it
/// is not yet stored and takes a reference on it. Returns the entry id.
pub fn queue_message(
    txn: &mut Txn<'_>,
    mut message: QueuedMessage,
    body: &PreparedBlob,
) -> Result<u64> {
    if message.recipients.is_empty() {
        return Err(CoreError::invalid(
            "recipients",
            "a queued message needs one",
        ));
    }
    if message.kind == Kind::Bounce && !message.sender.is_empty() {
        return Err(CoreError::invalid("sender", "a DSN is sent from <>"));
    }
    message.blob = body.hash;
    message.size = body.size;
    blob::acquire(txn, body)?;
    let now = marque_store::now_ms();
    if message.created_ms == 0 {
        message.created_ms = now;
    }
    Ok(queue::enqueue(txn, now, message.encode()?)?)
}

/// Reads one entry.
pub fn get(r: &impl Reader, id: u64) -> Result<Option<(u64, QueuedMessage)>> {
    match queue::get(r, id)? {
        Some(e) => Ok(Some((e.due_ms, QueuedMessage::decode(id, &e.payload)?))),
        None => Ok(None),
    }
}

/// Claims for `holder` up to `limit` entries due at `now_ms`, each under a lease of
/// `lease_ms` ([`queue::claim_due`]): no other worker, in this process or another, sees them
/// while the lease holds, and if the holder's process dies they come back when it runs out.
pub fn claim_due(
    txn: &mut Txn<'_>,
    now_ms: u64,
    holder: &Holder,
    lease_ms: u64,
    limit: usize,
) -> Result<Vec<Claimed>> {
    queue::claim_due(txn, now_ms, holder, lease_ms, limit)?
        .into_iter()
        .map(|e| {
            Ok(Claimed {
                id: e.id,
                message: QueuedMessage::decode(e.id, &e.payload)?,
            })
        })
        .collect()
}

/// Among up to `limit` leased entries after `after_id`, makes those that earlier runs of
/// `holder`'s node held due at `now_ms`; returns the last id looked at (`None` at the end of
/// the leases) and how many were handed back ([`queue::release_stale`]).
///
/// Run when the workers start: an earlier run of this node ended (a crash, SIGKILL) and its
/// attempts will never finish. Without this, their messages would wait for the lease to run
/// out (`[outbound]`, 30 minutes). Other nodes' leases are theirs, live or not.
pub fn release_leases(
    txn: &mut Txn<'_>,
    holder: &Holder,
    after_id: Option<u64>,
    limit: usize,
    now_ms: u64,
) -> Result<(Option<u64>, usize)> {
    Ok(queue::release_stale(txn, holder, after_id, limit, now_ms)?)
}

/// The remote side accepted these recipients: marks them delivered (with the reply) in the
/// caller's transaction, if `holder` still holds the entry's lease. Written before anything
/// else that follows the reply, so that a crash never sends to them again. Recipients not
/// pending are left alone. `None`: the lease was lost (another process took the entry after
/// it ran out), nothing is written, and that process delivers the entry again.
pub fn mark_delivered(
    txn: &mut Txn<'_>,
    id: u64,
    holder: &Holder,
    addresses: &[String],
    reply: &str,
    host: &str,
) -> Result<Option<QueuedMessage>> {
    let (due, mut m) = get(txn, id)?.ok_or_else(|| CoreError::not_found("queue entry", id))?;
    if !queue::holds(txn, id, holder)? {
        return Ok(None);
    }
    for r in m.recipients.iter_mut() {
        if r.status == RcptStatus::Pending && addresses.iter().any(|a| a == &r.address) {
            r.status = RcptStatus::Delivered;
            r.last_reply = reply.to_string();
            r.remote_host = Some(host.to_string());
        }
    }
    queue::reschedule(txn, id, due, Some(m.encode()?))?;
    Ok(Some(m))
}

/// What [`finish_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The outcome is saved and the lease given back.
    Saved,
    /// The entry was deleted meanwhile (by an administrator): nothing to save.
    Gone,
    /// Another process took the entry after the lease ran out: the outcome is dropped.
    LeaseLost,
}

/// Saves a message after an attempt, if `holder` still holds its lease: still pending
/// recipients wait until `next_ms`; once none is pending the entry goes and its body reference
/// is released. The lease is given back with it.
pub fn finish_attempt(
    txn: &mut Txn<'_>,
    id: u64,
    holder: &Holder,
    message: &QueuedMessage,
    next_ms: u64,
) -> Result<Finished> {
    if queue::get(txn, id)?.is_none() {
        return Ok(Finished::Gone);
    }
    if !queue::holds(txn, id, holder)? {
        return Ok(Finished::LeaseLost);
    }
    if message.is_done() {
        remove(txn, id)?;
    } else {
        queue::reschedule(txn, id, next_ms, Some(message.encode()?))?;
        queue::release(txn, id, holder)?;
    }
    Ok(Finished::Saved)
}

/// Removes an entry and releases its body; returns what it held.
pub fn remove(txn: &mut Txn<'_>, id: u64) -> Result<Option<QueuedMessage>> {
    let Some(e) = queue::remove(txn, id)? else {
        return Ok(None);
    };
    let m = QueuedMessage::decode(id, &e.payload)?;
    blob::release(txn, &m.blob)?;
    Ok(Some(m))
}

/// The delay before attempt `attempts + 1`: `initial · factor^(attempts-1)`, at most `cap`.
pub fn backoff_ms(attempts: u32, initial_ms: u64, factor: f64, cap_ms: u64) -> u64 {
    let exp = attempts.saturating_sub(1).min(64) as i32;
    let delay = (initial_ms as f64) * factor.max(1.0).powi(exp);
    if delay.is_finite() && delay < cap_ms as f64 {
        delay as u64
    } else {
        cap_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1, 60_000, 2.0, 3_600_000), 60_000);
        assert_eq!(backoff_ms(2, 60_000, 2.0, 3_600_000), 120_000);
        assert_eq!(backoff_ms(4, 60_000, 2.0, 3_600_000), 480_000);
        assert_eq!(backoff_ms(40, 60_000, 2.0, 3_600_000), 3_600_000);
    }

    #[test]
    fn notify_parameters() {
        let n = Notify {
            success: true,
            failure: true,
            ..Notify::default()
        };
        assert_eq!(n.to_param(), "SUCCESS,FAILURE");
        assert!(Notify::wants_failure(None));
        assert!(!Notify::wants_failure(Some(Notify {
            never: true,
            ..Notify::default()
        })));
        assert!(!Notify::wants_success(None));
    }
}

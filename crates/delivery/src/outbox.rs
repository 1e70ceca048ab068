//! Where delivery hands the mail it creates: redirects, vacation replies and delivery status
//! notifications. The outbound queue implements [`Outbox`]; delivery only depends on the trait,
//! so that the queue entry is written in the same durable batch as the delivery itself.

use marque_core::TenantId;

use crate::deliver::DeliveryError;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundKind {
    /// A Sieve `redirect` (RFC 5228 §4.2): the message, unchanged apart from a loop header.
    Redirect,
    /// A Sieve `vacation` reply (RFC 5230).
    Vacation,
    /// A delivery status notification (RFC 3464), e.g. for a Sieve `reject`.
    Bounce,
}

/// One message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The envelope sender; empty for the null sender `<>`.
    pub from: String,
    pub to: Vec<String>,
    /// The whole message, headers included.
    pub raw: Vec<u8>,
    pub kind: OutboundKind,
    /// The tenant the message is sent for (its queue, limits and logs).
    pub tenant: TenantId,
}

/// The outbound queue as delivery sees it.
///
/// `queue` runs inside the delivery's [`marque_store::Store::transact`] closure: it must only
/// write through `txn`, so that the queued message becomes durable together with the delivery
/// that caused it, or not at all. Local recipients are queued too: the queue delivers them.
pub trait Outbox: Send + Sync {
    fn queue(
        &self,
        txn: &mut marque_store::Txn<'_>,
        msg: OutboundMessage,
    ) -> Result<(), DeliveryError>;
}

/// An outbox for a server without an outbound queue: every message is refused with
/// [`DeliveryError::OutboxUnavailable`], which delivery treats per action (a redirect that
/// cannot be queued keeps the message instead, a vacation reply is skipped) so that no mail is
/// lost.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOutbox;

impl Outbox for NoOutbox {
    fn queue(
        &self,
        _txn: &mut marque_store::Txn<'_>,
        msg: OutboundMessage,
    ) -> Result<(), DeliveryError> {
        Err(DeliveryError::OutboxUnavailable(format!(
            "no outbound queue for a {:?} to {}",
            msg.kind,
            msg.to.join(", ")
        )))
    }
}

/// The outbound queue ([`marque_hosting::outbound`]) as an [`Outbox`]: each message becomes a
/// queue entry in the delivery's own transaction, with its body stored (once per content) and
/// referenced by the entry. The queue's workers deliver remote recipients by MX and local ones
/// into their mailboxes.
#[derive(Debug, Clone, Default)]
pub struct QueueOutbox {
    /// Bodies this size or larger are compressed, as the store does for delivered mail.
    compress_threshold: usize,
    compress_level: i32,
}

impl QueueOutbox {
    /// An outbox that stores bodies with `store`'s compression settings.
    pub fn new(store: &marque_store::Store) -> Self {
        let o = store.options();
        QueueOutbox {
            compress_threshold: o.compress_threshold,
            compress_level: o.compress_level,
        }
    }
}

impl Outbox for QueueOutbox {
    fn queue(
        &self,
        txn: &mut marque_store::Txn<'_>,
        msg: OutboundMessage,
    ) -> Result<(), DeliveryError> {
        use marque_hosting::outbound::{Kind, QueuedMessage, QueuedRecipient, queue_message};
        let body = marque_store::blob::PreparedBlob::with(
            &msg.raw,
            self.compress_threshold,
            self.compress_level,
        )?;
        let kind = match msg.kind {
            OutboundKind::Redirect => Kind::Redirect,
            OutboundKind::Vacation => Kind::Vacation,
            OutboundKind::Bounce => Kind::Bounce,
        };
        let recipients = msg.to.into_iter().map(QueuedRecipient::new).collect();
        let queued = QueuedMessage::new(kind, msg.from, recipients, msg.tenant);
        queue_message(txn, queued, &body)?;
        Ok(())
    }
}

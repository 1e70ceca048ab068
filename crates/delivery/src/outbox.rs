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

//! In-process notifications of committed changes, for IMAP IDLE and friends.
//!
//! Events are published only after the change they describe is durable. Each account has its
//! own broadcast channel, created when the first session subscribes and dropped when the last
//! one goes; a slow subscriber that falls behind is told so (`Lagged`) and re-reads state.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::ids::{AccountId, MailboxId};

/// Capacity of one account's channel before slow receivers start lagging.
const CHANNEL_CAPACITY: usize = 256;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// New messages arrived (APPEND, delivery, COPY, MOVE).
    Appended,
    /// Flags or keywords changed.
    FlagsChanged,
    /// Messages were expunged.
    Expunged,
    /// A mailbox was created, renamed or deleted.
    MailboxesChanged,
}

/// A committed change in one mailbox of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub kind: EventKind,
    /// The mailbox's HIGHESTMODSEQ after the change.
    pub modseq: u64,
}

/// Fan-out of events to subscribers, per account.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    channels: Arc<Mutex<HashMap<AccountId, broadcast::Sender<Event>>>>,
}

impl Notifier {
    /// Receives every future event of `account`.
    pub fn subscribe(&self, account: AccountId) -> broadcast::Receiver<Event> {
        let mut map = self.channels.lock();
        map.entry(account)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    pub(crate) fn publish(&self, event: Event) {
        let mut map = self.channels.lock();
        // A send error means nobody listens any more.
        if let Some(tx) = map.get(&event.account)
            && tx.send(event).is_err()
        {
            map.remove(&event.account);
        }
    }
}

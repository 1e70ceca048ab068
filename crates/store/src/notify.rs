//! Notifications of committed changes, for IMAP IDLE and friends.
//!
//! Events are published only after the change they describe is durable. Each account has its
//! own broadcast channel, created when the first session subscribes and dropped when the last
//! one goes; a slow subscriber that falls behind is told so (`Lagged`) and re-reads state.
//!
//! # Across processes
//! On a backend that several processes share (PostgreSQL), the events of a group commit also
//! travel to the other processes ([`crate::Backend::listen`]): the committing transaction sends
//! them with `NOTIFY` before `COMMIT`, so they go out if and only if the change is committed,
//! and each process's listener connection publishes the other processes' events here.
//!
//! Correctness never depends on a notification arriving: a listener whose connection dies
//! reconnects, and meanwhile, and always as a fallback, [`poll`] re-reads the HIGHESTMODSEQ of
//! every folder of every account someone is subscribed to, every few seconds and at once after
//! each (re)connection, and publishes [`EventKind::Changed`] for every folder that moved past
//! what its subscribers were last told. A subscriber that receives it re-reads the folder, as
//! after any other event.

pub mod poll;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
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
    /// The mailbox changed in a way only a re-read tells (found by polling, when the event
    /// that described the change did not arrive).
    Changed,
}

impl EventKind {
    /// One letter for the kind, in the notifications that travel between processes.
    pub(crate) fn code(self) -> char {
        match self {
            EventKind::Appended => 'a',
            EventKind::FlagsChanged => 'f',
            EventKind::Expunged => 'x',
            EventKind::MailboxesChanged => 'm',
            EventKind::Changed => 'c',
        }
    }

    /// The kind of a letter [`EventKind::code`] wrote.
    pub(crate) fn from_code(code: char) -> Option<EventKind> {
        Some(match code {
            'a' => EventKind::Appended,
            'f' => EventKind::FlagsChanged,
            'x' => EventKind::Expunged,
            'm' => EventKind::MailboxesChanged,
            'c' => EventKind::Changed,
            _ => return None,
        })
    }
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

/// One account's channel, and the HIGHESTMODSEQ of each folder its subscribers were last told.
#[derive(Debug)]
struct Channel {
    tx: broadcast::Sender<Event>,
    told: HashMap<MailboxId, u64>,
    /// False until [`poll`] has read the account's folders once.
    polled: bool,
}

#[derive(Debug, Default)]
struct Shared {
    channels: Mutex<HashMap<AccountId, Channel>>,
    /// Set when subscribers must be brought up to date at once (a listener (re)connected).
    resync: Mutex<bool>,
    wake: Condvar,
}

/// Fan-out of events to subscribers, per account.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    shared: Arc<Shared>,
}

impl Notifier {
    /// Receives every future event of `account`.
    pub fn subscribe(&self, account: AccountId) -> broadcast::Receiver<Event> {
        let mut map = self.shared.channels.lock();
        map.entry(account)
            .or_insert_with(|| Channel {
                tx: broadcast::channel(CHANNEL_CAPACITY).0,
                told: HashMap::new(),
                polled: false,
            })
            .tx
            .subscribe()
    }

    /// Hands `event` to the subscribers of its account, if any.
    pub(crate) fn publish(&self, event: Event) {
        let mut map = self.shared.channels.lock();
        let Some(channel) = map.get_mut(&event.account) else {
            return;
        };
        let told = channel.told.entry(event.mailbox).or_insert(0);
        *told = (*told).max(event.modseq);
        // A send error means nobody listens any more.
        if channel.tx.send(event).is_err() {
            map.remove(&event.account);
        }
    }

    /// The accounts someone is subscribed to (forgetting those nobody listens to any more).
    pub(crate) fn accounts(&self) -> Vec<AccountId> {
        let mut map = self.shared.channels.lock();
        map.retain(|_, c| c.tx.receiver_count() > 0);
        map.keys().copied().collect()
    }

    /// Compares `account`'s folders as just read (id and HIGHESTMODSEQ) with what its
    /// subscribers were told, and tells them of every difference: [`EventKind::Changed`] for a
    /// folder whose HIGHESTMODSEQ moved on, [`EventKind::MailboxesChanged`] for a folder that
    /// appeared or went away. The first comparison of an account tells of every folder, since
    /// a change may have slipped in between the subscriber's own read and this one.
    pub(crate) fn reconcile(&self, account: AccountId, folders: &[(MailboxId, u64)]) {
        let mut map = self.shared.channels.lock();
        let Some(channel) = map.get_mut(&account) else {
            return;
        };
        let first = !channel.polled;
        channel.polled = true;
        let mut events = Vec::new();
        for &(mailbox, modseq) in folders {
            match channel.told.get(&mailbox) {
                Some(&told) if told >= modseq => {}
                Some(_) => events.push((mailbox, EventKind::Changed, modseq)),
                None if first => events.push((mailbox, EventKind::Changed, modseq)),
                None => events.push((mailbox, EventKind::MailboxesChanged, modseq)),
            }
        }
        let gone: Vec<(MailboxId, u64)> = channel
            .told
            .iter()
            .filter(|(id, _)| !folders.iter().any(|(f, _)| f == *id))
            .map(|(id, m)| (*id, *m))
            .collect();
        for (mailbox, modseq) in gone {
            channel.told.remove(&mailbox);
            events.push((mailbox, EventKind::MailboxesChanged, modseq));
        }
        for (mailbox, kind, modseq) in events {
            if kind != EventKind::MailboxesChanged || folders.iter().any(|(f, _)| *f == mailbox) {
                channel.told.insert(mailbox, modseq);
            }
            let event = Event {
                account,
                mailbox,
                kind,
                modseq,
            };
            if channel.tx.send(event).is_err() {
                map.remove(&account);
                return;
            }
        }
    }

    /// Asks the poller to bring every subscriber up to date now rather than at its next round
    /// (events may have been lost: a listener connection died, or has just been opened).
    pub(crate) fn request_resync(&self) {
        *self.shared.resync.lock() = true;
        self.shared.wake.notify_all();
    }

    /// Waits up to `timeout` for [`Notifier::request_resync`]; true if it was asked for.
    pub(crate) fn wait_resync(&self, timeout: Duration) -> bool {
        let mut asked = self.shared.resync.lock();
        if !*asked {
            self.shared.wake.wait_for(&mut asked, timeout);
        }
        std::mem::take(&mut *asked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: AccountId = AccountId(7);

    fn drain(rx: &mut broadcast::Receiver<Event>) -> Vec<(u32, EventKind, u64)> {
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            out.push((e.mailbox.0, e.kind, e.modseq));
        }
        out
    }

    #[test]
    fn reconciling_tells_only_of_what_subscribers_have_not_heard() {
        let n = Notifier::default();
        let mut rx = n.subscribe(A);
        // The first round tells of every folder.
        n.reconcile(A, &[(MailboxId(1), 5), (MailboxId(2), 3)]);
        assert_eq!(
            drain(&mut rx),
            vec![(1, EventKind::Changed, 5), (2, EventKind::Changed, 3)]
        );
        // Nothing moved: nothing to tell.
        n.reconcile(A, &[(MailboxId(1), 5), (MailboxId(2), 3)]);
        assert!(drain(&mut rx).is_empty());
        // An event that did arrive is not told twice.
        n.publish(Event {
            account: A,
            mailbox: MailboxId(1),
            kind: EventKind::Appended,
            modseq: 6,
        });
        assert_eq!(drain(&mut rx), vec![(1, EventKind::Appended, 6)]);
        n.reconcile(A, &[(MailboxId(1), 6), (MailboxId(2), 3)]);
        assert!(drain(&mut rx).is_empty());
        // One that did not is found; a new folder and a deleted one are told as such.
        n.reconcile(A, &[(MailboxId(1), 9), (MailboxId(3), 1)]);
        assert_eq!(
            drain(&mut rx),
            vec![
                (1, EventKind::Changed, 9),
                (3, EventKind::MailboxesChanged, 1),
                (2, EventKind::MailboxesChanged, 3)
            ]
        );
        n.reconcile(A, &[(MailboxId(1), 9), (MailboxId(3), 1)]);
        assert!(drain(&mut rx).is_empty());
    }

    #[test]
    fn accounts_nobody_listens_to_are_forgotten() {
        let n = Notifier::default();
        let rx = n.subscribe(A);
        assert_eq!(n.accounts(), vec![A]);
        drop(rx);
        assert!(n.accounts().is_empty());
        // Reconciling an account nobody listens to does nothing.
        n.reconcile(A, &[(MailboxId(1), 1)]);
        assert!(n.accounts().is_empty());
    }

    #[test]
    fn kinds_survive_their_code() {
        for k in [
            EventKind::Appended,
            EventKind::FlagsChanged,
            EventKind::Expunged,
            EventKind::MailboxesChanged,
            EventKind::Changed,
        ] {
            assert_eq!(EventKind::from_code(k.code()), Some(k));
        }
        assert_eq!(EventKind::from_code('z'), None);
    }

    #[test]
    fn a_resync_request_wakes_the_waiter_once() {
        let n = Notifier::default();
        assert!(!n.wait_resync(Duration::from_millis(1)));
        n.request_resync();
        assert!(n.wait_resync(Duration::from_secs(5)));
        assert!(!n.wait_resync(Duration::from_millis(1)));
    }
}

//! The fallback that keeps subscribers right when notifications from other processes are lost.
//!
//! On a backend shared by several processes, one thread per store re-reads, every
//! [`POLL_INTERVAL`] and at once when a listener asks for it, the folders of every account
//! someone is subscribed to, and lets [`Notifier::reconcile`] tell the subscribers of every
//! folder whose HIGHESTMODSEQ passed what they were last told. The thread holds the store only
//! weakly and ends once the store is closed.

use std::sync::Weak;
use std::time::Duration;

use super::Notifier;
use crate::{Inner, Store, mail};

/// How often subscribed accounts are re-read when nothing asks for it sooner: the longest a
/// change whose notification was lost waits before its subscribers hear of it.
pub const POLL_INTERVAL: Duration = Duration::from_secs(3);

/// Starts the poller of `store`'s subscribed accounts on a thread of its own.
pub(crate) fn start(store: &Store, notifier: Notifier) -> crate::Result<()> {
    let weak = std::sync::Arc::downgrade(&store.inner);
    std::thread::Builder::new()
        .name("marque-store-poll".into())
        .spawn(move || run(&weak, &notifier))
        .map(|_| ())
        .map_err(|e| crate::Error::Io(format!("cannot start the change poller: {e}")))
}

fn run(weak: &Weak<Inner>, notifier: &Notifier) {
    loop {
        notifier.wait_resync(POLL_INTERVAL);
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let store = Store { inner };
        round(&store, notifier);
    }
}

/// One round: every subscribed account's folders, read and reconciled.
fn round(store: &Store, notifier: &Notifier) {
    for account in notifier.accounts() {
        match mail::list(store, account) {
            Ok(folders) => {
                let folders: Vec<_> = folders
                    .into_iter()
                    .map(|f| (f.id, f.highest_modseq))
                    .collect();
                notifier.reconcile(account, &folders);
            }
            // The database is unreachable: the next round tries again.
            Err(e) => {
                tracing::debug!(error = %e, %account, "cannot poll an account's folders");
                return;
            }
        }
    }
}

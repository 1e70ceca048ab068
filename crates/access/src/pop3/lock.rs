//! One session at a time per maildrop (RFC 1939 §8: the server acquires an exclusive-access
//! lock on the maildrop when it enters the TRANSACTION state).
//!
//! The lock lives in this process, keyed by account; [`DropGuard`] releases it when dropped, so
//! QUIT, a dropped connection, a timeout and a panic all give it back. Every POP3 handler over
//! the same store shares one set of locks ([`DropLocks::for_store`]): the `pop3` and `pop3s`
//! listeners each build a handler, and a maildrop must not be open on both.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use marque_store::{AccountId, Store};

type Held = Mutex<HashSet<AccountId>>;

/// The lock sets of the stores open in this process, by store directory (RocksDB lets one
/// process open a directory once).
static BY_STORE: LazyLock<Mutex<HashMap<PathBuf, Weak<Held>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The set of maildrops with a session in TRANSACTION state.
#[derive(Debug, Clone, Default)]
pub struct DropLocks {
    held: Arc<Held>,
}

impl DropLocks {
    /// The locks shared by every handler over `store`.
    pub fn for_store(store: &Store) -> DropLocks {
        let mut all = BY_STORE.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|_, w| w.strong_count() > 0);
        let path = store.path().to_path_buf();
        if let Some(held) = all.get(&path).and_then(Weak::upgrade) {
            return DropLocks { held };
        }
        let held = Arc::new(Held::default());
        all.insert(path, Arc::downgrade(&held));
        DropLocks { held }
    }

    /// Takes the lock of `account`, or `None` if a session holds it.
    pub fn try_lock(&self, account: AccountId) -> Option<DropGuard> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(account).then(|| DropGuard {
            locks: self.clone(),
            account,
        })
    }

    /// Whether `account` is locked.
    pub fn is_locked(&self, account: AccountId) -> bool {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.contains(&account)
    }
}

/// The lock of one maildrop; released on drop.
#[derive(Debug)]
pub struct DropGuard {
    locks: DropLocks,
    account: AccountId,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let mut held = self
            .locks
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.remove(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_for_the_first_to_drop() {
        let locks = DropLocks::default();
        let a = AccountId(7);
        let first = locks.try_lock(a).expect("free");
        assert!(locks.try_lock(a).is_none());
        assert!(
            locks.try_lock(AccountId(8)).is_some(),
            "other maildrops are free"
        );
        drop(first);
        assert!(!locks.is_locked(a));
        assert!(locks.try_lock(a).is_some());
    }
}

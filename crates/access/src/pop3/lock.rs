//! One session at a time per maildrop (RFC 1939 §8: the server acquires an exclusive-access
//! lock on the maildrop when it enters the TRANSACTION state).
//!
//! The lock lives in this process, keyed by account; [`DropGuard`] releases it when dropped, so
//! QUIT, a dropped connection, a timeout and a panic all give it back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use marque_store::AccountId;

/// The set of maildrops with a session in TRANSACTION state.
#[derive(Debug, Clone, Default)]
pub struct DropLocks {
    held: Arc<Mutex<HashSet<AccountId>>>,
}

impl DropLocks {
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

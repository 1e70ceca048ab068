//! One session at a time per maildrop (RFC 1939 §8: the server acquires an exclusive-access
//! lock on the maildrop when it enters the TRANSACTION state).
//!
//! The lock is a lease in the store ([`marque_store::lease`], scope `POP3`, named by the
//! account id), so it holds across every process on one store, not only this one. It names
//! its holder (the node and its incarnation) and runs out after [`DropLocks::ttl`]; while the
//! session lives, a task renews it every third of that. [`DropGuard`] gives it back when
//! dropped, so QUIT, a dropped connection, a timeout and a panic all free it; a process that
//! dies without giving it back (SIGKILL, a lost machine) stops renewing, and its locks run out
//! after at most one lease length.

use std::time::Duration;

use marque_store::lease::{self, Holder, NamedLease, Take};
use marque_store::{AccountId, Store, now_ms};

/// How long a maildrop lock lasts without renewal by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(90);

/// The maildrop locks of one store, taken by this process as `holder`.
#[derive(Debug, Clone)]
pub struct DropLocks {
    store: Store,
    holder: Holder,
    ttl: Duration,
}

impl DropLocks {
    /// The locks over `store`, held as this process ([`Holder::local`]) for [`DEFAULT_TTL`].
    pub fn for_store(store: &Store) -> DropLocks {
        DropLocks::new(store, &Holder::local(), DEFAULT_TTL)
    }

    /// The locks over `store`, held as `holder`, each lasting `ttl` between renewals.
    pub fn new(store: &Store, holder: &Holder, ttl: Duration) -> DropLocks {
        DropLocks {
            store: store.clone(),
            holder: holder.clone(),
            ttl,
        }
    }

    /// How long a lock lasts without renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn lease(&self, account: AccountId) -> NamedLease {
        NamedLease::new(
            &self.store,
            lease::scope::POP3,
            account.0.to_be_bytes(),
            &self.holder,
            self.ttl,
        )
    }

    /// Takes the lock of `account`, or `None` if a session holds it, in this process or
    /// another (or the store cannot be written: then no session may start either).
    pub async fn try_lock(&self, account: AccountId) -> Option<DropGuard> {
        let lease = self.lease(account);
        // This process's sessions share one holder: a lock it already holds is busy too.
        match lease.try_acquire().await {
            Ok(Take::Held(_)) => {}
            Ok(Take::Busy(_)) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "the maildrop lock cannot be taken");
                return None;
            }
        }
        let keeper = lease.clone();
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(keeper.ttl() / 3).await;
                match keeper.try_take().await {
                    Ok(Take::Held(_)) => {}
                    Ok(Take::Busy(other)) => {
                        tracing::warn!(holder = %other.holder, "the maildrop lock was lost");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "the maildrop lock cannot be renewed"),
                }
            }
        });
        Some(DropGuard { lease, renew })
    }

    /// Whether a live lock on `account` exists, held by any process (a blocking read).
    pub fn is_locked(&self, account: AccountId) -> bool {
        lease::is_taken(
            &self.store,
            lease::scope::POP3,
            &account.0.to_be_bytes(),
            now_ms(),
        )
        .unwrap_or(false)
    }
}

/// The lock of one maildrop; renewed while it lives, given back on drop.
#[derive(Debug)]
pub struct DropGuard {
    lease: NamedLease,
    renew: tokio::task::JoinHandle<()>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.renew.abort();
        // Written before the drop returns, so the next session finds the maildrop free at once.
        if let Err(e) = self.lease.release_blocking() {
            tracing::warn!(error = %e, "the maildrop lock cannot be given back; it runs out");
        }
    }
}

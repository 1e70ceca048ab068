//! A named lease this process keeps: a periodic task's, a POP3 maildrop's, a node's heartbeat.
//!
//! [`NamedLease::keep`] takes the lease, then renews it every third of its length, until told
//! to stop, and then gives it back; meanwhile [`NamedLease::is_held`] answers from what the last
//! renewal wrote, less a margin, so a caller that sees `true` has at least a third of the lease
//! left. A process that dies stops renewing: its lease runs out and the next process whose
//! keeper asks takes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Holder, Take, acquire, release, take};
use crate::Store;
use crate::clock::now_ms;
use crate::error::Result;

/// A lease on `scope` · `name` kept by this process (see the module documentation).
#[derive(Debug, Clone)]
pub struct NamedLease {
    store: Store,
    scope: u8,
    name: Vec<u8>,
    holder: Holder,
    ttl: Duration,
    /// The expiry the last successful take wrote (ms), 0 when not held.
    held_until: Arc<AtomicU64>,
}

impl NamedLease {
    /// A lease on `scope` · `name` for `holder`, `ttl` long at each renewal (at least 3 ms).
    pub fn new(
        store: &Store,
        scope: u8,
        name: impl Into<Vec<u8>>,
        holder: &Holder,
        ttl: Duration,
    ) -> NamedLease {
        NamedLease {
            store: store.clone(),
            scope,
            name: name.into(),
            holder: holder.clone(),
            ttl: ttl.max(Duration::from_millis(3)),
            held_until: Arc::default(),
        }
    }

    /// The lease of a periodic task named `task`.
    pub fn task(store: &Store, task: &str, holder: &Holder, ttl: Duration) -> NamedLease {
        NamedLease::new(store, super::scope::TASK, task.as_bytes(), holder, ttl)
    }

    /// The heartbeat of `holder`'s node: live while the node runs ([`super::live_nodes`]).
    pub fn heartbeat(store: &Store, holder: &Holder, ttl: Duration) -> NamedLease {
        NamedLease::new(
            store,
            super::scope::NODE,
            holder.node.as_bytes(),
            holder,
            ttl,
        )
    }

    /// Who this lease is for.
    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// How long each renewal holds it.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Takes or renews the lease once; returns what that came to.
    pub async fn try_take(&self) -> Result<Take> {
        let (scope, name, holder, ttl) = (
            self.scope,
            self.name.clone(),
            self.holder.clone(),
            self.ttl_ms(),
        );
        let taken = self
            .store
            .transact(move |txn| take(txn, scope, &name, &holder, now_ms(), ttl))
            .await;
        match &taken {
            Ok(Take::Held(l)) => self.held_until.store(l.expires_ms, Ordering::Relaxed),
            _ => self.held_until.store(0, Ordering::Relaxed),
        }
        taken
    }

    /// Takes the lease only if it is free or ran out ([`super::acquire`]): a live lease of
    /// this same holder is busy too.
    pub async fn try_acquire(&self) -> Result<Take> {
        let (scope, name, holder, ttl) = (
            self.scope,
            self.name.clone(),
            self.holder.clone(),
            self.ttl_ms(),
        );
        let taken = self
            .store
            .transact(move |txn| acquire(txn, scope, &name, &holder, now_ms(), ttl))
            .await;
        if let Ok(Take::Held(l)) = &taken {
            self.held_until.store(l.expires_ms, Ordering::Relaxed);
        }
        taken
    }

    /// True if the last take or renewal succeeded and at least a quarter of the lease is left
    /// (renewals come every third of it).
    pub fn is_held(&self) -> bool {
        let until = self.held_until.load(Ordering::Relaxed);
        now_ms().saturating_add(self.ttl_ms() / 4) < until
    }

    /// Waits until this process holds `lease` ([`NamedLease::is_held`]), looking again every
    /// third of the lease; at once when there is no lease (a task that needs none). A periodic
    /// task calls it before each round, while [`NamedLease::keep`] runs beside it: then one
    /// node at a time runs the rounds, and another takes over when that one dies.
    pub async fn until_held(lease: Option<&NamedLease>) {
        let Some(l) = lease else { return };
        while !l.is_held() {
            tokio::time::sleep(l.ttl / 3).await;
        }
    }

    /// Gives the lease back (if still held).
    pub async fn release(&self) -> Result<()> {
        self.held_until.store(0, Ordering::Relaxed);
        let (scope, name, holder) = (self.scope, self.name.clone(), self.holder.clone());
        self.store
            .transact(move |txn| release(txn, scope, &name, &holder))
            .await
            .map(|_| ())
    }

    /// [`NamedLease::release`] for code that cannot wait (a `Drop`): blocks until written.
    pub fn release_blocking(&self) -> Result<()> {
        self.held_until.store(0, Ordering::Relaxed);
        let (scope, name, holder) = (self.scope, self.name.clone(), self.holder.clone());
        self.store
            .transact_blocking(move |txn| release(txn, scope, &name, &holder))
            .map(|_| ())
    }

    /// Renews (or tries to take) the lease every third of its length until `stop` resolves,
    /// then gives it back. Changes of holder are logged.
    pub async fn keep(self, stop: impl std::future::Future<Output = ()>) {
        let name = String::from_utf8_lossy(&self.name).into_owned();
        let mut was_held = false;
        tokio::pin!(stop);
        loop {
            match self.try_take().await {
                Ok(Take::Held(_)) if !was_held => {
                    tracing::info!(lease = %name, holder = %self.holder, "lease taken");
                    was_held = true;
                }
                Ok(Take::Busy(other)) if was_held => {
                    tracing::warn!(lease = %name, holder = %other.holder, "lease lost");
                    was_held = false;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(lease = %name, error = %e, "lease cannot be renewed");
                    was_held = false;
                }
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(self.ttl / 3) => {}
            }
        }
        if let Err(e) = self.release().await {
            tracing::warn!(lease = %name, error = %e, "lease cannot be given back");
        }
    }
}

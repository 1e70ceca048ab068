//! Transactions and group commit.
//!
//! One writer thread owns every write. Callers hand it a closure; the thread begins a backend
//! transaction ([`crate::backend::BackendTxn`]), runs the closures of everyone waiting in it, one
//! after the other, each seeing the effects of the ones before it, then commits them all as one
//! atomic write with one fsync, and only then answers each caller.
//! This gives serializable transactions (compare-and-set is a read and a write in one closure),
//! counters that change in the same batch as the data they count, and group commit: sixty-four
//! concurrent writers share one fsync instead of paying for sixty-four.
//!
//! A closure that returns an error leaves no trace: its writes are dropped, the others in its
//! group commit without it. If the group's write fails, every caller in it gets the error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use serde::Serialize;

use crate::backend::{Backend, BackendTxn, Change, Commit, Direction, Durability, Range, WriteSet};
use crate::error::{Error, Result};
use crate::keyspace::{Keyspace, encode};
use crate::notify::{Event, Notifier};
use crate::reader::Reader;

/// Most closures one group commit runs before it writes.
const MAX_GROUP: usize = 512;

/// The writes a closure has made so far, and the events to publish once they are durable.
#[derive(Default)]
struct Pending {
    writes: WriteSet,
    events: Vec<Event>,
}

/// A transaction: reads see the group's earlier writes and this transaction's own.
pub struct Txn<'a> {
    backend: &'a dyn BackendTxn,
    group: &'a WriteSet,
    own: Pending,
}

impl std::fmt::Debug for Txn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("writes", &self.own.writes.len())
            .finish()
    }
}

impl<'a> Txn<'a> {
    fn new(backend: &'a dyn BackendTxn, group: &'a WriteSet) -> Self {
        Txn {
            backend,
            group,
            own: Pending::default(),
        }
    }

    /// Reads one key.
    pub fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let k = (ks, key.to_vec());
        if let Some(c) = self.own.writes.get(&k).or_else(|| self.group.get(&k)) {
            return Ok(match c {
                Change::Put(v) => Some(v.clone()),
                Change::Delete => None,
            });
        }
        self.backend.get(ks, key)
    }

    /// Writes one key.
    pub fn put(&mut self, ks: Keyspace, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.own.writes.insert((ks, key.into()), Change::Put(value));
    }

    /// Encodes and writes one record.
    pub fn put_value<T: Serialize>(
        &mut self,
        ks: Keyspace,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<()> {
        let v = encode(value)?;
        self.put(ks, key, v);
        Ok(())
    }

    /// Deletes one key.
    pub fn delete(&mut self, ks: Keyspace, key: impl Into<Vec<u8>>) {
        self.own.writes.insert((ks, key.into()), Change::Delete);
    }

    /// Adds `delta` to a counter and returns the new value. A counter that reaches zero is
    /// removed.
    pub fn add(&mut self, key: &[u8], delta: i64) -> Result<i64> {
        let v = self.counter(key)? + delta;
        if v == 0 {
            self.delete(Keyspace::Counters, key.to_vec());
        } else {
            self.put(Keyspace::Counters, key.to_vec(), v.to_le_bytes().to_vec());
        }
        Ok(v)
    }

    /// Adds `delta` to a counter unless the result would pass `limit`; the check and the add are
    /// one step. `name` describes the counter in the error.
    pub fn add_within(&mut self, key: &[u8], delta: i64, limit: i64, name: &str) -> Result<i64> {
        let used = self.counter(key)?;
        if delta > 0 && used + delta > limit {
            return Err(Error::LimitExceeded {
                counter: name.to_string(),
                used,
                delta,
                limit,
            });
        }
        self.add(key, delta)
    }

    /// Takes the next value of a named sequence (1, 2, 3...). Values are never reused.
    pub fn next_id(&mut self, sequence: &str) -> Result<u64> {
        let key = crate::keyspace::Key::new()
            .tag(crate::tags::meta::SEQUENCE)
            .str(sequence)
            .into_bytes();
        let cur = match self.get(Keyspace::Meta, &key)? {
            Some(v) => decode_counter(&v)? as u64,
            None => 0,
        };
        let next = cur + 1;
        self.put(Keyspace::Meta, key, (next as i64).to_le_bytes().to_vec());
        Ok(next)
    }

    /// Reads up to `limit` entries of `range`, merging this group's unwritten changes.
    pub fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        // Overlay: the group's changes, then this transaction's on top.
        let mut overlay: BTreeMap<&[u8], &Change> = BTreeMap::new();
        for src in [self.group, &self.own.writes] {
            let lo = (ks, range.start.clone());
            for ((k_ks, k), c) in src.range(lo..) {
                if *k_ks != ks || !range.contains(k) {
                    break;
                }
                overlay.insert(k.as_slice(), c);
            }
        }
        if overlay.is_empty() {
            return self.backend.scan(ks, range, direction, limit);
        }
        // Ask the backend for enough rows to fill `limit` even if the overlay deletes some.
        let deletes = overlay
            .values()
            .filter(|c| matches!(c, Change::Delete))
            .count();
        let base = self
            .backend
            .scan(ks, range, direction, limit.saturating_add(deletes))?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (k, c) in overlay {
            match c {
                Change::Put(v) => {
                    merged.insert(k.to_vec(), v.clone());
                }
                Change::Delete => {
                    merged.remove(k);
                }
            }
        }
        let out: Vec<_> = match direction {
            Direction::Forward => merged.into_iter().take(limit).collect(),
            Direction::Reverse => merged.into_iter().rev().take(limit).collect(),
        };
        Ok(out)
    }

    /// Publishes `event` to in-process subscribers once this transaction is durable.
    pub fn emit(&mut self, event: Event) {
        self.own.events.push(event);
    }
}

pub(crate) fn decode_counter(v: &[u8]) -> Result<i64> {
    let a: [u8; 8] = v.try_into().map_err(|_| Error::Corrupt {
        keyspace: Keyspace::Counters,
        reason: format!("counter of {} bytes", v.len()),
    })?;
    Ok(i64::from_le_bytes(a))
}

/// A declarative batch: preconditions checked and writes applied as one step.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    checks: Vec<(Keyspace, Vec<u8>, Option<Vec<u8>>)>,
    ops: Vec<BatchOp>,
}

#[derive(Debug, Clone)]
enum BatchOp {
    Put(Keyspace, Vec<u8>, Vec<u8>),
    Delete(Keyspace, Vec<u8>),
    Add(Vec<u8>, i64),
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requires `key` to hold exactly `expected` (`None`: to be absent) when the batch applies.
    pub fn expect(
        mut self,
        ks: Keyspace,
        key: impl Into<Vec<u8>>,
        expected: Option<Vec<u8>>,
    ) -> Self {
        self.checks.push((ks, key.into(), expected));
        self
    }
    /// Writes a value.
    pub fn put(mut self, ks: Keyspace, key: impl Into<Vec<u8>>, value: Vec<u8>) -> Self {
        self.ops.push(BatchOp::Put(ks, key.into(), value));
        self
    }
    /// Deletes a key.
    pub fn delete(mut self, ks: Keyspace, key: impl Into<Vec<u8>>) -> Self {
        self.ops.push(BatchOp::Delete(ks, key.into()));
        self
    }
    /// Adds to a counter.
    pub fn add(mut self, key: impl Into<Vec<u8>>, delta: i64) -> Self {
        self.ops.push(BatchOp::Add(key.into(), delta));
        self
    }

    pub(crate) fn apply(self, txn: &mut Txn<'_>) -> Result<()> {
        for (ks, key, expected) in &self.checks {
            if txn.get(*ks, key)? != *expected {
                return Err(Error::Conflict { keyspace: *ks });
            }
        }
        for op in self.ops {
            match op {
                BatchOp::Put(ks, k, v) => txn.put(ks, k, v),
                BatchOp::Delete(ks, k) => txn.delete(ks, k),
                BatchOp::Add(k, d) => {
                    txn.add(&k, d)?;
                }
            }
        }
        Ok(())
    }
}

type Completion = Box<dyn FnOnce(Result<(), &Error>) + Send>;
/// A queued closure. It receives the group's transaction, or the error that kept the group from
/// beginning one (then it does not run and its caller gets the error).
type Job = Box<dyn FnOnce(Result<&mut Txn<'_>, &Error>) -> Completion + Send>;

/// What the writer thread has done since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Transactions the writer ran and answered (a failed closure counts; it wrote nothing).
    pub transactions: u64,
    /// Group writes to the backend: one WAL fsync each under [`crate::Durability::Sync`].
    pub groups: u64,
}

#[derive(Default)]
struct Counters {
    transactions: AtomicU64,
    groups: AtomicU64,
}

/// The handle to the writer thread.
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Writer {
    pub(crate) fn start(
        backend: Arc<dyn Backend>,
        durability: Durability,
        notifier: Notifier,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        let thread = std::thread::Builder::new()
            .name("marque-store-writer".into())
            .spawn(move || writer_loop(&*backend, durability, &notifier, &c, rx))
            .map_err(|e| Error::Io(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
            counters,
        })
    }

    pub(crate) fn stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.counters.transactions.load(Ordering::Relaxed),
            groups: self.counters.groups.load(Ordering::Relaxed),
        }
    }

    /// Queues a closure; `reply` receives its result once it is durable (or failed).
    pub(crate) fn submit<T, E, F>(
        &self,
        f: F,
        reply: impl FnOnce(Result<T, E>) + Send + 'static,
    ) -> Result<()>
    where
        T: Send + 'static,
        E: From<Error> + Send + 'static,
        F: FnOnce(&mut Txn<'_>) -> Result<T, E> + Send + 'static,
    {
        let job: Job = Box::new(move |txn: Result<&mut Txn<'_>, &Error>| -> Completion {
            let txn = match txn {
                Ok(txn) => txn,
                Err(e) => {
                    let e = E::from(e.clone());
                    return Box::new(move |_| reply(Err(e)));
                }
            };
            match f(txn) {
                Ok(value) => Box::new(move |written: Result<(), &Error>| match written {
                    Ok(()) => reply(Ok(value)),
                    Err(e) => reply(Err(E::from(e.clone()))),
                }),
                Err(e) => {
                    txn.own = Pending::default();
                    Box::new(move |_| reply(Err(e)))
                }
            }
        });
        self.tx
            .as_ref()
            .ok_or_else(|| Error::Aborted("store is closed".into()))?
            .send(job)
            .map_err(|_| Error::Aborted("the writer thread has stopped".into()))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the channel ends the loop once the queued jobs are written.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(
    backend: &dyn Backend,
    durability: Durability,
    notifier: &Notifier,
    counters: &Counters,
    rx: mpsc::Receiver<Job>,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let btxn = match backend.begin() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot begin a group commit");
                for job in jobs {
                    // A job handed an error does not run its closure; it only answers.
                    job(Err(&e))(Err(&e));
                }
                continue;
            }
        };
        let mut group = WriteSet::new();
        let mut events = Vec::new();
        let mut completions: Vec<Completion> = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut txn = Txn::new(&*btxn, &group);
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Ok(&mut txn))));
            match done {
                Ok(completion) => {
                    let own = std::mem::take(&mut txn.own);
                    group.extend(own.writes);
                    events.extend(own.events);
                    completions.push(completion);
                }
                Err(_) => {
                    // The job's reply channel was dropped with it: its caller sees an abort.
                    tracing::error!("a store transaction panicked; its writes were discarded");
                }
            }
        }
        let wrote = !group.is_empty();
        let result = btxn.commit(Commit {
            writes: group,
            durability,
            events: events.clone(),
        });
        if wrote && result.is_ok() {
            counters.groups.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &result {
            tracing::error!(error = %e, "group commit failed");
        } else {
            counters
                .transactions
                .fetch_add(completions.len() as u64, Ordering::Relaxed);
            for event in events {
                notifier.publish(event);
            }
        }
        for c in completions {
            c(result.as_ref().map(|_| ()));
        }
    }
}

//! The backend boundary: the few operations the store needs from a key-value engine.
//!
//! Everything above this trait (transactions with group commit, blobs, the mail model, queue,
//! logs) is written once. Two engines implement it: RocksDB ([`rocks`], embedded, one process)
//! and PostgreSQL ([`postgres`], shared by several processes and machines).
//!
//! Writes happen only inside a [`BackendTxn`]: the writer thread begins one per group commit,
//! runs the group's closures with their reads going through it, and commits the group's writes
//! in it. On RocksDB the transaction is nothing more than direct reads and one `WriteBatch` (one
//! process writes, one thread at that). On PostgreSQL it is a database transaction that first
//! takes a cluster-wide writer lock, so the closures of every process run one group after the
//! other and each reads the latest committed state: serializable across processes.

pub mod postgres;
pub mod rocks;

use crate::error::Result;
use crate::keyspace::Keyspace;

/// One change in an atomic write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Put(Vec<u8>),
    Delete,
}

/// An atomic set of changes, in key order per keyspace.
pub type WriteSet = std::collections::BTreeMap<(Keyspace, Vec<u8>), Change>;

/// Which way a scan walks its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
}

/// A key range `[start, end)`; `end = None` means to the end of the keyspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub start: Vec<u8>,
    pub end: Option<Vec<u8>>,
}

impl Range {
    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        Range {
            start: prefix.to_vec(),
            end: crate::keyspace::prefix_end(prefix),
        }
    }
    /// Keys from `start` (inclusive) to `end` (exclusive).
    pub fn between(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> Self {
        Range {
            start: start.into(),
            end: Some(end.into()),
        }
    }
    /// True if `key` lies inside the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        key >= self.start.as_slice() && self.end.as_deref().is_none_or(|e| key < e)
    }
}

/// How hard a write must be on disk before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// The write-ahead log is fsynced before the write is acknowledged (the default).
    #[default]
    Sync,
    /// The write reaches the operating system but is not fsynced: survives a process crash, not
    /// a power loss. For benchmarks and throw-away data only.
    NoSync,
}

/// What a group commit hands its transaction to make durable.
#[derive(Debug, Default)]
pub struct Commit {
    /// Every change of the group, applied atomically: all visible afterwards, or none.
    pub writes: WriteSet,
    /// How hard the commit must be on disk before it returns.
    pub durability: Durability,
    /// The group's change events. A backend other processes share sends them to those
    /// processes inside the transaction, so that they go out if and only if it commits.
    pub events: Vec<crate::notify::Event>,
}

/// A key-value engine with keyspaces, transactions with atomic multi-key writes, and ordered
/// scans.
///
/// Calls block; async callers go through [`crate::Store`], which keeps them off the runtime's
/// worker threads.
pub trait Backend: Send + Sync + 'static {
    /// Reads one key of the committed state.
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Reads up to `limit` entries of `range` of the committed state, in `direction` order.
    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Begins the transaction of one group commit. Only one is open at a time per store (the
    /// writer thread's); across processes the backend makes them take turns.
    fn begin(&self) -> Result<Box<dyn BackendTxn + '_>>;
    /// Flushes memory tables to disk (used on clean shutdown).
    fn flush(&self) -> Result<()>;
    /// Starts publishing into `notifier` the change events other processes commit to this
    /// backend, for as long as the backend is open; it asks `notifier` for a resync whenever
    /// events may have been missed. Returns false when no other process writes here (RocksDB:
    /// the writer thread's own events are all there is), true when events arrive this way and
    /// the store must also poll for the ones that get lost ([`crate::notify::poll`]).
    fn listen(&self, notifier: crate::notify::Notifier) -> Result<bool> {
        let _ = notifier;
        Ok(false)
    }
    /// Checks that the backend answers a read now (for readiness probes); an error says why not.
    fn ping(&self) -> Result<()> {
        self.get(Keyspace::Meta, b"").map(|_| ())
    }
}

/// The transaction a group commit runs in.
///
/// Reads see every transaction committed before this one began (on every process sharing the
/// backend) and nothing uncommitted. Dropping it without [`BackendTxn::commit`] discards it.
pub trait BackendTxn: Send + Sync {
    /// Reads one key.
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Reads up to `limit` entries of `range`, in `direction` order.
    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Applies `commit.writes` atomically and ends the transaction; returns once the commit is
    /// as durable as `commit.durability` asks.
    fn commit(self: Box<Self>, commit: Commit) -> Result<()>;
}

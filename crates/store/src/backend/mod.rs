//! The backend boundary: the few operations the store needs from a key-value engine.
//!
//! Everything above this trait (transactions with group commit, blobs, the mail model, queue,
//! logs) is written once. RocksDB is the backend today; another engine (PostgreSQL, say)
//! implements [`Backend`] and nothing above changes.

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

/// A key-value engine with column families, atomic multi-key writes and ordered scans.
///
/// Calls block; async callers go through [`crate::Store`], which keeps them off the runtime's
/// worker threads.
pub trait Backend: Send + Sync + 'static {
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
    /// Applies every change atomically: all of them are visible afterwards, or none.
    fn write(&self, changes: WriteSet, durability: Durability) -> Result<()>;
    /// Flushes memory tables to disk (used on clean shutdown).
    fn flush(&self) -> Result<()>;
}

//! Reads that work the same on the store and inside a transaction.

use serde::de::DeserializeOwned;

use crate::backend::{Direction, Range};
use crate::error::Result;
use crate::keyspace::{Keyspace, decode};

/// Point reads and ordered scans. Implemented by [`crate::Store`] (committed state, blocking)
/// and [`crate::Txn`] (committed state plus the transaction's group).
pub trait Reader {
    /// Reads one key.
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Reads up to `limit` entries of `range`.
    fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Reads and decodes one record.
    fn get_value<T: DeserializeOwned>(&self, ks: Keyspace, key: &[u8]) -> Result<Option<T>> {
        self.get(ks, key)?.map(|v| decode(ks, &v)).transpose()
    }
    /// True if the key exists.
    fn exists(&self, ks: Keyspace, key: &[u8]) -> Result<bool> {
        Ok(self.get(ks, key)?.is_some())
    }
    /// Reads a counter (absent counts as zero).
    fn counter(&self, key: &[u8]) -> Result<i64> {
        match self.get(Keyspace::Counters, key)? {
            Some(v) => crate::txn::decode_counter(&v),
            None => Ok(0),
        }
    }
}

impl Reader for crate::Store {
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        crate::Store::get(self, ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        crate::Store::scan(self, ks, range, direction, limit)
    }
}

impl Reader for crate::Txn<'_> {
    fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        crate::Txn::get(self, ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        crate::Txn::scan(self, ks, range, direction, limit)
    }
}

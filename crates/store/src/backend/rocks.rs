//! RocksDB backend: one column family per keyspace, WAL-synced writes.

use std::path::Path;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DB, DBCompressionType, IteratorMode, Options,
    ReadOptions, WriteBatch, WriteOptions,
};

use super::{Backend, BackendTxn, Change, Commit, Direction, Durability, Range};
use crate::error::{Error, Result};
use crate::keyspace::Keyspace;

/// Memtable size of the message records' keyspace (RocksDB's default is 64 MiB).
const MESSAGES_WRITE_BUFFER: usize = 4 << 20;

/// RocksDB tuning the operator may set.
#[derive(Debug, Clone)]
pub struct RocksOptions {
    /// Shared block cache in bytes.
    pub block_cache_bytes: usize,
    /// Background threads for flushes and compactions.
    pub background_threads: i32,
}

impl Default for RocksOptions {
    fn default() -> Self {
        RocksOptions {
            block_cache_bytes: 64 << 20,
            background_threads: 2,
        }
    }
}

/// The RocksDB engine.
pub struct RocksBackend {
    db: DB,
}

impl std::fmt::Debug for RocksBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksBackend")
            .field("path", &self.db.path())
            .finish()
    }
}

impl RocksBackend {
    /// Opens (creating if needed) the database in `path` with every keyspace.
    pub fn open(path: &Path, opts: &RocksOptions) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.increase_parallelism(opts.background_threads.max(1));
        db_opts.set_max_background_jobs(opts.background_threads.max(2));
        // Never trust a torn WAL tail: recover to the last complete, synced record.
        db_opts.set_wal_recovery_mode(rocksdb::DBRecoveryMode::PointInTime);
        db_opts.set_keep_log_file_num(4);
        let cache = Cache::new_lru_cache(opts.block_cache_bytes);

        let cfs = Keyspace::ALL.iter().map(|ks| {
            let mut cf = Options::default();
            // Bodies are compressed by the blob layer; the rest is small records.
            cf.set_compression_type(DBCompressionType::None);
            let mut table = BlockBasedOptions::default();
            table.set_block_cache(&cache);
            table.set_bloom_filter(10.0, false);
            table.set_cache_index_and_filter_blocks(true);
            cf.set_block_based_table_factory(&table);
            if *ks == Keyspace::Blobs {
                // Large values go to blob files: compaction moves pointers, not bodies.
                cf.set_enable_blob_files(true);
                cf.set_min_blob_size(4096);
                cf.set_enable_blob_gc(true);
            }
            if *ks == Keyspace::Messages {
                // Message records are small and rewritten on every flag change. Superseded
                // versions stay in the memtable until it is flushed, and every scan of a folder
                // (SEARCH, the unseen scan of SELECT, a POP3 maildrop) walks past them: a small
                // memtable is flushed, and its superseded versions dropped, sooner.
                cf.set_write_buffer_size(MESSAGES_WRITE_BUFFER);
            }
            ColumnFamilyDescriptor::new(ks.name(), cf)
        });
        let db = DB::open_cf_descriptors(&db_opts, path, cfs)?;
        Ok(RocksBackend { db })
    }

    fn cf(&self, ks: Keyspace) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(ks.name())
            .ok_or_else(|| Error::Backend(format!("missing column family {}", ks.name())))
    }
}

impl Backend for RocksBackend {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(keyspace)?, key)?)
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let cf = self.cf(keyspace)?;
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(range.start.clone());
        if let Some(end) = &range.end {
            ro.set_iterate_upper_bound(end.clone());
        }
        let mode = match direction {
            Direction::Forward => IteratorMode::Start,
            Direction::Reverse => IteratorMode::End,
        };
        let mut out = Vec::new();
        for item in self.db.iterator_cf_opt(cf, ro, mode) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            out.push((k.into_vec(), v.into_vec()));
        }
        Ok(out)
    }

    fn begin(&self) -> Result<Box<dyn BackendTxn + '_>> {
        Ok(Box::new(RocksTxn { backend: self }))
    }

    fn flush(&self) -> Result<()> {
        for ks in Keyspace::ALL {
            self.db.flush_cf(self.cf(ks)?)?;
        }
        Ok(())
    }
}

/// A group commit on RocksDB: reads go straight to the database (only this process, and in it
/// only the writer thread, writes), and the group lands as one `WriteBatch`.
struct RocksTxn<'a> {
    backend: &'a RocksBackend,
}

impl BackendTxn for RocksTxn<'_> {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.backend.get(keyspace, key)
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.backend.scan(keyspace, range, direction, limit)
    }

    fn commit(self: Box<Self>, commit: Commit) -> Result<()> {
        if commit.writes.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        for ((ks, key), change) in commit.writes {
            let cf = self.backend.cf(ks)?;
            match change {
                Change::Put(v) => batch.put_cf(cf, key, v),
                Change::Delete => batch.delete_cf(cf, key),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(commit.durability == Durability::Sync);
        self.backend.db.write_opt(batch, &wo)?;
        Ok(())
    }
}

//! Marque's storage: RocksDB (embedded) or PostgreSQL (shared by several processes) under a small
//! backend boundary, with serializable transactions that share their fsyncs, content-addressed message bodies, the mail model IMAP and POP3 read, usage
//! counters, the outbound queue and searchable log records.
//!
//! # Layout
//! - [`backend`]: the [`Backend`] trait, its transactions, and the RocksDB and PostgreSQL
//!   implementations.
//! - [`keyspace`]: keyspaces (column families) and typed key encoding.
//! - [`txn`]: the writer thread, [`Txn`] (closure transactions) and [`Batch`] (compare-and-set).
//! - [`ids`]: typed owner ids that start every key.
//! - [`blob`]: message bodies stored once per content hash, zstd above a threshold, refcounted.
//! - [`counters`]: usage counters per account, domain and tenant.
//! - [`mail`]: accounts, mailboxes, messages, flags, modseq, change log, parsed metadata.
//! - [`notify`]: change events for IDLE, published after commit, to other processes too.
//! - [`queue`]: the outbound queue and its schedule, with leases on the entries being delivered.
//! - [`lease`]: leases held by one process at a time (queue entries, webhooks, periodic tasks,
//!   POP3 maildrops, node heartbeats).
//! - [`logs`]: time-ordered log records with secondary indexes.
//! - [`sieve`]: Sieve scripts per account, at most one active.
//! - [`sieve_global`]: Sieve scripts per tenant and per domain, run before or after the user's.
//! - [`sieve_seen`]: ids a Sieve script has seen (duplicate, vacation), with expiry.
//!
//! Every write goes through [`Store::transact`] (or [`Store::write`] for a [`Batch`]): the
//! caller's future resolves only after the WAL holding the change is on disk. The writer runs
//! each group of transactions inside one backend transaction ([`backend::BackendTxn`]), which
//! on PostgreSQL holds a cluster-wide writer lock, so the guarantees hold across processes.

#![forbid(unsafe_code)]

pub mod backend;
pub mod blob;
pub mod clock;
pub mod counters;
pub mod error;
pub mod ids;
pub mod keyspace;
pub mod lease;
pub mod logs;
pub mod mail;
pub mod migrate;
pub mod notify;
pub mod queue;
pub mod reader;
pub mod sieve;
pub mod sieve_global;
pub mod sieve_seen;
pub mod tags;
pub mod txn;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use backend::postgres::PostgresOptions;
pub use backend::{Backend, BackendTxn, Direction, Durability, Range};
pub use clock::{now_ms, now_secs};
pub use error::{Error, Result};
pub use ids::{AccountId, DomainId, MailboxId, TenantId};
pub use keyspace::{Key, KeyReader, Keyspace, decode, encode};
pub use notify::{Event, EventKind, Notifier};
pub use reader::Reader;
pub use txn::{Batch, CommitStats, Txn};

use backend::postgres::PostgresBackend;
use backend::rocks::{RocksBackend, RocksOptions};
use txn::Writer;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// When a write is acknowledged; [`Durability::Sync`] unless benchmarking.
    pub durability: Durability,
    /// Bodies at least this large are zstd-compressed.
    pub compress_threshold: usize,
    /// zstd level for bodies.
    pub compress_level: i32,
    /// Which engine holds the data.
    pub backend: BackendKind,
    /// RocksDB tuning (used when the backend is RocksDB).
    pub rocks: RocksOptions,
    /// Decoded message metadata kept in memory for IMAP's FETCH, SEARCH, SORT and THREAD
    /// ([`mail::shared_meta`]), in bytes; 0 keeps none.
    pub meta_cache_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Sync,
            compress_threshold: 1024,
            compress_level: 3,
            backend: BackendKind::RocksDb,
            rocks: RocksOptions::default(),
            meta_cache_bytes: 64 << 20,
        }
    }
}

/// The engine a store runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BackendKind {
    /// RocksDB in the store's directory: one process (the embedded default).
    #[default]
    RocksDb,
    /// A PostgreSQL database shared by every process and machine that opens it.
    Postgres(PostgresOptions),
}

struct Inner {
    // Field order matters: the writer thread stops (and finishes its queue) before the backend
    // closes.
    writer: Writer,
    backend: Arc<dyn Backend>,
    notifier: Notifier,
    options: StoreOptions,
    path: PathBuf,
    created: bool,
    meta_cache: mail::meta_cache::MetaCache,
}

/// A handle to the store. Cheap to clone; the database closes when the last handle drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store on the backend `options` name: RocksDB in `path`,
    /// or the PostgreSQL database of its URL (then `path` only names the store in messages).
    pub fn open(path: &Path, options: StoreOptions) -> Result<Store> {
        match &options.backend {
            BackendKind::RocksDb => {
                let created = !path.join("CURRENT").exists();
                let backend: Arc<dyn Backend> = Arc::new(RocksBackend::open(path, &options.rocks)?);
                Self::start(backend, path, options, created)
            }
            BackendKind::Postgres(pg) => {
                let backend = PostgresBackend::open(pg)?;
                let created = backend.created();
                Self::start(Arc::new(backend), path, options, created)
            }
        }
    }

    /// Runs the store over any backend.
    pub fn with_backend(
        backend: Arc<dyn Backend>,
        path: &Path,
        options: StoreOptions,
    ) -> Result<Store> {
        Self::start(backend, path, options, false)
    }

    fn start(
        backend: Arc<dyn Backend>,
        path: &Path,
        options: StoreOptions,
        created: bool,
    ) -> Result<Store> {
        let notifier = Notifier::default();
        let writer = Writer::start(backend.clone(), options.durability, notifier.clone())?;
        let store = Store {
            inner: Arc::new(Inner {
                writer,
                backend,
                notifier,
                meta_cache: mail::meta_cache::MetaCache::new(options.meta_cache_bytes),
                options,
                path: path.to_path_buf(),
                created,
            }),
        };
        if store.inner.backend.listen(store.inner.notifier.clone())? {
            notify::poll::start(&store, store.inner.notifier.clone())?;
        }
        let migrated = store.transact_blocking(migrate::run)?;
        if migrated.moved > 0 {
            tracing::info!(
                from = migrated.from,
                to = migrate::FORMAT,
                moved = migrated.moved,
                "stored data brought to the current layout"
            );
        }
        Ok(store)
    }

    /// Where the data lives.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// True if this open created the store (an empty directory or database): the first start.
    pub fn created(&self) -> bool {
        self.inner.created
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    pub(crate) fn meta_cache(&self) -> &mail::meta_cache::MetaCache {
        &self.inner.meta_cache
    }

    /// The event fan-out (IMAP IDLE subscribes here).
    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }

    /// Runs `f` as a serializable transaction and resolves once its writes are durable.
    ///
    /// `f` runs on the writer thread: it should only read and write keys, never wait on
    /// anything else. If it returns an error, nothing it wrote is kept.
    pub async fn transact<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Error> + Send + 'static,
        F: FnOnce(&mut Txn<'_>) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner.writer.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await
            .map_err(|_| E::from(Error::Aborted("transaction panicked".into())))?
    }

    /// [`Store::transact`] for threads outside the async runtime.
    pub fn transact_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Error> + Send + 'static,
        F: FnOnce(&mut Txn<'_>) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.inner.writer.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv()
            .map_err(|_| E::from(Error::Aborted("transaction panicked".into())))?
    }

    /// Applies a [`Batch`]: every precondition holds and every write lands, or nothing does.
    pub async fn write(&self, batch: Batch) -> Result<()> {
        self.transact(move |txn| batch.apply(txn)).await
    }

    /// [`Store::write`] for threads outside the async runtime.
    pub fn write_blocking(&self, batch: Batch) -> Result<()> {
        self.transact_blocking(move |txn| batch.apply(txn))
    }

    /// Reads one key (blocking; see [`Store::read`] for async callers).
    pub fn get(&self, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.backend.get(ks, key)
    }

    /// Reads up to `limit` entries of `range` (blocking).
    pub fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.backend.scan(ks, range, direction, limit)
    }

    /// Runs blocking reads on tokio's blocking pool, off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| Error::Aborted(format!("read task failed: {e}")))?
    }

    /// How many transactions and group writes (fsyncs) the store has made since it opened.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.writer.stats()
    }

    /// Checks that the store answers a read now (readiness probes); the error says why not.
    pub fn ping(&self) -> Result<()> {
        self.inner.backend.ping()
    }

    /// Flushes memory tables to disk; called on clean shutdown.
    pub fn flush(&self) -> Result<()> {
        self.inner.backend.flush()
    }
}

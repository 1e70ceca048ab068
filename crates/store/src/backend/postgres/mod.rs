//! PostgreSQL backend: one table per keyspace (`key bytea primary key, value bytea not null`),
//! shared by every process and machine that opens the same database.
//!
//! # Client and pool
//! The [`crate::Backend`] trait is blocking, and it is called both from plain threads (the
//! writer thread, tokio's blocking pool) and, for short reads, from async tasks. The `postgres`
//! crate's blocking client cannot be used from inside an async task (it runs a runtime of its
//! own, and tokio refuses to nest one), so the backend uses `tokio-postgres` on a small runtime
//! it owns, with connections pooled by `deadpool-postgres`; a blocking call hands its query to
//! that runtime and waits for the answer ([`bridge`]). Queries are prepared once per connection
//! and cached.
//!
//! # Transactions
//! A group commit ([`PgTxn`]) holds one pooled connection for its whole life: `BEGIN`, then
//! `pg_advisory_xact_lock(WRITER_LOCK)`, then the closures' reads, then the group's writes (one
//! `unnest` upsert and one `DELETE ... = ANY` per keyspace, pipelined), then `COMMIT`, which
//! releases the lock. The group's change events are sent with `NOTIFY` just before `COMMIT`
//! ([`notify`]), so other processes hear of exactly the groups that commit. Every process takes the same lock first, so group commits run one after
//! the other across the cluster and each reads everything committed before it: the closures
//! stay serializable exactly as with one process. `READ COMMITTED` is enough for that, since
//! every statement after the lock sees every commit made before the lock was granted.
//!
//! # Layout
//! - [`bridge`]: the runtime the client runs on and blocking calls into it.
//! - [`connect`]: the URL, TLS (rustls) and the pool.
//! - [`notify`]: change events between processes (`NOTIFY` and the `LISTEN` connection).
//! - [`schema`]: the schema, created and migrated by Marque, with its version.
//! - [`sql`]: statements per keyspace and the batched writes.

mod bridge;
mod connect;
pub mod notify;
mod schema;
mod sql;

use std::path::PathBuf;
use std::sync::Arc;

use deadpool_postgres::{Object, Pool};

use super::{Backend, BackendTxn, Commit, Direction, Durability, Range};
use crate::error::{Error, Result};
use crate::keyspace::Keyspace;

pub use schema::SCHEMA_VERSION;

/// The advisory lock every group commit takes first, cluster-wide (`pg_advisory_xact_lock`):
/// "marque" in ASCII, then 1.
pub const WRITER_LOCK: i64 = 0x6d61_7271_7565_0001;

/// How long [`Backend::ping`] waits for the database to answer.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// How to reach the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// A libpq-style URL or key/value string, e.g. `postgres://marque@db.example/marque`.
    /// `sslmode=require` turns TLS (rustls) on; `disable` and `prefer` connect in the clear.
    pub url: String,
    /// Most connections the pool opens (the writer holds one per group commit; reads use the
    /// others).
    pub pool_size: usize,
    /// PEM file with the certificate authorities to trust for the database's TLS certificate,
    /// in addition to the system's.
    pub ca_file: Option<PathBuf>,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            url: String::new(),
            pool_size: 8,
            ca_file: None,
        }
    }
}

impl PostgresOptions {
    /// Checks the syntax of a connection URL without connecting (for config validation).
    pub fn check_url(url: &str) -> Result<()> {
        connect::parse(url).map(|_| ())
    }
}

/// The PostgreSQL engine.
pub struct PostgresBackend {
    pool: Pool,
    bridge: bridge::Bridge,
    /// What the change listener connects with.
    connector: notify::Connector,
    /// This store's id in the change notifications it sends.
    origin: u64,
    /// Where the database is, without credentials, for messages.
    target: String,
    created: bool,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("target", &self.target)
            .finish()
    }
}

impl PostgresBackend {
    /// Connects, then creates or migrates the schema. Fails with a plain message when the
    /// database cannot be reached.
    pub fn open(options: &PostgresOptions) -> Result<Self> {
        let bridge = bridge::Bridge::new()?;
        let (pool, target, connector) = connect::pool(options, &bridge)?;
        let created = {
            let pool = pool.clone();
            let target = target.clone();
            bridge.block(async move {
                let client = pool.get().await.map_err(|e| {
                    Error::Backend(format!(
                        "cannot connect to PostgreSQL at {target}: {}",
                        sql::with_causes(&e)
                    ))
                })?;
                schema::migrate(&client).await
            })?
        };
        Ok(PostgresBackend {
            pool,
            bridge,
            connector,
            origin: notify::new_origin(),
            target,
            created,
        })
    }

    /// True if this open created the schema in an empty database.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Where the database is (host, port, database, user), for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    async fn connection(pool: &Pool, target: &str) -> Result<Object> {
        pool.get().await.map_err(|e| {
            Error::Backend(format!("PostgreSQL at {target}: {}", sql::with_causes(&e)))
        })
    }
}

impl Backend for PostgresBackend {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (pool, target, key) = (self.pool.clone(), self.target.clone(), key.to_vec());
        self.bridge.block(async move {
            let client = Self::connection(&pool, &target).await?;
            sql::get(&client, keyspace, &key).await
        })
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (pool, target, range) = (self.pool.clone(), self.target.clone(), range.clone());
        self.bridge.block(async move {
            let client = Self::connection(&pool, &target).await?;
            sql::scan(&client, keyspace, &range, direction, limit).await
        })
    }

    fn begin(&self) -> Result<Box<dyn BackendTxn + '_>> {
        let (pool, target) = (self.pool.clone(), self.target.clone());
        let client = self.bridge.block(async move {
            let client = Self::connection(&pool, &target).await?;
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})"
                ))
                .await
                .map_err(|e| sql::error("beginning a group commit", &e))?;
            Ok(client)
        })?;
        Ok(Box::new(PgTxn {
            backend: self,
            client: Some(Arc::new(client)),
        }))
    }

    fn flush(&self) -> Result<()> {
        // Committed transactions are durable in PostgreSQL's WAL; there is nothing to flush.
        Ok(())
    }

    fn listen(&self, notifier: crate::notify::Notifier) -> Result<bool> {
        // The task lives on the backend's runtime and ends with it.
        self.bridge.handle().spawn(notify::listen(
            self.connector.clone(),
            self.origin,
            notifier,
        ));
        Ok(true)
    }

    fn ping(&self) -> Result<()> {
        let (pool, target) = (self.pool.clone(), self.target.clone());
        self.bridge.block(async move {
            let probe = async {
                let client = Self::connection(&pool, &target).await?;
                client
                    .simple_query("SELECT 1")
                    .await
                    .map_err(|e| sql::error("answering a probe", &e))?;
                Ok(())
            };
            tokio::time::timeout(PING_TIMEOUT, probe)
                .await
                .map_err(|_| Error::Backend(format!("PostgreSQL at {target}: no answer")))?
        })
    }
}

/// One group commit: a database transaction holding the cluster-wide writer lock.
struct PgTxn<'a> {
    backend: &'a PostgresBackend,
    /// `None` once committed.
    client: Option<Arc<Object>>,
}

impl PgTxn<'_> {
    fn client(&self) -> Result<Arc<Object>> {
        self.client
            .clone()
            .ok_or_else(|| Error::Aborted("the group commit has ended".into()))
    }
}

impl BackendTxn for PgTxn<'_> {
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (client, key) = (self.client()?, key.to_vec());
        self.backend
            .bridge
            .block(async move { sql::get(&client, keyspace, &key).await })
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (client, range) = (self.client()?, range.clone());
        self.backend
            .bridge
            .block(async move { sql::scan(&client, keyspace, &range, direction, limit).await })
    }

    fn commit(mut self: Box<Self>, commit: Commit) -> Result<()> {
        let client = self.client()?;
        let origin = self.backend.origin;
        self.backend.bridge.block(async move {
            sql::write(&client, commit.writes).await?;
            notify::send(&client, origin, &commit.events).await?;
            let end = match commit.durability {
                Durability::Sync => "COMMIT",
                // Acknowledged before the WAL reaches the disk: a database crash may lose the
                // last moments of writes, never leave half of one.
                Durability::NoSync => "SET LOCAL synchronous_commit TO OFF; COMMIT",
            };
            client
                .batch_execute(end)
                .await
                .map_err(|e| sql::error("committing a group", &e))
        })?;
        self.client = None;
        Ok(())
    }
}

impl Drop for PgTxn<'_> {
    fn drop(&mut self) {
        // Not committed (the group's write failed): roll back before the connection goes back
        // to the pool, or close it if even that fails, so that no connection ever returns to
        // the pool inside a transaction or holding the writer lock.
        let Some(client) = self.client.take() else {
            return;
        };
        let rolled_back = self.backend.bridge.block({
            let client = client.clone();
            async move {
                client
                    .batch_execute("ROLLBACK")
                    .await
                    .map_err(|e| sql::error("rolling back", &e))
            }
        });
        if let Err(e) = rolled_back {
            tracing::warn!(error = %e, "closing a PostgreSQL connection that could not roll back");
            if let Ok(object) = Arc::try_unwrap(client) {
                drop(Object::take(object));
            }
        }
    }
}

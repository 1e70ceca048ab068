//! The schema: created and migrated by Marque itself, versioned in `marque_schema`.
//!
//! Every open takes a migration lock (so two processes starting together migrate once), reads
//! the version, applies each migration above it in one transaction with the version update,
//! and refuses a database whose version is newer than this build knows. A keyspace added to
//! [`Keyspace::ALL`] gets its table at the next open, without a migration of its own.

use deadpool_postgres::Object;

use super::sql::{error, table};
use crate::error::{Error, Result};
use crate::keyspace::Keyspace;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 1;

/// The advisory lock held while the schema is checked and migrated: "marque" in ASCII, then 2.
const MIGRATION_LOCK: i64 = 0x6d61_7271_7565_0002;

/// The SQL of the migration to `version`.
fn migration(version: i32) -> String {
    match version {
        1 => keyspace_tables(),
        _ => String::new(),
    }
}

/// A table per keyspace. Bodies are compressed by the blob layer already, so PostgreSQL stores
/// them out of line without trying to compress them again.
fn keyspace_tables() -> String {
    let mut sql = String::new();
    for ks in Keyspace::ALL {
        let t = table(ks);
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (key bytea PRIMARY KEY, value bytea NOT NULL);\n"
        ));
        if ks == Keyspace::Blobs {
            sql.push_str(&format!(
                "ALTER TABLE {t} ALTER COLUMN value SET STORAGE EXTERNAL;\n"
            ));
        }
    }
    sql
}

/// Brings the schema to [`SCHEMA_VERSION`]; returns true if the database was empty.
pub(super) async fn migrate(client: &Object) -> Result<bool> {
    let run = |sql: String, doing: &'static str| async move {
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| error(doing, &e))
    };
    run(
        format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS marque_schema (version integer NOT NULL);"
        ),
        "locking the schema",
    )
    .await?;
    let result = async {
        let row = client
            .query_opt("SELECT version FROM marque_schema", &[])
            .await
            .map_err(|e| error("reading the schema version", &e))?;
        let version: i32 = match &row {
            Some(r) => r
                .try_get(0)
                .map_err(|e| error("reading the schema version", &e))?,
            None => 0,
        };
        if version > SCHEMA_VERSION {
            return Err(Error::Invalid(format!(
                "the database's schema is version {version}, newer than this marque's \
                 ({SCHEMA_VERSION}): run a newer marque"
            )));
        }
        for v in version + 1..=SCHEMA_VERSION {
            run(migration(v), "migrating the schema").await?;
            tracing::info!(version = v, "PostgreSQL schema migrated");
        }
        run(keyspace_tables(), "creating keyspace tables").await?;
        let set = if row.is_some() {
            format!("UPDATE marque_schema SET version = {SCHEMA_VERSION}")
        } else {
            format!("INSERT INTO marque_schema (version) VALUES ({SCHEMA_VERSION})")
        };
        run(set, "recording the schema version").await?;
        run("COMMIT".into(), "committing the schema").await?;
        Ok(version == 0)
    }
    .await;
    if result.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}

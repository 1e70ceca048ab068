//! Statements per keyspace, and the batched writes of a group commit.
//!
//! `bytea` compares bytewise (like `memcmp`, a shorter prefix first), which is the order RocksDB
//! keeps keys in, so ranges and both scan directions mean the same on either backend.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use deadpool_postgres::Object;
use futures_util::future::try_join_all;

use crate::backend::{Change, Direction, Range, WriteSet};
use crate::error::{Error, Result};
use crate::keyspace::Keyspace;

/// The table that holds `ks`.
pub(super) fn table(ks: Keyspace) -> String {
    format!("ks_{}", ks.name())
}

/// Every statement on one keyspace's table.
struct Statements {
    keyspace: Keyspace,
    get: String,
    /// Indexed by [direction][bounded above].
    scan: [[String; 2]; 2],
    upsert: String,
    delete: String,
}

static STATEMENTS: LazyLock<Vec<Statements>> = LazyLock::new(|| {
    Keyspace::ALL
        .iter()
        .map(|&ks| {
            let t = table(ks);
            let scan = |order: &str, bounded: bool| {
                let upper = if bounded { " AND key < $2" } else { "" };
                let limit = if bounded { "$3" } else { "$2" };
                format!(
                    "SELECT key, value FROM {t} WHERE key >= $1{upper} ORDER BY key {order} LIMIT {limit}"
                )
            };
            Statements {
                keyspace: ks,
                get: format!("SELECT value FROM {t} WHERE key = $1"),
                scan: [
                    [scan("ASC", false), scan("ASC", true)],
                    [scan("DESC", false), scan("DESC", true)],
                ],
                upsert: format!(
                    "INSERT INTO {t} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                ),
                delete: format!("DELETE FROM {t} WHERE key = ANY($1::bytea[])"),
            }
        })
        .collect()
});

fn statements(ks: Keyspace) -> &'static Statements {
    // Keyspace::ALL lists every keyspace, so the search always succeeds.
    STATEMENTS
        .iter()
        .find(|s| s.keyspace == ks)
        .unwrap_or(&STATEMENTS[0])
}

/// An error's message followed by those of its causes ("error connecting to server: Connection
/// refused"), each once.
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// A PostgreSQL error with what the store was doing.
pub(super) fn error(doing: &str, e: &tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::Backend(format!(
            "PostgreSQL, {doing}: {} ({})",
            db.message(),
            db.code().code()
        )),
        None => Error::Backend(format!("PostgreSQL, {doing}: {}", with_causes(e))),
    }
}

async fn prepare(client: &Object, sql: &str) -> Result<tokio_postgres::Statement> {
    client
        .prepare_cached(sql)
        .await
        .map_err(|e| error("preparing a statement", &e))
}

pub(super) async fn get(client: &Object, ks: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>> {
    let st = prepare(client, &statements(ks).get).await?;
    let row = client
        .query_opt(&st, &[&key])
        .await
        .map_err(|e| error("reading a key", &e))?;
    row.map(|r| r.try_get::<_, Vec<u8>>(0))
        .transpose()
        .map_err(|e| error("decoding a value", &e))
}

pub(super) async fn scan(
    client: &Object,
    ks: Keyspace,
    range: &Range,
    direction: Direction,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let dir = match direction {
        Direction::Forward => 0,
        Direction::Reverse => 1,
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let start = range.start.as_slice();
    let rows = match &range.end {
        Some(end) => {
            let st = prepare(client, &statements(ks).scan[dir][1]).await?;
            client.query(&st, &[&start, &end.as_slice(), &limit]).await
        }
        None => {
            let st = prepare(client, &statements(ks).scan[dir][0]).await?;
            client.query(&st, &[&start, &limit]).await
        }
    }
    .map_err(|e| error("scanning a range", &e))?;
    rows.into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()
        .map_err(|e| error("decoding a row", &e))
}

/// One keyspace's share of a group's writes.
#[derive(Default)]
struct Changes {
    put_keys: Vec<Vec<u8>>,
    put_values: Vec<Vec<u8>>,
    deletes: Vec<Vec<u8>>,
}

/// Applies a group's writes: per keyspace one upsert of every put (`unnest` of two arrays) and
/// one delete of every deleted key, all sent at once (tokio-postgres pipelines them on the
/// connection). A key appears once in a write set, so the order between them does not matter.
pub(super) async fn write(client: &Object, writes: WriteSet) -> Result<()> {
    let mut per: BTreeMap<Keyspace, Changes> = BTreeMap::new();
    for ((ks, key), change) in writes {
        let c = per.entry(ks).or_default();
        match change {
            Change::Put(v) => {
                c.put_keys.push(key);
                c.put_values.push(v);
            }
            Change::Delete => c.deletes.push(key),
        }
    }
    let mut prepared = Vec::new();
    for (ks, c) in &per {
        let s = statements(*ks);
        if !c.put_keys.is_empty() {
            prepared.push((prepare(client, &s.upsert).await?, c, true));
        }
        if !c.deletes.is_empty() {
            prepared.push((prepare(client, &s.delete).await?, c, false));
        }
    }
    try_join_all(prepared.iter().map(|(st, c, put)| async move {
        if *put {
            client.execute(st, &[&c.put_keys, &c.put_values]).await
        } else {
            client.execute(st, &[&c.deletes]).await
        }
    }))
    .await
    .map_err(|e| error("writing a group", &e))?;
    Ok(())
}

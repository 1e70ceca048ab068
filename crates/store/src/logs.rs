//! Log records: SMTP transactions, authentications, the admin audit trail.
//!
//! A record is written once per owner tenant that may read it (a customer, its reseller, the
//! provider), so that every reader's search is one key range. Keys are
//! `owner · kind · time · id`, newest found by scanning backwards; secondary index entries
//! `owner · kind · term · value · time · id` find records by address, IP or message-id.
//! Records carry their own index terms so that retention can remove both.

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::backend::{Direction, Range};
use crate::error::Result;
use crate::ids::TenantId;
use crate::keyspace::{Key, KeyReader, Keyspace, decode, encode};
use crate::txn::Txn;

/// Which log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogKind {
    /// One record per SMTP transaction, in or out.
    Transaction,
    /// Authentication attempts on every protocol.
    Auth,
    /// Admin actions.
    Audit,
}

impl LogKind {
    fn code(self) -> u8 {
        match self {
            LogKind::Transaction => 1,
            LogKind::Auth => 2,
            LogKind::Audit => 3,
        }
    }
}

/// What a record can be found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Term {
    /// An email address (sender, recipient, login).
    Address,
    /// A client or server IP address.
    Ip,
    /// A Message-ID.
    MessageId,
    /// The acting principal (audit).
    Actor,
    /// The object acted upon (audit).
    Target,
}

impl Term {
    fn code(self) -> u8 {
        match self {
            Term::Address => 1,
            Term::Ip => 2,
            Term::MessageId => 3,
            Term::Actor => 4,
            Term::Target => 5,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    terms: Vec<(Term, String)>,
    body: Vec<u8>,
}

/// A record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub owner: TenantId,
    pub kind: LogKind,
    pub time_ms: u64,
    pub id: u64,
    pub body: Vec<u8>,
}

/// Where a page of results stopped; pass it back to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub time_ms: u64,
    pub id: u64,
}

/// A search, newest first.
#[derive(Debug, Clone)]
pub struct Query {
    pub owner: TenantId,
    pub kind: LogKind,
    /// Only records indexed under this term (matched case-insensitively, whole value).
    pub term: Option<(Term, String)>,
    /// Oldest time included (ms since the epoch).
    pub from_ms: u64,
    /// Newest time included.
    pub to_ms: u64,
    /// Continue after this cursor.
    pub after: Option<Cursor>,
    pub limit: usize,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<LogEntry>,
    pub next: Option<Cursor>,
}

fn record_key(owner: TenantId, kind: LogKind, time_ms: u64, id: u64) -> Vec<u8> {
    Key::new()
        .u64(owner.0)
        .tag(kind.code())
        .u64(time_ms)
        .u64(id)
        .into_bytes()
}

fn index_prefix(owner: TenantId, kind: LogKind, term: Term, value: &str) -> Key {
    Key::new()
        .u64(owner.0)
        .tag(kind.code())
        .tag(term.code())
        .str(&value.to_lowercase())
}

/// Appends one record for each of `owners`, indexed under `terms`; returns the record id.
pub fn append(
    txn: &mut Txn<'_>,
    owners: &[TenantId],
    kind: LogKind,
    time_ms: u64,
    terms: &[(Term, &str)],
    body: &[u8],
) -> Result<u64> {
    let id = txn.next_id("log")?;
    let stored = encode(&Stored {
        terms: terms.iter().map(|(t, v)| (*t, v.to_string())).collect(),
        body: body.to_vec(),
    })?;
    for &owner in owners {
        txn.put(
            Keyspace::Logs,
            record_key(owner, kind, time_ms, id),
            stored.clone(),
        );
        for (term, value) in terms {
            let k = index_prefix(owner, kind, *term, value).u64(time_ms).u64(id);
            txn.put(Keyspace::LogIndex, k, Vec::new());
        }
    }
    Ok(id)
}

/// Reads one record (blocking).
pub fn get(
    store: &Store,
    owner: TenantId,
    kind: LogKind,
    time_ms: u64,
    id: u64,
) -> Result<Option<LogEntry>> {
    let Some(v) = store.get(Keyspace::Logs, &record_key(owner, kind, time_ms, id))? else {
        return Ok(None);
    };
    let s: Stored = decode(Keyspace::Logs, &v)?;
    Ok(Some(LogEntry {
        owner,
        kind,
        time_ms,
        id,
        body: s.body,
    }))
}

/// Searches newest first (blocking).
pub fn search(store: &Store, q: &Query) -> Result<Page> {
    let limit = q.limit.clamp(1, 1000);
    // Upper bound: the cursor if continuing, else just past `to_ms`.
    let (upper_time, upper_id) = match q.after {
        Some(c) => (c.time_ms, c.id),
        None => (q.to_ms, u64::MAX),
    };
    let mut entries = Vec::with_capacity(limit);
    match &q.term {
        None => {
            let start = record_key(q.owner, q.kind, q.from_ms, 0);
            let end = record_key(q.owner, q.kind, upper_time, upper_id);
            let range = Range::between(start, end);
            for (k, v) in store.scan(Keyspace::Logs, &range, Direction::Reverse, limit)? {
                let mut r = KeyReader::new(Keyspace::Logs, &k);
                r.skip(9)?;
                let (time_ms, id) = (r.u64()?, r.u64()?);
                let s: Stored = decode(Keyspace::Logs, &v)?;
                entries.push(LogEntry {
                    owner: q.owner,
                    kind: q.kind,
                    time_ms,
                    id,
                    body: s.body,
                });
            }
        }
        Some((term, value)) => {
            let prefix = index_prefix(q.owner, q.kind, *term, value);
            let plen = prefix.as_bytes().len();
            let start = prefix.clone().u64(q.from_ms).u64(0).into_bytes();
            let end = prefix.u64(upper_time).u64(upper_id).into_bytes();
            let range = Range::between(start, end);
            for (k, _) in store.scan(Keyspace::LogIndex, &range, Direction::Reverse, limit)? {
                let mut r = KeyReader::new(Keyspace::LogIndex, &k);
                r.skip(plen)?;
                let (time_ms, id) = (r.u64()?, r.u64()?);
                if let Some(e) = get(store, q.owner, q.kind, time_ms, id)? {
                    entries.push(e);
                }
            }
        }
    }
    let next = if entries.len() == limit {
        entries.last().map(|e| Cursor {
            time_ms: e.time_ms,
            id: e.id,
        })
    } else {
        None
    };
    Ok(Page { entries, next })
}

/// Deletes records of `kind` older than `before_ms`, with their index entries, for every owner;
/// returns how many records went. Works in slices so that no transaction grows unbounded.
pub async fn purge(store: &Store, kind: LogKind, before_ms: u64) -> Result<u64> {
    const SLICE: usize = 500;
    let mut removed = 0u64;
    let mut owner = 0u64;
    loop {
        // Find the next owner that has any log record at all.
        let range = Range {
            start: Key::new().u64(owner).into_bytes(),
            end: None,
        };
        let first = store
            .read(move |s| s.scan(Keyspace::Logs, &range, Direction::Forward, 1))
            .await?;
        let Some((k, _)) = first.first() else { break };
        let mut r = KeyReader::new(Keyspace::Logs, k);
        owner = r.u64()?;
        let tenant = TenantId(owner);
        loop {
            let range = Range::between(
                record_key(tenant, kind, 0, 0),
                record_key(tenant, kind, before_ms, 0),
            );
            let batch = store
                .read(move |s| s.scan(Keyspace::Logs, &range, Direction::Forward, SLICE))
                .await?;
            if batch.is_empty() {
                break;
            }
            let n = batch.len();
            store
                .transact(move |txn: &mut Txn<'_>| -> Result<()> {
                    for (k, v) in batch {
                        let mut r = KeyReader::new(Keyspace::Logs, &k);
                        r.skip(9)?;
                        let (time_ms, id) = (r.u64()?, r.u64()?);
                        let s: Stored = decode(Keyspace::Logs, &v)?;
                        for (term, value) in &s.terms {
                            let ik = index_prefix(tenant, kind, *term, value)
                                .u64(time_ms)
                                .u64(id);
                            txn.delete(Keyspace::LogIndex, ik.into_bytes());
                        }
                        txn.delete(Keyspace::Logs, k);
                    }
                    Ok(())
                })
                .await?;
            removed += n as u64;
            if n < SLICE {
                break;
            }
        }
        match owner.checked_add(1) {
            Some(o) => owner = o,
            None => break,
        }
    }
    Ok(removed)
}

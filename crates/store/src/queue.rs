//! The outbound queue: entries by id, and a schedule ordered by due time.
//!
//! The queue is the platform's, not a tenant's, so its keys start with the entry kind rather
//! than an owner: workers read it in due-time order. The payload is the SMTP layer's own
//! record; a payload that points at a message body holds a reference on it
//! ([`crate::blob::acquire_existing`]) taken in the same transaction as [`enqueue`].
//!
//! A worker claims an entry by rescheduling it a lease ahead; if the worker dies, the entry
//! becomes due again when the lease runs out, so a crash delays mail but never loses it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keyspace::{Key, KeyReader, Keyspace, decode, encode};
use crate::reader::Reader;
use crate::txn::Txn;
use crate::{Direction, Range};

use crate::tags::queue::{DUE as TAG_DUE, ENTRY as TAG_ENTRY};

/// One queued item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: u64,
    /// When it is next due, in milliseconds since the epoch.
    pub due_ms: u64,
    pub payload: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    due_ms: u64,
    payload: Vec<u8>,
}

fn entry_key(id: u64) -> Vec<u8> {
    Key::new().tag(TAG_ENTRY).u64(id).into_bytes()
}

fn due_key(due_ms: u64, id: u64) -> Vec<u8> {
    Key::new().tag(TAG_DUE).u64(due_ms).u64(id).into_bytes()
}

/// Adds an entry due at `due_ms`; returns its id.
pub fn enqueue(txn: &mut Txn<'_>, due_ms: u64, payload: Vec<u8>) -> Result<u64> {
    let id = txn.next_id("queue")?;
    txn.put(
        Keyspace::Queue,
        entry_key(id),
        encode(&Stored { due_ms, payload })?,
    );
    txn.put(Keyspace::Queue, due_key(due_ms, id), Vec::new());
    Ok(id)
}

/// Reads one entry.
pub fn get(r: &impl Reader, id: u64) -> Result<Option<QueueEntry>> {
    Ok(r.get_value::<Stored>(Keyspace::Queue, &entry_key(id))?
        .map(|s| QueueEntry {
            id,
            due_ms: s.due_ms,
            payload: s.payload,
        }))
}

/// Entries due at or before `now_ms`, earliest first, at most `limit`.
pub fn due(r: &impl Reader, now_ms: u64, limit: usize) -> Result<Vec<QueueEntry>> {
    let range = Range::between(due_key(0, 0), due_key(now_ms.saturating_add(1), 0));
    let mut out = Vec::new();
    for (k, _) in r.scan(Keyspace::Queue, &range, Direction::Forward, limit)? {
        let mut kr = KeyReader::new(Keyspace::Queue, &k);
        kr.skip(9)?;
        let id = kr.u64()?;
        if let Some(e) = get(r, id)? {
            out.push(e);
        }
    }
    Ok(out)
}

/// Every entry by id, from `after_id` (exclusive), at most `limit`.
pub fn list(r: &impl Reader, after_id: u64, limit: usize) -> Result<Vec<QueueEntry>> {
    let range = Range::between(
        entry_key(after_id.saturating_add(1)),
        Key::new().tag(TAG_ENTRY + 1).into_bytes(),
    );
    r.scan(Keyspace::Queue, &range, Direction::Forward, limit)?
        .into_iter()
        .map(|(k, v)| {
            let mut kr = KeyReader::new(Keyspace::Queue, &k);
            kr.skip(1)?;
            let s: Stored = decode(Keyspace::Queue, &v)?;
            Ok(QueueEntry {
                id: kr.u64()?,
                due_ms: s.due_ms,
                payload: s.payload,
            })
        })
        .collect()
}

/// Moves an entry to a new due time, replacing its payload if one is given.
pub fn reschedule(txn: &mut Txn<'_>, id: u64, due_ms: u64, payload: Option<Vec<u8>>) -> Result<()> {
    let old = get(txn, id)?.ok_or_else(|| Error::NotFound(format!("queue entry {id}")))?;
    txn.delete(Keyspace::Queue, due_key(old.due_ms, id));
    txn.put(Keyspace::Queue, due_key(due_ms, id), Vec::new());
    let payload = payload.unwrap_or(old.payload);
    txn.put(
        Keyspace::Queue,
        entry_key(id),
        encode(&Stored { due_ms, payload })?,
    );
    Ok(())
}

/// Removes an entry and returns it (the caller releases any body it referenced).
pub fn remove(txn: &mut Txn<'_>, id: u64) -> Result<Option<QueueEntry>> {
    let Some(old) = get(txn, id)? else {
        return Ok(None);
    };
    txn.delete(Keyspace::Queue, due_key(old.due_ms, id));
    txn.delete(Keyspace::Queue, entry_key(id));
    Ok(Some(old))
}

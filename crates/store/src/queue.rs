//! The outbound queue: entries by id, and a schedule ordered by due time.
//!
//! The queue is the platform's, not a tenant's, so its keys start with the entry kind rather
//! than an owner: workers read it in due-time order. The payload is the SMTP layer's own
//! record; a payload that points at a message body holds a reference on it
//! ([`crate::blob::acquire_existing`]) taken in the same transaction as [`enqueue`].
//!
//! A worker claims an entry ([`claim_due`]) by taking its lease ([`crate::lease`], scope
//! [`crate::lease::scope::QUEUE`], named by the entry id) and rescheduling it to the lease's
//! end; if the worker's process dies, the entry becomes due again when the lease runs out, and
//! any process takes it then, so a crash delays mail but never loses it. Whatever the worker
//! then records about the entry is recorded only if [`holds`] says, in the recording
//! transaction, that its process still holds the lease; a result that comes after another
//! process took the entry is dropped (that one delivers it: at least once). A restarted node
//! hands back at once the entries its earlier runs held ([`release_stale`]).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keyspace::{Key, KeyReader, Keyspace, decode, encode};
use crate::lease::{self, Holder, Take};
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

/// Removes an entry and returns it (the caller releases any body it referenced). Its lease,
/// if any, goes with it: whoever held it can record nothing more about the entry.
pub fn remove(txn: &mut Txn<'_>, id: u64) -> Result<Option<QueueEntry>> {
    let Some(old) = get(txn, id)? else {
        return Ok(None);
    };
    txn.delete(Keyspace::Queue, due_key(old.due_ms, id));
    txn.delete(Keyspace::Queue, entry_key(id));
    lease::clear(txn, lease::scope::QUEUE, &id.to_be_bytes());
    Ok(Some(old))
}

/// Claims for `holder` up to `limit` entries due at `now_ms`: takes each one's lease for
/// `lease_ms` and moves it to the lease's end, so that no other worker sees it due meanwhile.
/// An entry whose lease another process holds (an administrator asked for a retry while it
/// delivers) is moved to that lease's end instead and not returned. Entries this holder
/// already leases are returned again (the caller knows what it is working on).
pub fn claim_due(
    txn: &mut Txn<'_>,
    now_ms: u64,
    holder: &Holder,
    lease_ms: u64,
    limit: usize,
) -> Result<Vec<QueueEntry>> {
    let mut out = Vec::new();
    for e in due(txn, now_ms, limit)? {
        match lease::take(
            txn,
            lease::scope::QUEUE,
            &e.id.to_be_bytes(),
            holder,
            now_ms,
            lease_ms,
        )? {
            Take::Held(l) => {
                reschedule(txn, e.id, l.expires_ms, None)?;
                out.push(QueueEntry {
                    due_ms: l.expires_ms,
                    ..e
                });
            }
            Take::Busy(l) => reschedule(txn, e.id, l.expires_ms, None)?,
        }
    }
    Ok(out)
}

/// True if `holder` still holds the lease on entry `id` (see [`crate::lease::holds`]).
pub fn holds(r: &impl Reader, id: u64, holder: &Holder) -> Result<bool> {
    lease::holds(r, lease::scope::QUEUE, &id.to_be_bytes(), holder)
}

/// Gives back `holder`'s lease on entry `id`, if it holds it; returns whether it did.
pub fn release(txn: &mut Txn<'_>, id: u64, holder: &Holder) -> Result<bool> {
    lease::release(txn, lease::scope::QUEUE, &id.to_be_bytes(), holder)
}

/// Among up to `limit` entry leases after entry `after_id`, hands back those held by earlier
/// runs of `holder`'s node: the lease goes and the entry is due at `now_ms`. Leases of other
/// nodes, and of this run, are left alone. Returns the last entry id looked at (`None` at the
/// end) and how many were handed back.
pub fn release_stale(
    txn: &mut Txn<'_>,
    holder: &Holder,
    after_id: Option<u64>,
    limit: usize,
    now_ms: u64,
) -> Result<(Option<u64>, usize)> {
    let after = after_id.map(u64::to_be_bytes);
    let (stale, last) = lease::stale_of(
        txn,
        lease::scope::QUEUE,
        holder,
        after.as_ref().map(|a| a.as_slice()),
        limit,
    )?;
    let mut released = 0;
    for (name, _) in stale {
        lease::clear(txn, lease::scope::QUEUE, &name);
        let Some(id) = name_to_id(&name) else {
            continue;
        };
        if get(txn, id)?.is_some() {
            reschedule(txn, id, now_ms, None)?;
            released += 1;
        }
    }
    Ok((last.as_deref().and_then(name_to_id), released))
}

fn name_to_id(name: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(name.try_into().ok()?))
}

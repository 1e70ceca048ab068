//! The version of the stored data's layout, and the steps that bring older data up to it.
//!
//! The version lives in [`Keyspace::Meta`] under [`tags::meta::FORMAT`]. A store without it was
//! written before versions were recorded (version 1) or is new. Opening a store runs every step
//! from its version to [`FORMAT`] in one transaction, with the version write: a crash leaves
//! the data entirely in the old layout or entirely in the new one. A store written by a newer
//! build (a higher version) is refused rather than misread.

use crate::backend::{Direction, Range};
use crate::error::{Error, Result};
use crate::keyspace::{Key, Keyspace};
use crate::tags;
use crate::txn::Txn;

/// The layout this build writes.
pub const FORMAT: u32 = 2;

/// Keys read per step of a migration's walk through a keyspace.
const PAGE: usize = 4096;

fn format_key() -> Vec<u8> {
    Key::new().tag(tags::meta::FORMAT).into_bytes()
}

/// The layout version of the data, 1 when none is recorded.
pub fn version(txn: &Txn<'_>) -> Result<u32> {
    match txn.get(Keyspace::Meta, &format_key())? {
        None => Ok(1),
        Some(v) => {
            let bytes: [u8; 4] = v.as_slice().try_into().map_err(|_| Error::Corrupt {
                keyspace: Keyspace::Meta,
                reason: format!("format version of {} bytes", v.len()),
            })?;
            Ok(u32::from_be_bytes(bytes))
        }
    }
}

/// What bringing the data up to date did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The layout version the data was in.
    pub from: u32,
    /// Records moved to a new key.
    pub moved: usize,
}

/// Brings the data up to [`FORMAT`].
pub fn run(txn: &mut Txn<'_>) -> Result<Migrated> {
    let found = version(txn)?;
    if found > FORMAT {
        return Err(Error::Invalid(format!(
            "the data is in layout version {found}, newer than this build's {FORMAT}: run a newer \
             Marque on it"
        )));
    }
    let mut moved = 0;
    if found < 2 {
        moved += separate_shared_tags(txn)?;
    }
    if found != FORMAT || txn.get(Keyspace::Meta, &format_key())?.is_none() {
        txn.put(Keyspace::Meta, format_key(), FORMAT.to_be_bytes().to_vec());
    }
    Ok(Migrated { from: found, moved })
}

/// Version 1 → 2: three record kinds shared a tag with another under the same owner.
///
/// - Global Sieve scripts (`tenant · 'v' · 't'|'d' ...`) shared `'v'` with activations
///   (`tenant · 'v' · id`, always 17 bytes): they move to [`tags::directory::SIEVE_GLOBAL`].
/// - The webhook outbox (`0 · 'o' · due · delivery`) shared `'o'` with outbound identities
///   (under real tenants, never 0): it moves to [`tags::directory::WEBHOOK_OUTBOX`].
/// - Sieve settings (`account · 'X'`, 9 bytes) shared `'X'` with the ids a script has seen
///   (`account · 'X' · hash`, 41 bytes): they move to [`tags::mailboxes::SIEVE_SETTINGS`].
fn separate_shared_tags(txn: &mut Txn<'_>) -> Result<usize> {
    let directory = rewrite_tags(txn, Keyspace::Directory, |k| {
        let global_sieve = k.len() == 8 + 1 + 1 + 1 && k[9] == b't'
            || k.len() == 8 + 1 + 1 + 8 + 1 && k[9] == b'd';
        if k[8] == b'v' && global_sieve {
            Some(tags::directory::SIEVE_GLOBAL)
        } else if k[8] == b'o' && k[..8] == [0; 8] && k.len() == 8 + 1 + 8 + 8 {
            Some(tags::directory::WEBHOOK_OUTBOX)
        } else {
            None
        }
    })?;
    let mailboxes = rewrite_tags(txn, Keyspace::Mailboxes, |k| {
        (k.len() == 9 && k[8] == b'X').then_some(tags::mailboxes::SIEVE_SETTINGS)
    })?;
    Ok(directory + mailboxes)
}

/// Walks every key of `ks` with an owner (8 bytes) and a tag; where `new_tag` names one, moves
/// the record to the same key with that tag. The moves are collected first and made after the
/// walk, so that the walk never meets a record it has just moved.
fn rewrite_tags(
    txn: &mut Txn<'_>,
    ks: Keyspace,
    new_tag: impl Fn(&[u8]) -> Option<u8>,
) -> Result<usize> {
    let mut moves = Vec::new();
    let mut start = Vec::new();
    loop {
        let page = txn.scan(
            ks,
            &Range {
                start: start.clone(),
                end: None,
            },
            Direction::Forward,
            PAGE,
        )?;
        let full = page.len() == PAGE;
        if let Some((last, _)) = page.last() {
            start = last.clone();
            start.push(0);
        }
        for (key, value) in page {
            if key.len() < 9 {
                continue;
            }
            if let Some(tag) = new_tag(&key) {
                moves.push((key, tag, value));
            }
        }
        if !full {
            break;
        }
    }
    let moved = moves.len();
    for (key, tag, value) in moves {
        let mut moved = key.clone();
        moved[8] = tag;
        txn.delete(ks, key);
        txn.put(ks, moved, value);
    }
    Ok(moved)
}

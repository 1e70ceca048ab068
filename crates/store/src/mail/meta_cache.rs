//! Decoded message metadata kept in memory, shared by every session of the process.
//!
//! Metadata is a function of the body alone and is stored under the body's content hash, so an
//! entry never goes stale: the same hash always names the same bytes and the same metadata.
//! (A body whose last copy is removed leaves its entry until it is evicted; it is only found
//! through a message record that names the hash, and no record names a removed body.) The
//! cache is bounded by an estimate of the bytes its entries hold, and evicts entries not read
//! lately first.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::blob::BlobHash;
use crate::error::Result;

use super::MessageMeta;

/// Independent parts of the cache, each with its own lock and share of the budget.
const SHARDS: usize = 32;

/// The process-wide cache of [`MessageMeta`] by body hash: shards chosen by the hash (which is
/// uniformly distributed already), each evicting with the CLOCK rule (an entry read since the
/// hand last passed gets a second chance), so a read only sets a bit.
pub(crate) struct MetaCache {
    /// Empty when the configured size is 0.
    shards: Box<[Mutex<Shard>]>,
    /// Bytes each shard may hold.
    budget: usize,
}

#[derive(Default)]
struct Shard {
    map: HashMap<BlobHash, Entry, BuildHasherDefault<HashBytes>>,
    /// The clock: keys in the order the hand visits them.
    ring: VecDeque<BlobHash>,
    weight: usize,
}

struct Entry {
    meta: Arc<MessageMeta>,
    weight: usize,
    referenced: bool,
}

/// A body hash is a BLAKE3 digest, already uniform: its bytes are the map's hash.
#[derive(Default)]
struct HashBytes(u64);

impl Hasher for HashBytes {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(17) ^ u64::from_le_bytes(word);
    }
}

impl MetaCache {
    /// A cache holding about `bytes` of decoded metadata (0: none is kept).
    pub(crate) fn new(bytes: usize) -> MetaCache {
        let shards = if bytes == 0 { 0 } else { SHARDS };
        MetaCache {
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            budget: bytes / SHARDS,
        }
    }

    fn shard(&self, hash: &BlobHash) -> Option<&Mutex<Shard>> {
        let i = usize::from(hash.0[31]) % SHARDS;
        self.shards.get(i)
    }

    /// The metadata of `hash`: from memory, else `load` (the store read), kept for next time.
    pub(crate) fn get_or_load(
        &self,
        hash: &BlobHash,
        load: impl FnOnce() -> Result<Option<MessageMeta>>,
    ) -> Result<Option<Arc<MessageMeta>>> {
        let Some(shard) = self.shard(hash) else {
            return Ok(load()?.map(Arc::new));
        };
        if let Some(e) = shard.lock().map.get_mut(hash) {
            e.referenced = true;
            return Ok(Some(e.meta.clone()));
        }
        // Loaded without the lock: two readers may both load, and the second keeps the first's.
        let Some(meta) = load()? else {
            return Ok(None);
        };
        let meta = Arc::new(meta);
        let weight = weight(&meta);
        if weight > self.budget {
            return Ok(Some(meta));
        }
        let mut s = shard.lock();
        if let Some(e) = s.map.get(hash) {
            return Ok(Some(e.meta.clone()));
        }
        s.map.insert(
            *hash,
            Entry {
                meta: meta.clone(),
                weight,
                referenced: false,
            },
        );
        s.ring.push_back(*hash);
        s.weight += weight;
        s.evict(self.budget);
        Ok(Some(meta))
    }
}

impl Shard {
    /// Moves the hand until the shard fits its budget. Each pass clears the bits it meets, so
    /// this ends within two turns of the clock.
    fn evict(&mut self, budget: usize) {
        while self.weight > budget {
            let Some(key) = self.ring.pop_front() else {
                break;
            };
            let Some(e) = self.map.get_mut(&key) else {
                continue;
            };
            if e.referenced {
                e.referenced = false;
                self.ring.push_back(key);
            } else {
                self.weight -= e.weight;
                self.map.remove(&key);
            }
        }
    }
}

/// An estimate of the heap an entry holds: the kept header section, the strings of the
/// envelope and the header index, and a fixed part per body part.
fn weight(m: &MessageMeta) -> usize {
    let e = &m.envelope;
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let addresses = [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc]
        .iter()
        .flat_map(|l| l.iter())
        .map(|a| text(&a.name) + text(&a.mailbox) + text(&a.host) + 96)
        .sum::<usize>();
    let envelope = text(&e.date) + text(&e.subject) + text(&e.in_reply_to) + text(&e.message_id);
    let headers: usize = m.headers.iter().map(|h| h.name.len() + 40).sum();
    let references: usize = m.references.iter().map(|r| r.len() + 24).sum();
    512 + m.header.as_ref().map_or(0, Vec::len)
        + addresses
        + envelope
        + headers
        + references
        + parts(&m.structure) * 256
}

fn parts(p: &super::BodyPart) -> usize {
    1 + p.children.iter().map(parts).sum::<usize>() + p.message.as_ref().map_or(0, |m| parts(&m.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(subject: &str) -> MessageMeta {
        MessageMeta::parse(format!("Subject: {subject}\r\n\r\nbody\r\n").as_bytes())
    }

    fn hash(n: u8) -> BlobHash {
        BlobHash([n; 32])
    }

    #[test]
    fn stays_within_its_budget_and_keeps_what_is_read() {
        // Subjects of at most three digits: room for four entries per shard, not five.
        let one = weight(&meta("000"));
        let cache = MetaCache::new((one * 4 + one / 2) * SHARDS);
        let loads = std::cell::Cell::new(0);
        let get = |n: u8| {
            cache
                .get_or_load(&hash(n), || {
                    loads.set(loads.get() + 1);
                    Ok(Some(meta(&n.to_string())))
                })
                .unwrap()
                .unwrap()
        };
        // Same last byte: the same shard.
        let keys: Vec<u8> = (0..8).map(|i| i * SHARDS as u8).collect();
        for &k in &keys[..4] {
            get(k);
        }
        assert_eq!(loads.get(), 4);
        get(keys[0]);
        assert_eq!(loads.get(), 4, "a hit does not load");
        for &k in &keys[4..] {
            get(k);
        }
        let s = cache.shard(&hash(0)).unwrap().lock();
        assert!(s.weight <= cache.budget, "{} > {}", s.weight, cache.budget);
        assert!(s.map.len() <= 4);
        assert!(s.map.contains_key(&hash(keys[7])), "the newest is kept");
        drop(s);
        assert_eq!(
            get(keys[7]).envelope.subject,
            meta(&keys[7].to_string()).envelope.subject
        );
    }

    #[test]
    fn a_missing_record_is_not_kept() {
        let cache = MetaCache::new(1 << 20);
        assert!(cache.get_or_load(&hash(1), || Ok(None)).unwrap().is_none());
        let got = cache
            .get_or_load(&hash(1), || Ok(Some(meta("later"))))
            .unwrap();
        assert_eq!(got.unwrap().envelope.subject.as_deref(), Some("later"));
    }
}

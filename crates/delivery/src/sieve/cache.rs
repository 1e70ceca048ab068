//! Compiled scripts by content hash. Many mailboxes share a script (a bulk filter, a global
//! script, the managed vacation section), and compiling is far dearer than hashing, so each
//! distinct text is compiled once. Bounded: the oldest entry goes first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ::sieve::Sieve;

/// A compiled script, or why it did not compile (kept too, so that a broken script is not
/// recompiled at every delivery).
pub type Compiled = Result<Arc<Sieve>, String>;

/// A bounded map from a script's BLAKE3 hash to its compilation.
#[derive(Debug)]
pub struct ScriptCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<[u8; 32], Compiled>,
    order: VecDeque<[u8; 32]>,
}

impl ScriptCache {
    pub fn new(capacity: usize) -> Self {
        ScriptCache {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// The compilation of `text`, compiling with `compile` on a miss.
    pub fn get_or_compile(&self, text: &[u8], compile: impl FnOnce(&[u8]) -> Compiled) -> Compiled {
        let key = *blake3::hash(text).as_bytes();
        if let Some(hit) = self.lock().map.get(&key) {
            return hit.clone();
        }
        // Compiled outside the lock: another thread may compile the same text meanwhile, and
        // both results are equal.
        let compiled = compile(text);
        let mut inner = self.lock();
        if !inner.map.contains_key(&key) {
            while inner.map.len() >= self.capacity {
                let Some(old) = inner.order.pop_front() else {
                    break;
                };
                inner.map.remove(&old);
            }
            inner.order.push_back(key);
            inner.map.insert(key, compiled.clone());
        }
        compiled
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True if nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a consistent map: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_compiles_once() {
        let cache = ScriptCache::new(2);
        let mut compiles = 0;
        for text in [&b"a"[..], b"a", b"b", b"c", b"c"] {
            let _ = cache.get_or_compile(text, |_| {
                compiles += 1;
                Err("x".into())
            });
        }
        assert_eq!(compiles, 3);
        assert_eq!(cache.len(), 2);
    }
}

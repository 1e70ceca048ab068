//! The API's rate limits and log throttles, kept in the store so that every process serving the
//! API on the same data counts the same requests.
//!
//! A limit is a token bucket per key (a token, a principal, a client address): `burst` requests
//! at once, refilled at `per_second`. Taking from a bucket is one store transaction, so two
//! processes taking at the same time see each other's takes. A bucket that has refilled
//! completely says nothing more than a missing one and is removed by [`purge`].

use marque_store::tags::meta;
use marque_store::{Key, Keyspace, Store, Txn, now_ms};

use crate::housekeeping::remove_expired;

use crate::state::Settings;

fn bucket_key(key: &str) -> Vec<u8> {
    Key::new().tag(meta::API_BUCKET).str(key).into_bytes()
}

fn mark_key(key: &str) -> Vec<u8> {
    Key::new().tag(meta::API_MARK).str(key).into_bytes()
}

/// A bucket as stored: its level and when it was last taken from.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

impl Bucket {
    fn decode(v: &[u8]) -> Option<Bucket> {
        let tokens = f64::from_bits(u64::from_be_bytes(v.get(..8)?.try_into().ok()?));
        let at_ms = u64::from_be_bytes(v.get(8..16)?.try_into().ok()?);
        Some(Bucket { tokens, at_ms })
    }

    fn encode(self) -> Vec<u8> {
        let mut v = self.tokens.to_bits().to_be_bytes().to_vec();
        v.extend_from_slice(&self.at_ms.to_be_bytes());
        v
    }

    /// The level at `now_ms`, refilled since the last take.
    fn level(self, now_ms: u64, s: &Settings) -> f64 {
        let secs = now_ms.saturating_sub(self.at_ms) as f64 / 1000.0;
        (self.tokens + secs * s.per_second).min(f64::from(s.burst))
    }
}

/// Takes one request from `key`'s bucket in `txn` at `now_ms`; `Err(seconds)` to wait when it
/// is empty (nothing is written then).
fn take_in(
    txn: &mut Txn<'_>,
    key: &str,
    now_ms: u64,
    s: &Settings,
) -> marque_store::Result<Result<(), u64>> {
    let k = bucket_key(key);
    let level = match txn
        .get(Keyspace::Meta, &k)?
        .as_deref()
        .and_then(Bucket::decode)
    {
        Some(b) => b.level(now_ms, s),
        None => f64::from(s.burst),
    };
    if level < 1.0 {
        let wait = (1.0 - level) / s.per_second.max(0.001);
        return Ok(Err(wait.ceil().max(1.0) as u64));
    }
    let left = Bucket {
        tokens: level - 1.0,
        at_ms: now_ms,
    };
    txn.put(Keyspace::Meta, k, left.encode());
    Ok(Ok(()))
}

/// Takes one request from `key`'s bucket; `Err(seconds)` to wait when it is empty. A store
/// that cannot be written refuses the request for a second rather than letting it through
/// uncounted.
pub async fn take(store: &Store, key: &str, s: Settings) -> Result<(), u64> {
    let key = key.to_string();
    let now = now_ms();
    match store.transact(move |txn| take_in(txn, &key, now, &s)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the rate limiter could not be updated");
            Err(1)
        }
    }
}

/// True the first time `key` is seen in each `every` (for writing a token's use to the log
/// once in a while rather than on every request); the mark is shared by every process.
pub async fn first_in(store: &Store, key: &str, every_ms: u64) -> bool {
    let k = mark_key(key);
    let now = now_ms();
    let due = store
        .transact(move |txn| {
            let last = txn
                .get(Keyspace::Meta, &k)?
                .and_then(|v| Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?)));
            if last.is_some_and(|at| now.saturating_sub(at) < every_ms) {
                return Ok::<_, marque_store::Error>(false);
            }
            txn.put(Keyspace::Meta, k, now.to_be_bytes().to_vec());
            Ok(true)
        })
        .await;
    due.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the token-use mark could not be updated");
        true
    })
}

/// Removes the buckets that have refilled completely and the marks older than `mark_ms`;
/// returns how many records it removed.
pub async fn purge(store: &Store, s: Settings, mark_ms: u64) -> marque_store::Result<usize> {
    let now = now_ms();
    // A bucket refills from empty in burst / per_second seconds.
    let full_after_ms = (f64::from(s.burst) / s.per_second.max(0.001) * 1000.0).ceil() as u64;
    let mut removed = 0;
    for (tag, older_than) in [(meta::API_BUCKET, full_after_ms), (meta::API_MARK, mark_ms)] {
        // Both kinds of record end with the time of their last use.
        removed += remove_expired(store, tag, move |v| {
            let at = v
                .get(v.len().saturating_sub(8)..)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            now.saturating_sub(at) >= older_than
        })
        .await?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(burst: u32, per_second: f64) -> Settings {
        Settings {
            burst,
            per_second,
            ..Settings::default()
        }
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let s = settings(10, 2.0);
        let b = Bucket {
            tokens: 0.0,
            at_ms: 1_000,
        };
        assert_eq!(b.level(1_000, &s), 0.0);
        assert_eq!(b.level(2_000, &s), 2.0);
        assert_eq!(b.level(60_000, &s), 10.0);
        assert_eq!(Bucket::decode(&b.encode()), Some(b));
        assert_eq!(Bucket::decode(&[1, 2, 3]), None);
    }
}

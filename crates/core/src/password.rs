//! Password hashing with argon2id (PHC strings), run on a small pool of dedicated threads.
//!
//! Each argon2 call allocates its whole memory cost (19 MiB by default). The C allocator keeps
//! such a buffer in the arena of the thread that freed it, one arena per thread, so running
//! hashes on tokio's blocking pool (hundreds of threads) left hundreds of them resident. The
//! pool here has one thread per core: at most that many arenas ever hold argon2's memory, and
//! hashing cannot take more CPU than the machine has while other blocking work waits.
//!
//! A client that signs in again and again with the same password (a phone reconnecting, a
//! tool that logs in per command) would pay a full argon2 hash each time. [`verify_async`]
//! therefore remembers recent successful checks ([`Verified`]): a bounded, expiring set of
//! keyed digests of (stored hash, password) under a key drawn at random when the process
//! starts. It never holds a password or anything a password can be recovered from without
//! that key; a new password means a new stored hash (with its own salt), which no remembered
//! digest matches. Failed checks are never remembered. Every service verifies passwords
//! through here, so they all share it; it is only a cache, rebuilt by the next argon2 check.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};

/// The argon2 cost. [`HashCost::default`] follows OWASP's argon2id recommendation (19 MiB, two
/// passes); tests may choose a cheaper one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

impl HashCost {
    /// The cheapest cost argon2 allows: only for tests.
    pub fn insecure_for_tests() -> Self {
        HashCost {
            memory_kib: 8,
            iterations: 1,
        }
    }

    fn argon2(self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|e| CoreError::Hash(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashes a password into a PHC string (blocking: call through [`hash_async`] from async code).
pub fn hash(cost: HashCost, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Hash(e.to_string()))?;
    let phc = cost
        .argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| CoreError::Hash(e.to_string()))?;
    Ok(phc.to_string())
}

/// Checks a password against a PHC string; the parameters come from the string itself.
pub fn verify(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A unit of work for the hashing threads.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The queue of the hashing threads, started on first use: one thread per core.
fn pool() -> &'static mpsc::Sender<Job> {
    static POOL: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("{THREAD_PREFIX}{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A panicking job drops its answer channel (its caller sees an
                        // error); the thread stays for the next one.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        // If no thread started, the receiver is gone with them and every job fails to send.
        tx
    })
}

/// Name prefix of the hashing threads.
const THREAD_PREFIX: &str = "marque-argon2-";

/// Runs `f` on the hashing threads and waits for its result without blocking the runtime.
async fn on_pool<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (answer, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(f());
    });
    pool()
        .send(job)
        .map_err(|_| CoreError::Task("no password hashing thread is running".into()))?;
    result
        .await
        .map_err(|_| CoreError::Task("password hashing failed".into()))
}

/// [`hash`] on the hashing threads.
pub async fn hash_async(cost: HashCost, password: String) -> Result<String> {
    on_pool(move || hash(cost, &password)).await?
}

/// [`verify`] on the hashing threads, unless the same password was verified against the
/// same stored hash a short while ago ([`Verified`]).
pub async fn verify_async(phc: String, password: String) -> Result<bool> {
    let cache = verified();
    let digest = cache.digest(&phc, &password);
    if cache.contains(&digest, Instant::now()) {
        return Ok(true);
    }
    let ok = on_pool(move || verify(&phc, &password)).await?;
    if ok {
        cache.insert(digest, Instant::now());
    }
    Ok(ok)
}

/// Successful checks remembered at most.
pub const VERIFIED_CAPACITY: usize = 16_384;
/// How long a successful check is remembered.
pub const VERIFIED_FOR: Duration = Duration::from_secs(15 * 60);

/// The process's cache of successful checks.
fn verified() -> &'static Verified {
    static CACHE: OnceLock<Verified> = OnceLock::new();
    CACHE.get_or_init(|| Verified::new(VERIFIED_CAPACITY, VERIFIED_FOR))
}

/// A digest of (stored hash, password) under the cache's key.
type Digest32 = [u8; 32];

/// Recent successful password checks: keyed SHA-256 digests of the stored PHC string and the
/// password, each remembered for a fixed time, the oldest forgotten first when full.
#[derive(Debug)]
pub struct Verified {
    key: [u8; 32],
    capacity: usize,
    ttl: Duration,
    inner: Mutex<VerifiedInner>,
}

#[derive(Debug, Default)]
struct VerifiedInner {
    /// Digest → when it was remembered.
    at: HashMap<Digest32, Instant>,
    /// Digests in the order they were remembered (an entry remembered again appears twice;
    /// only the occurrence matching `at` counts).
    order: VecDeque<(Digest32, Instant)>,
}

impl Verified {
    /// An empty cache of at most `capacity` checks, each kept for `ttl`, under a random key.
    pub fn new(capacity: usize, ttl: Duration) -> Verified {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Verified {
            key,
            capacity: capacity.max(1),
            ttl,
            inner: Mutex::new(VerifiedInner::default()),
        }
    }

    /// The digest of one check. Lengths are part of it, so no two (hash, password) pairs
    /// give the same input.
    pub fn digest(&self, phc: &str, password: &str) -> Digest32 {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((phc.len() as u64).to_be_bytes());
        h.update(phc.as_bytes());
        h.update((password.len() as u64).to_be_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VerifiedInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True if `digest` was remembered less than the cache's time ago.
    pub fn contains(&self, digest: &Digest32, now: Instant) -> bool {
        let inner = self.lock();
        inner
            .at
            .get(digest)
            .is_some_and(|at| now.saturating_duration_since(*at) < self.ttl)
    }

    /// Remembers a successful check, forgetting expired ones and, when full, the oldest.
    pub fn insert(&self, digest: Digest32, now: Instant) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        while let Some(&(d, at)) = inner.order.front() {
            let expired = now.saturating_duration_since(at) >= self.ttl;
            let stale = inner.at.get(&d) != Some(&at);
            if !(expired || stale || inner.at.len() >= self.capacity) {
                break;
            }
            inner.order.pop_front();
            if !stale {
                inner.at.remove(&d);
            }
        }
        inner.at.insert(digest, now);
        inner.order.push_back((digest, now));
    }

    /// Checks remembered now (expired ones included until the next insert sweeps them).
    pub fn len(&self) -> usize {
        self.lock().at.len()
    }

    /// True if nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let phc = hash(HashCost::insecure_for_tests(), "correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify(&phc, "correct horse"));
        assert!(!verify(&phc, "correct horsE"));
        assert!(!verify("not a hash", "correct horse"));
        let again = hash(HashCost::insecure_for_tests(), "correct horse").unwrap();
        assert_ne!(phc, again, "every hash has its own salt");
    }

    #[test]
    fn verified_checks_are_keyed_bounded_and_expire() {
        let c = Verified::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let d = c.digest("$argon2id$h1", "pw");
        // Keyed: another process (another key) has other digests; nothing of the password.
        let other = Verified::new(3, Duration::from_secs(60));
        assert_ne!(d, other.digest("$argon2id$h1", "pw"));
        assert_ne!(d, c.digest("$argon2id$h1", "pw "));
        // A new stored hash (a changed password) is another entry.
        assert_ne!(d, c.digest("$argon2id$h2", "pw"));
        // Field boundaries count: ("ab", "c") is not ("a", "bc").
        assert_ne!(c.digest("ab", "c"), c.digest("a", "bc"));
        assert!(!c.contains(&d, t0));
        c.insert(d, t0);
        assert!(c.contains(&d, t0 + Duration::from_secs(59)));
        assert!(!c.contains(&d, t0 + Duration::from_secs(60)));
        // Bounded: the oldest goes first.
        let more: Vec<_> = (0..3)
            .map(|i| c.digest("$argon2id$x", &format!("p{i}")))
            .collect();
        for (i, m) in more.iter().enumerate() {
            c.insert(*m, t0 + Duration::from_secs(1 + i as u64));
        }
        assert_eq!(c.len(), 3);
        assert!(!c.contains(&d, t0 + Duration::from_secs(5)));
        assert!(
            more.iter()
                .all(|m| c.contains(m, t0 + Duration::from_secs(5)))
        );
        // Remembering again renews the entry without growing past the bound.
        c.insert(more[0], t0 + Duration::from_secs(30));
        c.insert(d, t0 + Duration::from_secs(31));
        assert_eq!(c.len(), 3);
        assert!(c.contains(&more[0], t0 + Duration::from_secs(80)));
        // Expired entries are swept when something new comes.
        c.insert(d, t0 + Duration::from_secs(200));
        assert_eq!(c.len(), 1);
    }

    #[tokio::test]
    async fn a_repeated_sign_in_skips_argon2_but_a_wrong_password_never_does() {
        let phc = hash(HashCost::default(), "s3cret").unwrap();
        let started = Instant::now();
        assert!(verify_async(phc.clone(), "s3cret".into()).await.unwrap());
        let first = started.elapsed();
        let again = Instant::now();
        assert!(verify_async(phc.clone(), "s3cret".into()).await.unwrap());
        let second = again.elapsed();
        assert!(
            second * 10 < first,
            "cached check took {second:?}, argon2 {first:?}"
        );
        // Wrong passwords are checked in full every time and never remembered.
        for _ in 0..2 {
            let t = Instant::now();
            assert!(!verify_async(phc.clone(), "s3cret!".into()).await.unwrap());
            assert!(t.elapsed() * 10 > first, "a failed check was cached");
        }
        let d = verified().digest(&phc, "s3cret!");
        assert!(!verified().contains(&d, Instant::now()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hashing_runs_on_a_pool_of_one_thread_per_core() {
        let phc = hash_async(HashCost::insecure_for_tests(), "pw".into())
            .await
            .unwrap();
        let checks: Vec<_> = (0..64)
            .map(|i| {
                let phc = phc.clone();
                tokio::spawn(async move {
                    let pw = if i % 2 == 0 { "pw" } else { "wrong" };
                    let ok = verify_async(phc, pw.into()).await.unwrap();
                    assert_eq!(ok, i % 2 == 0);
                    on_pool(|| std::thread::current().name().map(str::to_string))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut names = std::collections::BTreeSet::new();
        for c in checks {
            let name = c.await.unwrap().unwrap();
            assert!(name.starts_with(THREAD_PREFIX), "{name}");
            names.insert(name);
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert!(names.len() <= cores, "{names:?}");
        // A job that panics fails alone; the pool keeps serving.
        let failed: Result<()> = on_pool(|| panic!("boom")).await;
        assert!(failed.is_err());
        assert!(verify_async(phc, "pw".into()).await.unwrap());
    }
}

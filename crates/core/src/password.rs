//! Password hashing with argon2id (PHC strings), run on a small pool of dedicated threads.
//!
//! Each argon2 call allocates its whole memory cost (19 MiB by default). The C allocator keeps
//! such a buffer in the arena of the thread that freed it, one arena per thread, so running
//! hashes on tokio's blocking pool (hundreds of threads) left hundreds of them resident. The
//! pool here has one thread per core: at most that many arenas ever hold argon2's memory, and
//! hashing cannot take more CPU than the machine has while other blocking work waits.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

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

/// [`verify`] on the hashing threads.
pub async fn verify_async(phc: String, password: String) -> Result<bool> {
    on_pool(move || verify(&phc, &password)).await
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

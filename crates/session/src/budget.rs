//! The process-wide budget of client input held in memory: a message being checked and stored
//! after DATA or BDAT, an APPEND literal while it arrives. Every session takes its share before
//! it reads or loads the bytes and gives it back when the command is done; when the budget is
//! spent, a session waits a moment for room and then refuses with a temporary error (SMTP
//! `451 4.3.2`, IMAP `NO [LIMIT]`), so that many hostile clients together cannot grow the
//! process without bound.
//!
//! The budget limits this process's memory, so it is this process's own: it changes no
//! behaviour another process would need to agree with.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default budget: `[limits] input_memory_mb`.
pub const DEFAULT_BYTES: u64 = 512 * 1024 * 1024;
/// Default wait for room before refusing.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Permits count KiB, so that a budget of terabytes still fits a semaphore's `u32` requests.
const UNIT: u64 = 1024;

/// A shared budget of bytes; clones share it.
#[derive(Debug, Clone)]
pub struct InputBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    room: Arc<Semaphore>,
    units: u64,
    wait: Duration,
}

/// Bytes taken from the budget; they go back when this is dropped.
#[derive(Debug)]
pub struct Held {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
}

impl Held {
    /// The bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Default for InputBudget {
    fn default() -> Self {
        InputBudget::new(DEFAULT_BYTES, DEFAULT_WAIT)
    }
}

impl InputBudget {
    /// A budget of `bytes` (rounded up to whole KiB); a request waits at most `wait` for room.
    pub fn new(bytes: u64, wait: Duration) -> Self {
        let units = units(bytes).min(Semaphore::MAX_PERMITS as u64);
        InputBudget {
            inner: Arc::new(Inner {
                room: Arc::new(Semaphore::new(units as usize)),
                units,
                wait,
            }),
        }
    }

    /// The whole budget in bytes.
    pub fn total(&self) -> u64 {
        self.inner.units * UNIT
    }

    /// Bytes free now.
    pub fn available(&self) -> u64 {
        self.inner.room.available_permits() as u64 * UNIT
    }

    /// Takes `bytes` from the budget, waiting up to the budget's wait for room; `None` when
    /// there is no room by then, or when `bytes` is more than the whole budget (no wait).
    pub async fn reserve(&self, bytes: u64) -> Option<Held> {
        let want = units(bytes).max(1);
        if want > self.inner.units {
            return None;
        }
        let n = u32::try_from(want).ok()?;
        let room = self.inner.room.clone();
        let permit = match room.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(_) => tokio::time::timeout(self.inner.wait, room.acquire_many_owned(n))
                .await
                .ok()?
                .ok()?,
        };
        Some(Held {
            _permit: permit,
            bytes,
        })
    }
}

fn units(bytes: u64) -> u64 {
    bytes.div_ceil(UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_full_budget_waits_then_refuses_and_frees_on_drop() {
        let b = InputBudget::new(10 * 1024, Duration::from_secs(5));
        assert_eq!(b.total(), 10 * 1024);
        let first = b.reserve(6 * 1024).await.expect("room");
        assert_eq!(b.available(), 4 * 1024);
        // No room: waits the whole 5 s, then gives up.
        let started = tokio::time::Instant::now();
        assert!(b.reserve(6 * 1024).await.is_none());
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // Room appears while a request waits: it gets it.
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.reserve(6 * 1024).await.map(|h| h.bytes()) }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(first);
        assert_eq!(waiter.await.expect("join"), Some(6 * 1024));
        assert_eq!(b.available(), 10 * 1024);
    }

    #[tokio::test(start_paused = true)]
    async fn more_than_the_whole_budget_is_refused_at_once() {
        let b = InputBudget::new(4096, Duration::from_secs(60));
        let started = tokio::time::Instant::now();
        assert!(b.reserve(4097 + 1024).await.is_none());
        assert_eq!(started.elapsed(), Duration::ZERO);
        // Sizes round up to whole KiB; zero bytes still take one unit.
        let h = b.reserve(0).await.expect("room");
        assert_eq!(b.available(), 3 * 1024);
        drop(h);
        assert!(b.reserve(u64::MAX).await.is_none());
    }
}

//! Limits after login: sessions per user (RFC 5530 `LIMIT` when passed) and commands per
//! second (a token bucket: a client over the rate is slowed down, not cut off).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use marque_store::AccountId;
use tokio::time::Instant;

/// RFC 3501 §5.4: an authenticated session silent this long is logged out (at least 30
/// minutes; IDLE is renewed by clients every 29).
pub const AUTOLOGOUT: Duration = Duration::from_secs(31 * 60);
/// A connection that has not signed in within this long is closed.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Most simultaneous sessions of one user.
pub const MAX_SESSIONS_PER_USER: usize = 20;
/// Sustained commands per second of one session, unless configured otherwise.
pub const COMMANDS_PER_SECOND: usize = 200;
/// Commands a session may send at once above the sustained rate, unless configured otherwise.
pub const COMMAND_BURST: usize = 400;

/// Password checks that may run at once for one handler; more sign-ins wait their turn. Each
/// check is an argon2 hash of 19 MiB: a burst of sign-ins would otherwise take that much
/// memory each at the same time (and the allocator keeps much of it afterwards).
pub fn concurrent_sign_ins() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Open sessions per user, shared by every session of a handler.
#[derive(Debug, Default, Clone)]
pub struct Sessions {
    open: Arc<Mutex<HashMap<AccountId, usize>>>,
}

/// One counted session; the count drops with it.
#[derive(Debug)]
pub struct SessionPermit {
    sessions: Sessions,
    account: AccountId,
}

impl Sessions {
    /// Counts one more session of `account`, unless it already has `max`.
    pub fn admit(&self, account: AccountId, max: usize) -> Option<SessionPermit> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(account).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SessionPermit {
            sessions: self.clone(),
            account,
        })
    }

    /// Sessions `account` has open.
    pub fn count(&self, account: AccountId) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&account).copied().unwrap_or(0)
    }
}

impl Drop for SessionPermit {
    fn drop(&mut self) {
        let mut open = self.sessions.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.account);
            }
        }
    }
}

/// A token bucket over commands.
#[derive(Debug)]
pub struct CommandRate {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl CommandRate {
    /// A full bucket.
    pub fn new(now: Instant, rate: f64, burst: f64) -> Self {
        CommandRate {
            tokens: burst,
            last: now,
            rate,
            burst,
        }
    }

    /// Takes one token; returns how long the caller must wait first (zero within the rate).
    pub fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_counted_and_released() {
        let s = Sessions::default();
        let a = AccountId(7);
        let p1 = s.admit(a, 2).unwrap();
        let _p2 = s.admit(a, 2).unwrap();
        assert!(s.admit(a, 2).is_none());
        drop(p1);
        assert_eq!(s.count(a), 1);
        assert!(s.admit(a, 2).is_some());
    }

    #[test]
    fn the_bucket_slows_a_flood_down() {
        let t0 = Instant::now();
        let mut r = CommandRate::new(t0, 10.0, 5.0);
        for _ in 0..5 {
            assert_eq!(r.take(t0), Duration::ZERO);
        }
        let wait = r.take(t0);
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        // A second later the bucket has refilled.
        assert_eq!(r.take(t0 + Duration::from_secs(1)), Duration::ZERO);
    }
}

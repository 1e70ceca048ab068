//! AUTH failure throttling per client IP, shared by every session of a handler: each failure
//! is answered after a growing delay, and an address with too many recent failures is refused
//! for a while (`421 4.7.0`). The table is bounded: when full, stale entries are dropped, and if
//! none is stale the oldest goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Settings (see [`super::Config`]).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleConfig {
    /// Delay before answering the first failure; doubled for each further one.
    pub first_delay: Duration,
    /// Longest delay.
    pub max_delay: Duration,
    /// Failures after which the address is refused.
    pub ban_after: u32,
    /// How long failures are remembered, and the ban lasts, after the last failure.
    pub window: Duration,
    /// Most addresses remembered.
    pub max_entries: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// The shared table.
#[derive(Debug)]
pub struct AuthThrottle {
    cfg: ThrottleConfig,
    table: Mutex<HashMap<IpAddr, Entry>>,
}

impl AuthThrottle {
    pub fn new(cfg: ThrottleConfig) -> Self {
        AuthThrottle {
            cfg,
            table: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last) < self.cfg.window
    }

    /// True if `ip` has failed too often lately.
    pub fn banned(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table
            .get(&ip)
            .is_some_and(|e| self.fresh(e, now) && e.failures >= self.cfg.ban_after)
    }

    /// Records a failure; returns how long to wait before answering it.
    pub fn failed(&self, ip: IpAddr) -> Duration {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= self.cfg.max_entries && !table.contains_key(&ip) {
            table.retain(|_, e| now.duration_since(e.last) < self.cfg.window);
            if table.len() >= self.cfg.max_entries
                && let Some(oldest) = table.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| *k)
            {
                table.remove(&oldest);
            }
        }
        let e = table.entry(ip).or_insert(Entry {
            failures: 0,
            last: now,
        });
        if !self.fresh(e, now) {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        let shift = (e.failures - 1).min(16);
        self.cfg
            .first_delay
            .saturating_mul(1 << shift)
            .min(self.cfg.max_delay)
    }

    /// A success forgets the address's failures.
    pub fn succeeded(&self, ip: IpAddr) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ThrottleConfig {
        ThrottleConfig {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            ban_after: 3,
            window: Duration::from_secs(60),
            max_entries: 2,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn delays_grow_then_ban_then_expire() {
        let t = AuthThrottle::new(cfg());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(t.failed(ip), Duration::from_secs(1));
        assert_eq!(t.failed(ip), Duration::from_secs(2));
        assert!(!t.banned(ip));
        assert_eq!(t.failed(ip), Duration::from_secs(4));
        assert!(t.banned(ip));
        assert_eq!(t.failed(ip), Duration::from_secs(5));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(!t.banned(ip));
        assert_eq!(t.failed(ip), Duration::from_secs(1));
        t.succeeded(ip);
        assert!(!t.banned(ip));
    }

    #[tokio::test(start_paused = true)]
    async fn the_table_is_bounded() {
        let t = AuthThrottle::new(cfg());
        for i in 1..=10u8 {
            t.failed(IpAddr::from([192, 0, 2, i]));
        }
        assert!(t.table.lock().unwrap().len() <= 2);
    }
}

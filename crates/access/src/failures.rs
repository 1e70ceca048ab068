//! Failed sign-ins by client address, so that the delay after a failure keeps growing when a
//! client reconnects instead of trying again in the same session (RFC 1939 §13, RFC 2449
//! §8.1.2 and RFC 9051 §11 leave the policy to the server; this one slows guessing down).
//! IMAP and POP3 each keep one, shared by their listeners.
//!
//! A successful sign-in does not clear the count (else a valid account would reset the delay
//! between guesses at another); only failed attempts wait. Memory is bounded: an address is forgotten [`FORGET_AFTER`] after its last failure, and at
//! most [`MAX_ADDRESSES`] are remembered.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How long a failure counts against its address.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The most addresses remembered at once.
pub const MAX_ADDRESSES: usize = 10_000;
/// The delay stops growing after this many failures.
const MAX_STEPS: u32 = 8;

/// Recent failures per client address.
#[derive(Debug, Clone, Default)]
pub struct Failures {
    by_ip: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
}

impl Failures {
    /// Records a failure from `ip` and returns how many it has made recently, this one included.
    pub fn record(&self, ip: IpAddr) -> u32 {
        let now = Instant::now();
        let mut map = self.by_ip.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ADDRESSES && !map.contains_key(&ip) {
            map.retain(|_, (_, last)| now.duration_since(*last) < FORGET_AFTER);
            if map.len() >= MAX_ADDRESSES {
                // Still full of recent failures: this one counts as a first.
                return 1;
            }
        }
        let entry = map.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= FORGET_AFTER {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
        entry.0
    }

    /// The delay before answering the `count`th failure: `step` times `count`, capped.
    pub fn delay(step: Duration, count: u32) -> Duration {
        step.saturating_mul(count.min(MAX_STEPS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failures_add_up_across_sessions_and_are_forgotten() {
        let f = Failures::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(f.record(a), 1);
        assert_eq!(f.record(a), 2);
        assert_eq!(f.record(b), 1);
        tokio::time::advance(FORGET_AFTER).await;
        assert_eq!(f.record(a), 1, "forgotten after a quiet while");
        let step = Duration::from_secs(1);
        assert_eq!(Failures::delay(step, 3), Duration::from_secs(3));
        assert_eq!(Failures::delay(step, 100), Duration::from_secs(8));
    }

    #[test]
    fn memory_is_bounded() {
        let f = Failures::default();
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            f.record(IpAddr::from(i.to_be_bytes()));
        }
        assert!(f.by_ip.lock().unwrap().len() <= MAX_ADDRESSES);
    }
}

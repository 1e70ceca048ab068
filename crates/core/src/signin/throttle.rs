//! Recent failed sign-ins, kept in the store so that every service and every process sees
//! the same counts: one record per client address and one per login, under
//! [`meta::SIGN_IN`] in [`Keyspace::Meta`].
//!
//! - An address's failures make each of its further failures wait longer (doubling from
//!   [`ThrottleConfig::first_delay`] up to [`ThrottleConfig::max_delay`]), and after
//!   [`ThrottleConfig::ban_after`] of them the address is refused on every door until
//!   [`ThrottleConfig::window`] has passed without a failure.
//! - A login's failures, from whatever addresses, slow its sign-ins once there are
//!   [`ThrottleConfig::account_after`] of them (a slow, distributed guess): the delay grows
//!   but is capped at [`ThrottleConfig::account_max_delay`] and never becomes a refusal, so that
//!   an attacker cannot lock the real user out.
//!
//! A success clears nothing: a valid account must not reset the delay between guesses at
//! another, and counts fall away on their own [`ThrottleConfig::window`] after the last
//! failure. Records past that are deleted by [`sweep`].

use std::net::IpAddr;
use std::time::Duration;

use marque_store::tags::meta;
use marque_store::{Direction, Key, Keyspace, Range, Reader, Txn};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The throttle's settings (`[signin]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Delay after an address's first failure; doubled for each further one.
    pub first_delay: Duration,
    /// Longest delay for an address.
    pub max_delay: Duration,
    /// Failures from one address after which it is refused on every service.
    pub ban_after: u32,
    /// How long failures are remembered (and a ban lasts) after the last one.
    pub window: Duration,
    /// Failures against one login, from any addresses, after which its sign-ins are slowed.
    pub account_after: u32,
    /// Longest delay for a login; a login is never refused outright.
    pub account_max_delay: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(16),
            ban_after: 10,
            window: Duration::from_secs(15 * 60),
            account_after: 5,
            account_max_delay: Duration::from_secs(16),
        }
    }
}

/// One record: how many failures, and when the last one was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Failures {
    pub count: u32,
    /// Milliseconds since the Unix epoch.
    pub last_ms: u64,
}

/// Whose failures a record counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    Address(IpAddr),
    /// A login, trimmed and lower-cased.
    Login(&'a str),
}

const ADDRESS: u8 = b'i';
const LOGIN: u8 = b'a';

fn key(subject: Subject<'_>) -> Vec<u8> {
    let k = Key::new().tag(meta::SIGN_IN);
    match subject {
        // The canonical form, so that `::ffff:192.0.2.1` and `192.0.2.1` are one address.
        Subject::Address(ip) => k.tag(ADDRESS).str(&ip.to_canonical().to_string()),
        Subject::Login(login) => k.tag(LOGIN).str(login),
    }
    .into_bytes()
}

impl ThrottleConfig {
    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX)
    }

    /// The failures of a record that still count at `now_ms`.
    pub(crate) fn recent(&self, f: Failures, now_ms: u64) -> u32 {
        if now_ms.saturating_sub(f.last_ms) < self.window_ms() {
            f.count
        } else {
            0
        }
    }

    /// The delay that an address's `n`th recent failure costs.
    pub fn address_delay(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        doubled(self.first_delay, n - 1).min(self.max_delay)
    }

    /// The delay that a login's `n`th recent failure costs: nothing below
    /// [`Self::account_after`], then doubling from [`Self::first_delay`].
    pub fn account_delay(&self, n: u32) -> Duration {
        if n < self.account_after.max(1) {
            return Duration::ZERO;
        }
        doubled(self.first_delay, n - self.account_after.max(1)).min(self.account_max_delay)
    }

    /// Whether an address with `n` recent failures is refused.
    pub fn banned(&self, n: u32) -> bool {
        self.ban_after > 0 && n >= self.ban_after
    }
}

fn doubled(d: Duration, times: u32) -> Duration {
    d.saturating_mul(1u32 << times.min(20))
}

/// Reads the record of `subject`.
pub(crate) fn load(r: &impl Reader, subject: Subject<'_>) -> Result<Failures> {
    Ok(r.get(Keyspace::Meta, &key(subject))?
        .map(|v| marque_store::decode(Keyspace::Meta, &v))
        .transpose()?
        .unwrap_or_default())
}

/// Counts one more failure of `subject` at `now_ms`; returns the recent failures, this one
/// included.
pub(crate) fn record(
    txn: &mut Txn<'_>,
    cfg: &ThrottleConfig,
    subject: Subject<'_>,
    now_ms: u64,
) -> Result<u32> {
    let mut f = load(&*txn, subject)?;
    f.count = cfg.recent(f, now_ms).saturating_add(1);
    f.last_ms = now_ms.max(f.last_ms);
    txn.put(Keyspace::Meta, key(subject), marque_store::encode(&f)?);
    Ok(f.count)
}

/// Deletes up to `limit` records whose failures no longer count at `now_ms`; returns how many.
pub(crate) fn sweep(
    txn: &mut Txn<'_>,
    cfg: &ThrottleConfig,
    now_ms: u64,
    limit: usize,
) -> Result<usize> {
    let prefix = Key::new().tag(meta::SIGN_IN).into_bytes();
    let rows = txn.scan(
        Keyspace::Meta,
        &Range::prefix(&prefix),
        Direction::Forward,
        limit,
    )?;
    let mut gone = 0;
    for (k, v) in rows {
        let f: Failures = marque_store::decode(Keyspace::Meta, &v)?;
        if cfg.recent(f, now_ms) == 0 {
            txn.delete(Keyspace::Meta, k);
            gone += 1;
        }
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_stop_growing() {
        let c = ThrottleConfig::default();
        assert_eq!(c.address_delay(0), Duration::ZERO);
        assert_eq!(c.address_delay(1), Duration::from_secs(1));
        assert_eq!(c.address_delay(3), Duration::from_secs(4));
        assert_eq!(c.address_delay(100), Duration::from_secs(16));
        assert_eq!(c.account_delay(4), Duration::ZERO);
        assert_eq!(c.account_delay(5), Duration::from_secs(1));
        assert_eq!(c.account_delay(7), Duration::from_secs(4));
        assert_eq!(c.account_delay(u32::MAX), Duration::from_secs(16));
        assert!(!c.banned(9) && c.banned(10));
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let c = ThrottleConfig::default();
        let f = Failures {
            count: 4,
            last_ms: 1_000,
        };
        assert_eq!(c.recent(f, 1_000 + 899_999), 4);
        assert_eq!(c.recent(f, 1_000 + 900_000), 0);
    }

    #[test]
    fn an_address_and_its_mapped_form_are_one_key() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(key(Subject::Address(a)), key(Subject::Address(b)));
        assert_ne!(key(Subject::Address(a)), key(Subject::Login("192.0.2.1")));
    }
}

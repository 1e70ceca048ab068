//! What every route shares: the core and the hosting features, the rate limiter and the idempotency cache.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use marque_core::Core;
use marque_hosting::Hosting;
use parking_lot::Mutex;

/// Largest upload (a bulk CSV or JSON of mailboxes).
pub const MAX_UPLOAD: usize = 8 * 1024 * 1024;

/// Tunables of the API (defaults suit production; tests narrow them).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Requests a token may make in a burst.
    pub burst: u32,
    /// Requests per second a token regains.
    pub per_second: f64,
    /// How long a response is remembered under its `Idempotency-Key`.
    pub idempotency_ttl: Duration,
    /// How many remembered responses are kept at most (oldest dropped first).
    pub idempotency_entries: usize,
    /// Largest JSON body accepted.
    pub max_json: usize,
    /// How long a client has to send a request head.
    pub header_timeout: Duration,
    /// A token's successful use from one address is written to the authentication log once
    /// in this long (every failure is written).
    pub token_use_every: Duration,
    /// The MTA-STS policy served for hosted domains.
    pub mta_sts: crate::wellknown::MtaSts,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            burst: 200,
            per_second: 50.0,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            idempotency_entries: 10_000,
            max_json: 1024 * 1024,
            header_timeout: Duration::from_secs(15),
            token_use_every: Duration::from_secs(10 * 60),
            mta_sts: crate::wellknown::MtaSts::default(),
        }
    }
}

/// The shared state behind the router.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    /// The hosting features over the same core.
    pub hosting: Hosting,
    pub hostname: Arc<str>,
    pub settings: Settings,
    pub limiter: Arc<Mutex<HashMap<String, Bucket>>>,
    pub idempotency: Arc<Mutex<crate::idempotency::Cache>>,
    /// When each (token, client address) was last written to the authentication log.
    pub token_seen: Arc<Mutex<HashMap<(String, IpAddr), Instant>>>,
}

impl AppState {
    /// State over the hosting features and their core.
    pub fn new(hosting: Hosting, hostname: &str, settings: Settings) -> Self {
        AppState {
            core: hosting.core().clone(),
            hosting,
            hostname: hostname.into(),
            settings,
            limiter: Arc::default(),
            idempotency: Arc::new(Mutex::new(crate::idempotency::Cache::new(
                settings.idempotency_entries,
                settings.idempotency_ttl,
            ))),
            token_seen: Arc::default(),
        }
    }

    /// True if this use of `token` from `ip` should be written to the authentication log:
    /// the first in [`Settings::token_use_every`]. Memory stays bounded: past 100,000 pairs,
    /// those older than the interval are forgotten, and if all are recent, all are.
    pub fn token_use_due(&self, token: &str, ip: IpAddr) -> bool {
        let now = Instant::now();
        let every = self.settings.token_use_every;
        let mut seen = self.token_seen.lock();
        if seen.len() >= 100_000 {
            seen.retain(|_, at| now.duration_since(*at) < every);
            if seen.len() >= 100_000 {
                seen.clear();
            }
        }
        match seen.get(&(token.to_string(), ip)) {
            Some(at) if now.duration_since(*at) < every => false,
            _ => {
                seen.insert((token.to_string(), ip), now);
                true
            }
        }
    }

    /// Takes one request from `key`'s token bucket; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut all = self.limiter.lock();
        if all.len() > 100_000 {
            // Bounded memory: forget buckets that have refilled completely.
            let s = self.settings;
            all.retain(|_, b| b.level(now, s) < f64::from(s.burst));
        }
        let b = all.entry(key.to_string()).or_insert(Bucket {
            tokens: f64::from(self.settings.burst),
            at: now,
        });
        b.tokens = b.level(now, self.settings);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.settings.per_second.max(0.001);
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// One token's bucket.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn level(&self, now: Instant, s: Settings) -> f64 {
        let refill = now.duration_since(self.at).as_secs_f64() * s.per_second;
        (self.tokens + refill).min(f64::from(s.burst))
    }
}

/// The client's address, put on each request by the connection handler.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

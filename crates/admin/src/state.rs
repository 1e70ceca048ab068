//! What every route shares: the core and the hosting features, and the API's settings. The
//! rate limits ([`crate::limiter`]) and remembered responses ([`crate::idempotency`]) live in
//! the store, shared by every process.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use marque_core::Core;
use marque_hosting::Hosting;

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
}

impl AppState {
    /// State over the hosting features and their core.
    pub fn new(hosting: Hosting, hostname: &str, settings: Settings) -> Self {
        AppState {
            core: hosting.core().clone(),
            hosting,
            hostname: hostname.into(),
            settings,
        }
    }

    /// True if this use of `token` from `ip` should be written to the authentication log:
    /// the first in [`Settings::token_use_every`], counted across every process on the store.
    pub async fn token_use_due(&self, token: &str, ip: IpAddr) -> bool {
        let every = self.settings.token_use_every.as_millis() as u64;
        crate::limiter::first_in(self.core.store(), &format!("{token}\0{ip}"), every).await
    }

    /// Takes one request from `key`'s token bucket; `Err(seconds)` to wait when it is empty.
    pub async fn take(&self, key: &str) -> Result<(), u64> {
        crate::limiter::take(self.core.store(), key, self.settings).await
    }
}

/// The client's address, put on each request by the connection handler.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

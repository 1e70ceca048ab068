//! The webhook dispatcher: a task that sends what the webhook outbox holds.
//!
//! Each delivery is a `POST` of the event's JSON with `X-Marque-Event` (the event name),
//! `X-Marque-Delivery` (its id, the same on every retry) and `X-Marque-Signature`
//! (`t=<unix>,v1=<hex HMAC-SHA256 over "t.body">`, see [`sign`]). A `2xx` answer delivers it;
//! anything else (another status, a redirect, no connection, the timeout) is retried with
//! exponential backoff until [`DispatchSettings::max_attempts`] or
//! [`DispatchSettings::max_age`]. Redirects are never followed. Before every attempt the URL's
//! host is resolved and vetted again ([`marque_hosting::webhook_target`]); a target that is (or
//! now resolves to) an address webhooks may not reach is given up at once, and the request
//! goes only to the addresses vetted then. Every attempt lands in the webhook's delivery log,
//! with the answer's status and nothing else of it.
//!
//! # Layout
//! - [`sign`]: HMAC-SHA256 and the signature header.
//! - [`client`]: one HTTP/1.1 POST, plain or TLS.

pub mod client;
pub mod sign;

use std::sync::Arc;
use std::time::Duration;

use marque_hosting::Hosting;
use marque_hosting::webhook_outbox::{AttemptResult, Due};
use marque_hosting::webhook_target::TargetError;
use marque_session::ShutdownSignal;
use marque_store::lease::Holder;
use marque_store::now_ms;
use tokio::task::JoinSet;
use tokio_rustls::rustls::ClientConfig;

/// Tunables of the dispatcher (defaults suit production; tests shorten the waits).
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// How often the outbox is looked at when it had nothing due.
    pub poll: Duration,
    /// The longest one attempt may take, connection and answer included.
    pub timeout: Duration,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// After this long since the event, a failed delivery is given up.
    pub max_age: Duration,
    /// The wait after the first failure; it doubles after each further one.
    pub backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// The PEM file of trusted roots for https URLs.
    pub roots: String,
    /// This process in the leases it takes on deliveries, so that of several dispatchers on
    /// one store only one sends each delivery.
    pub node: Holder,
    /// How long a claim holds a delivery; longer than [`DispatchSettings::timeout`]. A
    /// dispatcher that dies leaves its claims to run out, then another sends them.
    pub lease: Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            max_age: Duration::from_secs(24 * 3600),
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(3600),
            concurrency: 16,
            roots: client::SYSTEM_ROOTS.into(),
            node: Holder::local(),
            lease: Duration::from_secs(120),
        }
    }
}

impl DispatchSettings {
    /// The wait after `attempt` (from 1) failed: `backoff · 2^(attempt-1)`, at most
    /// `max_backoff`.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// The dispatcher over the hosting features.
pub struct Dispatcher {
    hosting: Hosting,
    settings: DispatchSettings,
    tls: Arc<ClientConfig>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher; fails only if TLS cannot be set up at all.
    pub fn new(hosting: &Hosting, settings: DispatchSettings) -> Result<Self, String> {
        let tls = client::tls_config(&settings.roots).map_err(|e| format!("webhook TLS: {e}"))?;
        Ok(Dispatcher {
            hosting: hosting.clone(),
            settings,
            tls,
        })
    }

    /// Sends what is due until `stop`; deliveries in flight finish (each within the timeout).
    pub async fn run(self, mut stop: ShutdownSignal) {
        let this = Arc::new(self);
        tracing::info!("webhook dispatcher started");
        loop {
            let sent = match this.round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook outbox could not be read");
                    0
                }
            };
            if sent > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(this.settings.poll) => {}
                _ = stop.wait() => break,
            }
        }
        tracing::info!("webhook dispatcher stopped");
    }

    /// Sends one batch of due deliveries; returns how many.
    async fn round(self: &Arc<Self>) -> Result<usize, marque_core::CoreError> {
        // At least the attempt's own time, so a claim outlives the attempt it covers.
        let lease = self.settings.lease.max(self.settings.timeout * 2);
        let due = self
            .hosting
            .claim_webhook_deliveries(
                now_ms(),
                &self.settings.node,
                u64::try_from(lease.as_millis()).unwrap_or(u64::MAX),
                self.settings.concurrency.max(1),
            )
            .await?;
        let n = due.len();
        let mut set = JoinSet::new();
        for d in due {
            let this = self.clone();
            set.spawn(async move { this.attempt(d).await });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// One attempt of one delivery, and its record.
    async fn attempt(&self, d: Due) {
        let unix = now_ms() / 1000;
        let headers = [
            ("X-Marque-Event", d.event.clone()),
            ("X-Marque-Delivery", d.delivery.to_string()),
            (
                "X-Marque-Signature",
                sign::signature(&d.secret, unix, d.body.as_bytes()),
            ),
        ];
        // Vetted again at every attempt, and sent only to the addresses vetted now.
        let (sent, refused) = match self.hosting.webhook_addresses(&d.url).await {
            Ok(addrs) => {
                let sent = client::post(
                    &self.tls,
                    &d.url,
                    &addrs,
                    &headers,
                    d.body.clone(),
                    self.settings.timeout,
                )
                .await;
                (sent, false)
            }
            Err(TargetError::Refused(why)) => (Err(format!("not sent: {why}")), true),
            Err(TargetError::Unresolved(why)) => (Err(format!("not sent: {why}")), false),
        };
        let (status, error) = match sent {
            Ok(s) => (Some(s), None),
            Err(e) => (None, Some(e)),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let now = now_ms();
        let age = Duration::from_millis(now.saturating_sub(d.first_ms));
        let retry_at_ms = (!ok
            && !refused
            && d.attempt < self.settings.max_attempts
            && age < self.settings.max_age)
            .then(|| {
                let wait = u64::try_from(self.settings.delay_after(d.attempt).as_millis())
                    .unwrap_or(u64::MAX);
                now.saturating_add(wait)
            });
        tracing::debug!(
            webhook = %d.webhook,
            delivery = d.delivery,
            attempt = d.attempt,
            status,
            error = error.as_deref(),
            "webhook attempt"
        );
        if !ok && retry_at_ms.is_none() {
            tracing::warn!(webhook = %d.webhook, delivery = d.delivery, attempts = d.attempt,
                "webhook delivery given up");
        }
        let result = AttemptResult {
            status,
            error,
            retry_at_ms,
        };
        if let Err(e) = self.hosting.finish_webhook_attempt(&d, result).await {
            // The delivery stays in the outbox and is sent again: at least once.
            tracing::warn!(webhook = %d.webhook, error = %e, "webhook attempt not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = DispatchSettings {
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            ..DispatchSettings::default()
        };
        let waits: Vec<u64> = (1..=6).map(|a| s.delay_after(a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(s.delay_after(u32::MAX).as_secs(), 300);
    }
}

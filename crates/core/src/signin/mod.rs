//! The sign-in policy every service follows: the one throttle of failed sign-ins (SMTP AUTH,
//! IMAP, POP3, ManageSieve, the panel and API tokens all go through it, and its counts live in
//! the store, so that every process sees them), and where a password may travel without TLS.
//!
//! # Layout
//! - [`throttle`]: the counts per client address and per login, their delays and the ban.
//!
//! [`crate::Core::sign_in`] waits, refuses or counts through here; a service needs only
//! [`crate::Core::cleartext_sign_in`] (whether to offer plain-text mechanisms before TLS) and,
//! for a connection-time refusal, [`crate::Core::sign_in_ban`].

pub mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use marque_session::Network;
use throttle::Subject;
pub use throttle::ThrottleConfig;

use crate::Core;
use crate::authlog::Attempt;
use crate::error::{CoreError, Result};

/// How sign-ins are guarded (`[signin]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPolicy {
    /// The throttle of failed sign-ins.
    pub throttle: ThrottleConfig,
    /// Client networks that may send a password before TLS (RFC 8314 §3: everyone else must
    /// use TLS): loopback by default, plus the addresses of TLS-terminating proxies.
    pub cleartext_networks: Vec<Network>,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            throttle: ThrottleConfig::default(),
            cleartext_networks: Network::loopback(),
        }
    }
}

/// Failures recorded by this process between two sweeps of stale records.
const SWEEP_EVERY: u64 = 256;
/// Records looked at by one sweep.
const SWEEP_LIMIT: usize = 1000;
/// Times [`Core::sign_in`] re-reads the counts after waiting, before it goes ahead anyway.
const MAX_WAITS: usize = 3;

/// The policy and this process's clock, shared by the clones of a [`Core`].
#[derive(Debug, Clone)]
pub(crate) struct SignIn {
    policy: Arc<SignInPolicy>,
    clock: Clock,
    failures: Arc<AtomicU64>,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn {
            policy: Arc::new(SignInPolicy::default()),
            clock: Clock::start(),
            failures: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// Wall-clock milliseconds that advance with tokio's clock: stored times are comparable
/// between processes, and tests that pause tokio's time (`tokio::time::pause`) control them.
#[derive(Debug, Clone, Copy)]
struct Clock {
    wall_ms: u64,
    at: tokio::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall_ms: crate::now_ms(),
            at: tokio::time::Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        let since = tokio::time::Instant::now().saturating_duration_since(self.at);
        self.wall_ms
            .saturating_add(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

/// The login as counted: trimmed and lower-cased, as sign-in compares it.
fn login_key(login: &str) -> String {
    login.trim().to_ascii_lowercase()
}

impl Core {
    /// Sets the sign-in policy (`[signin]`). The counts it applies to are in the store, so
    /// every handle on the same store shares them.
    pub fn with_sign_in_policy(mut self, policy: SignInPolicy) -> Core {
        self.sign_in.policy = Arc::new(policy);
        self
    }

    /// The sign-in policy.
    pub fn sign_in_policy(&self) -> &SignInPolicy {
        &self.sign_in.policy
    }

    /// Whether a client at `ip` may sign in with a password before TLS (RFC 8314 §3, RFC 9051
    /// §6.2.3, RFC 2595 §4): only from the configured networks (loopback by default).
    pub fn cleartext_sign_in(&self, ip: IpAddr) -> bool {
        self.sign_in
            .policy
            .cleartext_networks
            .iter()
            .any(|n| n.contains(ip))
    }

    /// How much longer `ip` is refused for its failed sign-ins, or `None` when it is not.
    pub async fn sign_in_ban(&self, ip: IpAddr) -> Result<Option<Duration>> {
        let cfg = self.sign_in.policy.throttle;
        let now = self.sign_in.clock.now_ms();
        let f = self
            .read(move |s| throttle::load(s, Subject::Address(ip)))
            .await?;
        let n = cfg.recent(f, now);
        if !cfg.banned(n) {
            return Ok(None);
        }
        let until = f.last_ms.saturating_add(cfg.window.as_millis() as u64);
        Ok(Some(
            Duration::from_millis(until.saturating_sub(now)).max(Duration::from_secs(1)),
        ))
    }

    /// Before a sign-in is checked: refuses a banned address, and waits until the delay that
    /// the address's and the login's last failures set has passed (attempts in parallel
    /// connections, or on another service, wait their turn).
    pub(crate) async fn throttle_before(
        &self,
        ip: Option<IpAddr>,
        login: Option<&str>,
    ) -> Result<()> {
        let cfg = self.sign_in.policy.throttle;
        let login = login.map(login_key);
        for _ in 0..MAX_WAITS {
            let login = login.clone();
            let (by_ip, by_login) = self
                .read(move |s| {
                    let a = match ip {
                        Some(ip) => throttle::load(s, Subject::Address(ip))?,
                        None => Default::default(),
                    };
                    let l = match &login {
                        Some(l) => throttle::load(s, Subject::Login(l))?,
                        None => Default::default(),
                    };
                    Ok((a, l))
                })
                .await?;
            let now = self.sign_in.clock.now_ms();
            let n_ip = cfg.recent(by_ip, now);
            if cfg.banned(n_ip) {
                let until = by_ip.last_ms.saturating_add(cfg.window.as_millis() as u64);
                return Err(CoreError::SignInRefused {
                    retry_after_secs: until.saturating_sub(now).div_ceil(1000).max(1),
                });
            }
            let ready_ip = by_ip
                .last_ms
                .saturating_add(cfg.address_delay(n_ip).as_millis() as u64);
            let n_login = cfg.recent(by_login, now);
            let ready_login = by_login
                .last_ms
                .saturating_add(cfg.account_delay(n_login).as_millis() as u64);
            let wait = ready_ip.max(ready_login).saturating_sub(now);
            if wait == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        Ok(())
    }

    /// After a failed sign-in: counts it against the address and the login, writes a notice
    /// to the login's authentication log when a distributed guess crosses a threshold, and
    /// returns how long to wait before answering.
    pub(crate) async fn throttle_failed(
        &self,
        attempt: Attempt<'_>,
        ip: Option<IpAddr>,
        login: Option<&str>,
    ) -> Result<Duration> {
        let cfg = self.sign_in.policy.throttle;
        let now = self.sign_in.clock.now_ms();
        let login = login.map(login_key);
        let sweep =
            self.sign_in.failures.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1;
        let counted = login.clone();
        let (n_ip, n_login) = self
            .store()
            .transact(move |txn| -> Result<(u32, u32)> {
                let a = match ip {
                    Some(ip) => throttle::record(txn, &cfg, Subject::Address(ip), now)?,
                    None => 0,
                };
                let l = match &counted {
                    Some(l) => throttle::record(txn, &cfg, Subject::Login(l), now)?,
                    None => 0,
                };
                if sweep {
                    throttle::sweep(txn, &cfg, now, SWEEP_LIMIT)?;
                }
                Ok((a, l))
            })
            .await?;
        if let Some(login) = &login
            && notice_due(&cfg, n_login)
        {
            let minutes = cfg.window.as_secs().div_ceil(60);
            tracing::warn!(
                login = %login,
                failures = n_login,
                "many failed sign-ins for one login; its sign-ins are slowed down"
            );
            let reason = format!(
                "{n_login} failed sign-ins for this login in the last {minutes} minutes, from \
                 one or more addresses: its sign-ins are slowed down (never locked); if this \
                 was not you, change the password"
            );
            let notice = Attempt {
                mechanism: "throttle",
                ..attempt
            };
            self.record_login_event(notice, "throttled", &reason)
                .await?;
        }
        Ok(cfg.address_delay(n_ip).max(cfg.account_delay(n_login)))
    }
}

/// A notice when a login's failures reach [`ThrottleConfig::account_after`], and again each
/// time they double, so that a long guess is reported without flooding the log.
fn notice_due(cfg: &ThrottleConfig, n: u32) -> bool {
    let step = cfg.account_after.max(1);
    n >= step && n.is_multiple_of(step) && (n / step).is_power_of_two()
}

#[cfg(test)]
mod tests {
    #[test]
    fn notices_at_the_threshold_then_each_doubling() {
        let cfg = super::ThrottleConfig::default();
        let at: Vec<u32> = (1..=50).filter(|n| super::notice_due(&cfg, *n)).collect();
        assert_eq!(at, vec![5, 10, 20, 40]);
    }
}

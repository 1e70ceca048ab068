//! Certificates by ACME for the hostnames the platform serves: a task that orders what is
//! missing, renews what expires within `[acme] renew_before_days`, keeps the result (or the
//! reason of the failure) on the hostname's record in the store, and never needs a restart:
//! the resolver reloads on every change (see [`crate::tls::watch`]).
//!
//! # Layout
//! - this file: the task, the account, which hostnames are due.
//! - [`order`]: one order for one hostname.

mod order;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use instant_acme::{Account, AccountCredentials, NewAccount};
use marque_hosting::Hosting;
use marque_hosting::cert::{CertSource, Certificate};
use marque_session::{CertResolver, ShutdownSignal};
use marque_store::lease::NamedLease;
use marque_store::now_ms;
use tracing::{debug, info, warn};

use crate::config::Acme;

/// The name of the ordering task's lease.
pub const TASK: &str = "acme";

/// How often the task looks at every certificate (an order request wakes it at once).
const CHECK_EVERY: Duration = Duration::from_secs(3600);
/// How long after a failure a hostname is tried again (an order request retries at once).
const RETRY_AFTER_MS: u64 = 6 * 3600 * 1000;

/// The ACME client of the platform.
pub struct Client {
    hosting: Hosting,
    resolver: Arc<CertResolver>,
    config: Acme,
    account: Option<Account>,
    /// The task lease: with one, a pass runs only while this process holds it.
    lease: Option<NamedLease>,
}

impl Client {
    /// A client over `hosting`, answering TLS-ALPN-01 through `resolver`.
    pub fn new(hosting: Hosting, resolver: Arc<CertResolver>, config: Acme) -> Client {
        Client {
            hosting,
            resolver,
            config,
            account: None,
            lease: None,
        }
    }

    /// Orders only while this process holds `lease` (kept beside the task by
    /// [`NamedLease::keep`]), so that of several processes on one store one orders at a time.
    pub fn with_lease(mut self, lease: NamedLease) -> Client {
        self.lease = Some(lease);
        self
    }

    /// Runs until `shutdown`: at start, every hour, and whenever a certificate record
    /// changes, orders what is due.
    pub async fn run(mut self, mut shutdown: ShutdownSignal) {
        let mut changes = self.hosting.certificate_changes();
        let mut tick = tokio::time::interval(CHECK_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = tick.tick() => {}
                changed = changes.changed() => if changed.is_err() { break },
            }
            changes.mark_unchanged();
            if self.lease.as_ref().is_some_and(|l| !l.is_held()) {
                debug!("ACME: another node holds the task");
                continue;
            }
            if let Err(e) = self.pass().await {
                warn!(error = %format!("{e:#}"), "ACME: cannot look at the certificates");
            }
        }
    }

    /// Orders a certificate for every hostname that is due; returns how many were issued.
    pub async fn pass(&mut self) -> Result<usize> {
        let now = now_ms();
        let renew_before = u64::try_from(self.config.renew_before.as_millis()).unwrap_or(0);
        let records = self.hosting.all_certificates().await?;
        let mut due: Vec<String> = records
            .iter()
            .filter(|c| is_due(c, now, renew_before))
            .map(|c| c.hostname.clone())
            .collect();
        // Every branded hostname gets a certificate without being asked, once DNS sends it
        // here: when a hosted domain expects records for the name (the `mail.D` CNAME), only
        // after its check found them right (a check that turns them right wakes this task).
        for (host, _) in self.hosting.branded_hostnames().await? {
            if records.iter().any(|c| c.hostname == host) {
                continue;
            }
            match self.hosting.hostname_dns_ready(&host).await {
                Ok(Some(true)) | Ok(None) => due.push(host),
                Ok(Some(false)) => {
                    debug!(hostname = %host, "ACME: waiting for the name's DNS records")
                }
                Err(e) => warn!(hostname = %host, error = %e, "ACME: cannot read the DNS state"),
            }
        }
        let mut issued = 0;
        for host in due {
            match self.issue(&host).await {
                Ok(()) => issued += 1,
                Err(e) => {
                    let reason = format!("{e:#}");
                    warn!(hostname = %host, error = %reason, "ACME order failed");
                    if let Err(e) = self
                        .hosting
                        .record_certificate_failure(&host, &reason)
                        .await
                    {
                        warn!(hostname = %host, error = %e, "recording an ACME failure");
                    }
                }
            }
        }
        Ok(issued)
    }

    async fn issue(&mut self, host: &str) -> Result<()> {
        let account = self.account().await?;
        let ctx = order::Ctx {
            hosting: &self.hosting,
            resolver: &self.resolver,
            challenge: self.config.challenge,
        };
        let (chain, key) = order::order(&ctx, &account, host).await?;
        let stored = self
            .hosting
            .store_issued_certificate(host, &chain, &key)
            .await
            .context("storing the issued certificate")?;
        info!(
            hostname = host,
            not_after_ms = stored.not_after_ms,
            "ACME certificate issued"
        );
        Ok(())
    }

    /// The account: loaded from the store, or created on the ACME server and stored.
    async fn account(&mut self) -> Result<Account> {
        if let Some(a) = &self.account {
            return Ok(a.clone());
        }
        let builder = || -> Result<instant_acme::AccountBuilder> {
            Ok(match &self.config.ca_file {
                Some(ca) => Account::builder_with_root(ca)
                    .with_context(|| format!("trusting {}", ca.display()))?,
                None => Account::builder()?,
            })
        };
        let stored = self.hosting.acme_account().await?;
        let account = match stored.and_then(|s| serde_json::from_str::<AccountCredentials>(&s).ok())
        {
            Some(credentials) => builder()?
                .from_credentials(credentials)
                .await
                .context("loading the ACME account")?,
            None => {
                let contact: Vec<&str> = self.config.contact.iter().map(String::as_str).collect();
                let (account, credentials) = builder()?
                    .create(
                        &NewAccount {
                            contact: &contact,
                            terms_of_service_agreed: true,
                            only_return_existing: false,
                        },
                        self.config.directory.clone(),
                        None,
                    )
                    .await
                    .with_context(|| format!("creating an account at {}", self.config.directory))?;
                self.hosting
                    .set_acme_account(serde_json::to_string(&credentials)?)
                    .await?;
                info!(directory = %self.config.directory, "ACME account created");
                account
            }
        };
        self.account = Some(account.clone());
        Ok(account)
    }
}

/// An ACME record is due when it has no certificate or its certificate expires within
/// `renew_before`, unless it failed less than [`RETRY_AFTER_MS`] ago. Uploaded certificates
/// are their owner's to renew.
fn is_due(c: &Certificate, now: u64, renew_before: u64) -> bool {
    if c.source != CertSource::Acme {
        return false;
    }
    let expiring = c.chain_pem.is_none() || c.not_after_ms <= now.saturating_add(renew_before);
    let resting = c.last_error.is_some()
        && c.last_attempt_ms
            .is_some_and(|t| now.saturating_sub(t) < RETRY_AFTER_MS);
    expiring && !resting
}

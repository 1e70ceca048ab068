//! TLS certificates per served hostname, kept in the store: issued by ACME or uploaded, loaded
//! into the SNI resolver ([`marque_session::CertResolver`]) at start and after each change.
//!
//! Records live in the provider's directory range, one per hostname
//! (`PROVIDER · 'X' · hostname`), since a hostname is served by the whole platform; each
//! names the tenant that owns it (the brand that holds the hostname, else the hosted domain it
//! lies in, else the provider), and only that tenant's subtree (and the provider's staff)
//! may read or change it. The ACME account and pending HTTP-01 answers live beside them
//! ([`acme`]).
//!
//! # Layout
//! - this file: [`Certificate`], its listing, upload, order request and deletion.
//! - [`acme`]: what the ACME client keeps: its account, pending HTTP-01 answers, issued
//!   certificates and failures.

pub mod acme;
pub(crate) mod owner;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use marque_store::{Key, Keyspace};

use marque_core::audit;
use marque_core::directory::{self as dir, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::{PROVIDER, TenantId};
use marque_core::policy::{Action, Object, Target, check};
use marque_core::principal::Actor;
use marque_core::tenant;
use marque_core::validate;
use marque_session::ParsedCert;
use owner::{Claim, ClaimKind, check_claim};

use crate::Hosting;

/// Record tag in the provider's range: `PROVIDER · 'X' · hostname`.
const TAG: u8 = marque_store::tags::directory::CERTIFICATE;

/// Where a certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertSource {
    /// Issued by the configured ACME server and renewed before expiry.
    Acme,
    /// Uploaded through the API; never renewed by the platform.
    Upload,
}

/// The certificate of one hostname. Its key never leaves the core but to the resolver.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// The hostname (lower-case) it is served for.
    pub hostname: String,
    /// The tenant that owns the hostname.
    pub owner: TenantId,
    pub source: CertSource,
    /// The chain, leaf first, as PEM; `None` while the first ACME order is pending or failed.
    pub chain_pem: Option<String>,
    /// The private key, as PEM.
    key_pem: Option<String>,
    /// The names the leaf covers.
    pub names: Vec<String>,
    /// The leaf's notAfter, in milliseconds since the Unix epoch (0 without a certificate).
    pub not_after_ms: u64,
    /// When the certificate was stored.
    pub updated_ms: u64,
    /// The reason of the last failed ACME attempt, cleared by the next success.
    pub last_error: Option<String>,
    /// When ACME was last tried for this hostname.
    pub last_attempt_ms: Option<u64>,
}

/// Never prints the key.
impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("hostname", &self.hostname)
            .field("owner", &self.owner)
            .field("source", &self.source)
            .field("not_after_ms", &self.not_after_ms)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// The record of `hostname` before its first ACME order succeeds: no chain, no key.
    pub fn pending_acme(hostname: String, owner: TenantId) -> Certificate {
        Certificate {
            hostname,
            owner,
            source: CertSource::Acme,
            chain_pem: None,
            key_pem: None,
            names: Vec::new(),
            not_after_ms: 0,
            updated_ms: marque_store::now_ms(),
            last_error: None,
            last_attempt_ms: None,
        }
    }

    /// The private key PEM, for the resolver only.
    pub fn key_pem(&self) -> Option<&str> {
        self.key_pem.as_deref()
    }

    /// The chain and key checked and ready to serve, if the record holds a certificate.
    pub fn parsed(&self) -> Option<std::result::Result<ParsedCert, marque_session::TlsError>> {
        let (chain, key) = (self.chain_pem.as_ref()?, self.key_pem.as_ref()?);
        Some(ParsedCert::from_pem(chain.as_bytes(), key.as_bytes()))
    }
}

/// What the API shows of a certificate: everything but the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub hostname: String,
    pub owner: TenantId,
    pub source: CertSource,
    /// Whether a certificate is stored (an ACME order may still be pending).
    pub issued: bool,
    pub names: Vec<String>,
    pub not_after_ms: u64,
    pub updated_ms: u64,
    pub last_error: Option<String>,
    pub last_attempt_ms: Option<u64>,
    /// The chain, leaf first, as PEM.
    pub chain_pem: Option<String>,
}

impl From<&Certificate> for CertificateInfo {
    fn from(c: &Certificate) -> Self {
        CertificateInfo {
            hostname: c.hostname.clone(),
            owner: c.owner,
            source: c.source,
            issued: c.chain_pem.is_some(),
            names: c.names.clone(),
            not_after_ms: c.not_after_ms,
            updated_ms: c.updated_ms,
            last_error: c.last_error.clone(),
            last_attempt_ms: c.last_attempt_ms,
            chain_pem: c.chain_pem.clone(),
        }
    }
}

pub(crate) fn key(hostname: &str) -> Vec<u8> {
    Key::new()
        .u64(PROVIDER.0)
        .tag(TAG)
        .str(hostname)
        .into_bytes()
}

fn prefix() -> Vec<u8> {
    Key::new().u64(PROVIDER.0).tag(TAG).into_bytes()
}

pub(crate) fn load(r: &impl Reader, hostname: &str) -> Result<Option<Certificate>> {
    dir::get(r, Keyspace::Directory, &key(hostname))
}

pub(crate) fn all(r: &impl Reader) -> Result<Vec<Certificate>> {
    dir::list(r, Keyspace::Directory, &prefix())
}

/// Checks that `actor` may change the certificate of a hostname owned by `owner`: the
/// provider's staff always, others when they may change the owner's domains (`DomainUpdate`
/// on the owner: its administrators and those above) and the owner's plan includes TLS
/// (`features.tls`).
fn check_write(r: &impl Reader, actor: &Actor, owner: TenantId, hostname: &str) -> Result<()> {
    let t = tenant::load(r, owner)?;
    check(
        actor,
        Action::DomainUpdate,
        &Target::of(&t, Object::Tenant),
        "hostname",
        hostname,
    )?;
    if actor.principal.tenant() == PROVIDER {
        return Ok(());
    }
    let included = match t.plan {
        Some(plan) => marque_core::plan::load(r, plan)?.0.features.tls,
        None => false,
    };
    if !included {
        return Err(CoreError::Forbidden {
            action: Action::DomainUpdate,
            what: "certificate (the plan does not include TLS)",
            key: hostname.to_string(),
        });
    }
    Ok(())
}

/// A certificate for `host` is claimed for the tenant the actor acts in (its token's subtree,
/// else its own tenant): the name must be that tenant's to use ([`check_claim`]).
fn claim_of<'a>(actor: &'a Actor, host: &'a str) -> Claim<'a> {
    Claim {
        actor,
        holder: actor
            .scope
            .subtree
            .unwrap_or_else(|| actor.principal.tenant()),
        host,
        kind: ClaimKind::Hostname,
    }
}

/// Checks that `actor` may see the certificate of a hostname owned by `owner`.
fn visible(r: &impl Reader, actor: &Actor, owner: TenantId) -> bool {
    tenant::load(r, owner).is_ok_and(|t| {
        marque_core::policy::authorize(actor, Action::DomainRead, &Target::of(&t, Object::Tenant))
            .is_ok()
    })
}

impl Hosting {
    /// The certificates `actor` may see, by hostname.
    pub async fn certificates(&self, actor: &Actor) -> Result<Vec<CertificateInfo>> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                Ok(all(s)?
                    .iter()
                    .filter(|c| visible(s, &actor, c.owner))
                    .map(CertificateInfo::from)
                    .collect())
            })
            .await
    }

    /// One certificate, if `actor` may see it.
    pub async fn certificate(&self, actor: &Actor, hostname: &str) -> Result<CertificateInfo> {
        let (actor, host) = (actor.clone(), validate::domain(hostname)?);
        self.core
            .read(move |s| match load(s, &host)? {
                Some(c) if visible(s, &actor, c.owner) => Ok(CertificateInfo::from(&c)),
                _ => Err(CoreError::not_found("certificate", &host)),
            })
            .await
    }

    /// Stores an uploaded certificate for `hostname` after checking that the name is the
    /// actor's to certify ([`owner::check_claim`]), that it parses, that the key matches, that
    /// it covers the hostname and that it is valid now.
    pub async fn upload_certificate(
        &self,
        actor: &Actor,
        hostname: &str,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<CertificateInfo> {
        let host = validate::domain(hostname)?;
        let parsed = ParsedCert::from_pem(chain_pem.as_bytes(), key_pem.as_bytes())
            .and_then(|p| p.check_for(&host, marque_store::now_ms()).map(|()| p))
            .map_err(|e| CoreError::Invalid {
                field: "certificate",
                reason: e.to_string(),
            })?;
        let (a, chain, key_pem) = (actor.clone(), chain_pem.to_string(), key_pem.to_string());
        let owner = self.certificate_owner(&host).await?;
        let platform = self.platform_hosts();
        let info = self
            .core
            .write(actor.clone(), move |txn, hooks| {
                check_claim(txn, &platform, claim_of(&a, &host))?;
                check_write(txn, &a, owner, &host)?;
                let cert = Certificate {
                    hostname: host.clone(),
                    owner,
                    source: CertSource::Upload,
                    chain_pem: Some(chain),
                    key_pem: Some(key_pem),
                    names: parsed.names.clone(),
                    not_after_ms: parsed.not_after_ms,
                    updated_ms: marque_store::now_ms(),
                    last_error: None,
                    last_attempt_ms: None,
                };
                dir::put(txn, Keyspace::Directory, key(&host), &cert)?;
                let info = CertificateInfo::from(&cert);
                let path = tenant::load(txn, owner)?.path;
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "certificate.upload",
                    &path,
                    &[&host],
                    &info.names,
                )?;
                Ok(info)
            })
            .await?;
        self.certificates_changed();
        Ok(info)
    }

    /// Asks for an ACME certificate for `hostname`: the record is created (or switched to
    /// ACME) and the renewal task orders it. Returns the record as it is now.
    pub async fn request_certificate(
        &self,
        actor: &Actor,
        hostname: &str,
    ) -> Result<CertificateInfo> {
        let host = validate::domain(hostname)?;
        let a = actor.clone();
        let owner = self.certificate_owner(&host).await?;
        let platform = self.platform_hosts();
        let info = self
            .core
            .write(actor.clone(), move |txn, hooks| {
                check_claim(txn, &platform, claim_of(&a, &host))?;
                check_write(txn, &a, owner, &host)?;
                let mut cert = load(txn, &host)?
                    .unwrap_or_else(|| Certificate::pending_acme(host.clone(), owner));
                cert.source = CertSource::Acme;
                cert.owner = owner;
                // Due at once: the ACME task orders it on its next look.
                cert.last_attempt_ms = None;
                dir::put(txn, Keyspace::Directory, key(&host), &cert)?;
                let path = tenant::load(txn, owner)?.path;
                audit::record(txn, hooks, &a, "certificate.order", &path, &[&host], &())?;
                Ok(CertificateInfo::from(&cert))
            })
            .await?;
        self.certificates_changed();
        Ok(info)
    }

    /// Deletes the certificate of `hostname`; the default certificate is served again.
    pub async fn delete_certificate(&self, actor: &Actor, hostname: &str) -> Result<()> {
        let host = validate::domain(hostname)?;
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let cert = match load(txn, &host)? {
                    Some(c) if visible(txn, &a, c.owner) => c,
                    _ => return Err(CoreError::not_found("certificate", &host)),
                };
                check_write(txn, &a, cert.owner, &host)?;
                txn.delete(Keyspace::Directory, key(&host));
                let path = tenant::load(txn, cert.owner)?.path;
                audit::record(txn, hooks, &a, "certificate.delete", &path, &[&host], &())?;
                Ok(())
            })
            .await?;
        self.certificates_changed();
        Ok(())
    }

    /// The tenant that owns `hostname` (lower-case, validated): the tenant whose brand holds
    /// it, else the nearest hosted domain's owner, else the provider.
    pub async fn certificate_owner(&self, hostname: &str) -> Result<TenantId> {
        if let Some(t) = self.hostname_owner(hostname).await? {
            return Ok(t);
        }
        let host = hostname.to_string();
        self.core.read(move |s| owner::owner_of(s, &host)).await
    }

    /// The platform's own host names from its configuration: `[server] hostname` and the
    /// host branded names point to (the provider's brand hostnames are added where the
    /// ownership rule reads them).
    pub(crate) fn platform_hosts(&self) -> Vec<String> {
        let mut names = vec![self.hostname.clone()];
        let dns = self.dns.settings().platform_host.trim_end_matches('.');
        let dns = dns.to_ascii_lowercase();
        if !dns.is_empty() && !names.contains(&dns) {
            names.push(dns);
        }
        names
    }

    /// Every stored certificate record, for the resolver and the renewal task.
    pub async fn all_certificates(&self) -> Result<Vec<Certificate>> {
        self.core.read(all).await
    }

    /// A receiver that changes each time a certificate is stored or deleted in this process.
    pub fn certificate_changes(&self) -> watch::Receiver<u64> {
        self.certs.subscribe()
    }

    pub(crate) fn certificates_changed(&self) {
        self.certs.send_modify(|n| *n = n.wrapping_add(1));
    }
}

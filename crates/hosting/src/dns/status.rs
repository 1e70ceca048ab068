//! The last check of each domain's records, kept in the store (`tenant · 'N' · domain`, one
//! record per domain, deleted with the domain), and the checks that write it: on demand (at
//! most once per [`DnsSettings::on_demand_every`] per domain) and periodically over every
//! domain ([`Hosting::run_dns_checks`]).

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use marque_store::{Direction, Key, KeyReader, Keyspace, Range};

use marque_core::directory as dir;
use marque_core::domain::load_by_name;
use marque_core::error::{CoreError, Result};
use marque_core::ids::{DomainId, TenantId};
use marque_core::principal::Actor;
use marque_core::validate;
use marque_session::ShutdownSignal;

use super::compare::{self, Lookup, Status, Verdict};
use super::expected::{self, Expected, Inputs, Purpose};
use super::resolve::Resolver;
use super::{DnsSettings, RecordType};
use crate::Hosting;

/// Record tag under the owning tenant.
const TAG: u8 = marque_store::tags::directory::DNS_STATUS;

/// Domains read per page by the periodic check.
const PAGE: usize = 500;

fn key(t: TenantId, d: DomainId) -> Vec<u8> {
    dir::owned_key(t, TAG, d.0)
}

/// One record as last checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checked {
    rtype: RecordType,
    name: String,
    value: String,
    status: Status,
    found: Vec<String>,
    detail: Option<String>,
    warning: Option<String>,
}

/// The stored result of a domain's last check.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    checked_ms: u64,
    records: Vec<Checked>,
}

/// One expected record and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordStatus {
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub name: String,
    /// The value to publish.
    pub expected: String,
    pub purpose: Purpose,
    pub status: Status,
    /// What DNS held at the last check.
    pub found: Vec<String>,
    /// Why the record is wrong, missing or could not be checked.
    pub detail: Option<String>,
    /// Acceptable, but worth changing.
    pub warning: Option<String>,
    /// When the record was last checked (ms since the epoch); `None`: not yet.
    pub last_check_ms: Option<u64>,
}

/// Counts per status, and the domain's overall state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `ok` when every record is; otherwise the worst found: `wrong`, `missing`, `error`,
    /// then `pending`.
    pub status: Option<Status>,
    pub ok: usize,
    pub missing: usize,
    pub wrong: usize,
    pub error: usize,
    pub pending: usize,
    pub warnings: usize,
}

/// Every record a domain must publish, with the state of each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsStatus {
    pub domain: String,
    /// When the domain was last checked; `None`: never.
    pub checked_ms: Option<u64>,
    pub summary: Summary,
    pub records: Vec<RecordStatus>,
}

impl DnsStatus {
    /// True if `name` has records to publish and every one of them is published as expected
    /// (e.g. the `mail.D` CNAME, before a certificate is ordered for `mail.D`).
    pub fn is_ok(&self, name: &str) -> bool {
        let name = compare::host(name);
        let mut of_name = self.records.iter().filter(|r| r.name == name).peekable();
        of_name.peek().is_some() && of_name.all(|r| r.status == Status::Ok)
    }

    fn new(domain: String, expected: Vec<Expected>, stored: Option<Stored>) -> DnsStatus {
        let checked_ms = stored.as_ref().map(|s| s.checked_ms);
        let records: Vec<RecordStatus> = expected
            .into_iter()
            .map(|e| {
                let last = stored.as_ref().and_then(|s| {
                    s.records
                        .iter()
                        .find(|c| c.rtype == e.rtype && c.name == e.name && c.value == e.value)
                        .map(|c| (c, s.checked_ms))
                });
                RecordStatus {
                    rtype: e.rtype,
                    status: last.map(|(c, _)| c.status).unwrap_or(Status::Pending),
                    found: last.map(|(c, _)| c.found.clone()).unwrap_or_default(),
                    detail: last.and_then(|(c, _)| c.detail.clone()),
                    warning: last.and_then(|(c, _)| c.warning.clone()),
                    last_check_ms: last.map(|(_, at)| at),
                    name: e.name,
                    expected: e.value,
                    purpose: e.purpose,
                }
            })
            .collect();
        let mut s = Summary::default();
        for r in &records {
            match r.status {
                Status::Ok => s.ok += 1,
                Status::Missing => s.missing += 1,
                Status::Wrong => s.wrong += 1,
                Status::Error => s.error += 1,
                Status::Pending => s.pending += 1,
            }
            s.warnings += usize::from(r.warning.is_some());
        }
        s.status = Some(if s.ok == records.len() {
            Status::Ok
        } else if s.wrong > 0 {
            Status::Wrong
        } else if s.missing > 0 {
            Status::Missing
        } else if s.error > 0 {
            Status::Error
        } else {
            Status::Pending
        });
        DnsStatus {
            domain,
            checked_ms,
            summary: s,
            records,
        }
    }
}

/// What an on-demand check did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Checked now; the new state.
    Checked(DnsStatus),
    /// The domain was checked on demand too recently; try again after this long.
    TooSoon(Duration),
}

/// True if some record of `now` is ok that was not ok (or not checked) in `before`.
fn newly_ok(before: Option<&Stored>, now: &Stored) -> bool {
    now.records.iter().any(|r| {
        r.status == Status::Ok
            && !before.is_some_and(|b| {
                b.records.iter().any(|p| {
                    p.rtype == r.rtype
                        && p.name == r.name
                        && p.value == r.value
                        && p.status == Status::Ok
                })
            })
    })
}

/// Drops a domain's DNS status (with the domain).
pub(crate) fn delete(txn: &mut marque_store::Txn<'_>, t: TenantId, d: DomainId) {
    txn.delete(Keyspace::Directory, key(t, d));
}

impl Hosting {
    /// The DNS settings the checks use.
    pub fn dns_settings(&self) -> &DnsSettings {
        self.dns.settings()
    }

    /// The records `domain` must publish (its DKIM keys are generated if it has none yet).
    async fn expected_records(&self, domain: &str) -> Result<(TenantId, DomainId, Vec<Expected>)> {
        let n = domain.to_string();
        let (t, d) = self
            .core
            .read(move |s| load_by_name(s, &n).map(|(d, t)| (t.id, d.id)))
            .await?;
        let dkim = crate::dkim::dkim_records(&self.core, domain).await?;
        let identity =
            crate::outbound::outbound_identity(&self.core, t, Some(domain.to_string())).await?;
        let records = expected::expected(
            self.dns.settings(),
            Inputs {
                domain,
                dkim: &dkim,
                source_ip: identity.source_ip,
            },
        );
        Ok((t, d, records))
    }

    /// The stored state of a domain's records, without an actor (for the services: the TLS
    /// side orders a certificate for `mail.D` once [`DnsStatus::is_ok`] says its CNAME is).
    pub async fn dns_status(&self, domain: &str) -> Result<DnsStatus> {
        let name = validate::domain(domain)?;
        let (t, d, expected) = self.expected_records(&name).await?;
        let stored: Option<Stored> = self
            .core
            .read(move |s| dir::get(s, Keyspace::Directory, &key(t, d)))
            .await?;
        Ok(DnsStatus::new(name, expected, stored))
    }

    /// The state of a domain's records, for an actor who may read the domain.
    pub async fn domain_dns(&self, actor: &Actor, domain: &str) -> Result<DnsStatus> {
        let d = self.core.get_domain(actor, domain).await?;
        self.dns_status(&d.name).await
    }

    /// Checks a domain's records now, for an actor who may read the domain; at most once per
    /// [`DnsSettings::on_demand_every`] per domain.
    pub async fn check_domain_dns(&self, actor: &Actor, domain: &str) -> Result<CheckOutcome> {
        let d = self.core.get_domain(actor, domain).await?;
        if let Err(wait) = self.dns.take_slot(&d.name) {
            return Ok(CheckOutcome::TooSoon(wait));
        }
        Ok(CheckOutcome::Checked(self.check_dns(&d.name).await?))
    }

    /// Asks DNS for every record of `domain`, stores the result and returns it (no actor, no
    /// rate limit: the periodic check and the operator's command line).
    pub async fn check_dns(&self, domain: &str) -> Result<DnsStatus> {
        let name = validate::domain(domain)?;
        let (_, _, expected) = self.expected_records(&name).await?;
        let verdicts = judge_all(self.dns.settings(), &expected).await;
        let checked_ms = marque_store::now_ms();
        let stored = Stored {
            checked_ms,
            records: expected
                .iter()
                .zip(verdicts)
                .map(|(e, v)| Checked {
                    rtype: e.rtype,
                    name: e.name.clone(),
                    value: e.value.clone(),
                    status: v.status,
                    found: v.found,
                    detail: v.detail,
                    warning: v.warning,
                })
                .collect(),
        };
        let n = name.clone();
        let written = stored.clone();
        let before: Option<Stored> = self
            .core
            .store()
            .transact(move |txn| -> Result<Option<Stored>> {
                // Looked up again inside the transaction: the domain may have gone meanwhile.
                let (d, t) = load_by_name(txn, &n)?;
                let before = dir::get(txn, Keyspace::Directory, &key(t.id, d.id))?;
                dir::put(txn, Keyspace::Directory, key(t.id, d.id), &written)?;
                Ok(before)
            })
            .await?;
        // A name whose records just turned right may be waiting for its certificate: wake
        // the certificate side (ACME orders a branded hostname once DNS points it here).
        if newly_ok(before.as_ref(), &stored) {
            self.certificates_changed();
        }
        let status = DnsStatus::new(name, expected, Some(stored));
        tracing::info!(
            domain = %status.domain,
            ok = status.summary.ok,
            wrong = status.summary.wrong,
            missing = status.summary.missing,
            error = status.summary.error,
            "DNS records checked"
        );
        Ok(status)
    }

    /// Every domain's name, in name order, `PAGE` at a time after `after`.
    async fn domain_names(&self, after: Option<String>) -> Result<Vec<String>> {
        self.core
            .read(move |s| {
                let prefix = Key::new()
                    .tag(marque_store::tags::names::DOMAIN)
                    .into_bytes();
                let range = match &after {
                    None => Range::prefix(&prefix),
                    Some(a) => {
                        let mut start = Key::new()
                            .tag(marque_store::tags::names::DOMAIN)
                            .str(a)
                            .into_bytes();
                        start.push(0);
                        let end = marque_store::keyspace::prefix_end(&prefix).unwrap_or_default();
                        Range::between(start, end)
                    }
                };
                let rows = s.scan(Keyspace::Names, &range, Direction::Forward, PAGE)?;
                rows.iter()
                    .map(|(k, _)| {
                        let mut r = KeyReader::new(Keyspace::Names, k);
                        r.skip(1)?;
                        Ok(r.str()?.to_string())
                    })
                    .collect::<std::result::Result<Vec<String>, marque_store::Error>>()
                    .map_err(CoreError::from)
            })
            .await
    }

    /// Checks every domain once; returns how many were checked. A domain that cannot be checked
    /// (deleted meanwhile) is logged and skipped.
    pub async fn check_all_dns(&self, stop: &ShutdownSignal) -> Result<usize> {
        let mut after = None;
        let mut checked = 0;
        loop {
            let names = self.domain_names(after.take()).await?;
            let Some(last) = names.last().cloned() else {
                return Ok(checked);
            };
            for name in &names {
                if stop.is_triggered() {
                    return Ok(checked);
                }
                match self.check_dns(name).await {
                    Ok(_) => checked += 1,
                    Err(e) => tracing::warn!(domain = %name, error = %e, "DNS check failed"),
                }
            }
            if names.len() < PAGE {
                return Ok(checked);
            }
            after = Some(last);
        }
    }

    /// Checks every domain's records every [`DnsSettings::check_interval`] until shutdown;
    /// with a `lease` (the task lease, kept beside it), a round starts only while this process
    /// holds it, so that of several processes on one store one checks at a time.
    pub async fn run_dns_checks(
        self,
        lease: Option<marque_store::lease::NamedLease>,
        mut stop: ShutdownSignal,
    ) {
        let every = self.dns.settings().check_interval;
        loop {
            tokio::select! {
                _ = marque_store::lease::NamedLease::until_held(lease.as_ref()) => {}
                _ = stop.wait() => return,
            }
            let watch = stop.clone();
            tokio::select! {
                result = self.check_all_dns(&watch) => match result {
                    Ok(n) => tracing::info!(domains = n, "periodic DNS check done"),
                    Err(e) => tracing::warn!(error = %e, "periodic DNS check failed"),
                },
                _ = stop.wait() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait() => return,
            }
        }
    }
}

/// Asks DNS about every expected record at once (a dead name server then costs one timeout,
/// not one per record) and judges the answers, in the order of `expected`.
async fn judge_all(settings: &DnsSettings, expected: &[Expected]) -> Vec<Verdict> {
    let resolver = match Resolver::new(settings) {
        Ok(r) => std::sync::Arc::new(r),
        Err(e) => {
            tracing::warn!(error = %e, "no resolver for the DNS check");
            return expected
                .iter()
                .map(|_| Verdict {
                    status: Status::Error,
                    found: Vec::new(),
                    detail: Some(e.clone()),
                    warning: None,
                })
                .collect();
        }
    };
    let platform: Vec<IpAddr> = match resolver.addresses(&settings.platform_host).await {
        Lookup::Found(a) => a,
        _ => Vec::new(),
    };
    let mut tasks = JoinSet::new();
    for (i, e) in expected.iter().enumerate() {
        let (r, e, p) = (resolver.clone(), e.clone(), platform.clone());
        tasks.spawn(async move { (i, compare::judge(&e, &r.answer(&e, &p).await)) });
    }
    let mut out: Vec<Option<Verdict>> = vec![None; expected.len()];
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((i, v)) => out[i] = Some(v),
            Err(e) => tracing::warn!(error = %e, "a DNS question failed to run"),
        }
    }
    out.into_iter()
        .map(|v| {
            v.unwrap_or_else(|| Verdict {
                status: Status::Error,
                found: Vec::new(),
                detail: Some("the question failed to run".into()),
                warning: None,
            })
        })
        .collect()
}

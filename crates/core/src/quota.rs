//! Quota: allocation at admin time, usage at delivery and APPEND, and the usage report.
//!
//! Counters live in the store and change in the same transaction as the records they count.
//! A tenant's counters cover its whole subtree, so one counter per ancestor answers "does this
//! fit all the way up the tree?".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use marque_store::counters::{self, Metric, Owner};
use marque_store::mail::Charge;
use marque_store::{Keyspace, Txn};

use crate::directory::{self as dir, Reader};
use crate::domain::Domain;
use crate::error::Result;
use crate::ids::{AccountId, DomainId, TenantId};
use crate::limits::{Limits, count, mib};
use crate::plan::Tier;
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::tenant::{self, Tenant};
use crate::{Core, domain, mailbox};

/// A change in what a domain and its tenants hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct Delta {
    /// Bytes of mailbox quota.
    pub storage: i64,
    pub mailboxes: Vec<(Tier, i64)>,
    pub aliases: i64,
    pub lists: i64,
    pub domains: i64,
}

/// Applies `delta` to the counters of `domain` (if any) and of every tenant in `chain`, failing
/// with [`CoreError::LimitExceeded`] (and, the transaction being dropped, writing nothing) if any
/// growth would pass a limit.
pub(crate) fn allocate(
    txn: &mut Txn<'_>,
    chain: &[Tenant],
    domain: Option<&Domain>,
    delta: &Delta,
) -> Result<()> {
    let mut owners: Vec<(Owner, &Limits, String)> = Vec::with_capacity(chain.len() + 1);
    if let Some(d) = domain {
        owners.push((Owner::Domain(d.id), &d.limits, format!("domain {}", d.name)));
    }
    for t in chain.iter().rev() {
        owners.push((
            Owner::Tenant(t.id),
            &t.limits,
            format!("tenant {} ({})", t.name, t.id),
        ));
    }
    for (owner, limits, who) in owners {
        let is_tenant = matches!(owner, Owner::Tenant(_));
        let mut lines: Vec<(Metric, i64, Option<i64>, String)> = vec![
            (
                Metric::StorageAllocated,
                delta.storage,
                limits.storage_mb.map(mib),
                format!("storage of {who}"),
            ),
            (
                Metric::Aliases,
                delta.aliases,
                limits.aliases.map(count),
                format!("aliases of {who}"),
            ),
            (
                Metric::Lists,
                delta.lists,
                limits.lists.map(count),
                format!("lists of {who}"),
            ),
        ];
        if is_tenant {
            lines.push((
                Metric::Domains,
                delta.domains,
                limits.domains.map(count),
                format!("domains of {who}"),
            ));
        }
        for (tier, n) in &delta.mailboxes {
            let limit = limits.mailboxes.get(tier).copied().map(count);
            lines.push((
                Metric::Mailboxes(tier.code()),
                *n,
                limit,
                format!("{tier:?} mailboxes of {who}"),
            ));
        }
        for (metric, d, limit, name) in lines {
            if d == 0 {
                continue;
            }
            let key = counters::key(owner, metric);
            match limit {
                Some(l) if d > 0 => txn.add_within(&key, d, l, &name)?,
                _ => txn.add(&key, d)?,
            };
        }
    }
    Ok(())
}

/// The largest quota a mailbox of `domain` may have: the smallest limit on the way up, and
/// the plan's maximum.
pub(crate) fn max_mailbox_mb(
    chain: &[Tenant],
    domain: &Domain,
    plan_max: Option<u64>,
) -> Option<u64> {
    chain
        .iter()
        .map(|t| t.limits.max_mailbox_mb)
        .chain([domain.limits.max_mailbox_mb, plan_max])
        .flatten()
        .min()
}

/// What a message stored in `account` must be charged against (see [`Core::usage_charges`]).
pub fn usage_charges_txn(txn: &Txn<'_>, account: AccountId) -> Result<Vec<Charge>> {
    charges(txn, account)
}

fn charges(r: &impl Reader, account: AccountId) -> Result<Vec<Charge>> {
    let rec = mailbox::load_by_id(r, account)?;
    let m = &rec.mailbox;
    let (d, _) = domain::load_by_id(r, m.domain)?;
    let chain = tenant::chain(r, m.tenant)?;
    let mut out = Vec::with_capacity(chain.len() + 2);
    out.push(Charge {
        owner: Owner::Account(account),
        limit: Some(mib(m.quota_mb)),
        name: format!("mailbox quota of {}", m.address),
    });
    out.push(Charge {
        owner: Owner::Domain(d.id),
        limit: d.limits.storage_mb.map(mib),
        name: format!("storage of domain {}", d.name),
    });
    for t in chain.iter().rev() {
        out.push(Charge {
            owner: Owner::Tenant(t.id),
            limit: t.limits.storage_mb.map(mib),
            name: format!("storage pool of tenant {} ({})", t.name, t.id),
        });
    }
    Ok(out)
}

/// Counters of one tenant (its subtree) or one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Domains (tenants only).
    pub domains: i64,
    pub mailboxes: BTreeMap<Tier, i64>,
    pub aliases: i64,
    pub lists: i64,
    /// Bytes of mail stored.
    pub storage_used: i64,
    /// Bytes promised to mailboxes by their quotas.
    pub storage_allocated: i64,
    pub messages: i64,
}

/// A tenant's usage: counts over its subtree, and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantUsage {
    pub id: TenantId,
    pub name: String,
    pub counts: Counts,
    pub limits: Limits,
}

/// A domain's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainUsage {
    pub id: DomainId,
    pub name: String,
    pub counts: Counts,
    pub limits: Limits,
}

/// The usage report of a tenant: its own totals, each child's, and each of its own domains'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub tenant: TenantUsage,
    pub children: Vec<TenantUsage>,
    pub domains: Vec<DomainUsage>,
}

pub(crate) fn counts(r: &impl Reader, owner: Owner) -> Result<Counts> {
    let c = |m| r.counter(&counters::key(owner, m));
    let mut mailboxes = BTreeMap::new();
    for tier in Tier::ALL {
        let n = c(Metric::Mailboxes(tier.code()))?;
        if n != 0 {
            mailboxes.insert(tier, n);
        }
    }
    Ok(Counts {
        domains: if matches!(owner, Owner::Tenant(_)) {
            c(Metric::Domains)?
        } else {
            0
        },
        mailboxes,
        aliases: c(Metric::Aliases)?,
        lists: c(Metric::Lists)?,
        storage_used: c(Metric::StorageUsed)?,
        storage_allocated: c(Metric::StorageAllocated)?,
        messages: c(Metric::Messages)?,
    })
}

pub(crate) fn tenant_usage(r: &impl Reader, t: &Tenant) -> Result<TenantUsage> {
    Ok(TenantUsage {
        id: t.id,
        name: t.name.clone(),
        counts: counts(r, Owner::Tenant(t.id))?,
        limits: t.limits.clone(),
    })
}

pub(crate) fn domain_usage(r: &impl Reader, d: &Domain) -> Result<DomainUsage> {
    Ok(DomainUsage {
        id: d.id,
        name: d.name.clone(),
        counts: counts(r, Owner::Domain(d.id))?,
        limits: d.limits.clone(),
    })
}

impl Core {
    /// The counters a message delivered or appended to `account` must be charged against: the
    /// mailbox quota, the domain's total, and every ancestor tenant's pool (limit `None` where
    /// unlimited, so that usage is still counted). The store's delivery path applies them
    /// atomically with the message.
    pub async fn usage_charges(&self, account: AccountId) -> Result<Vec<Charge>> {
        self.read(move |s| charges(s, account)).await
    }

    /// [`Core::usage_charges`] for threads outside the async runtime.
    pub fn usage_charges_blocking(&self, account: AccountId) -> Result<Vec<Charge>> {
        charges(&self.store, account)
    }

    /// The usage report of a tenant.
    pub async fn usage(&self, actor: &Actor, tenant: TenantId) -> Result<Usage> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::UsageRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            let children = tenant::children(s, tenant)?
                .iter()
                .map(|c| tenant_usage(s, c))
                .collect::<Result<Vec<_>>>()?;
            let domains: Vec<Domain> =
                dir::list(s, Keyspace::Directory, &dir::domains_prefix(tenant))?;
            let domains = domains
                .iter()
                .map(|d| domain_usage(s, d))
                .collect::<Result<Vec<_>>>()?;
            Ok(Usage {
                tenant: tenant_usage(s, &t)?,
                children,
                domains,
            })
        })
        .await
    }

    /// The usage of one domain (what a postmaster sees of its allowance).
    pub async fn domain_usage(&self, actor: &Actor, domain: &str) -> Result<DomainUsage> {
        let actor = actor.clone();
        let name = crate::validate::domain(domain)?;
        self.read(move |s| {
            let (d, t) = domain::load_by_name(s, &name)?;
            check(
                &actor,
                Action::UsageRead,
                &Target::of(&t, Object::Domain(d.id)),
                "domain",
                &name,
            )?;
            domain_usage(s, &d)
        })
        .await
    }
}

/// Recomputes what the records say a tenant's subtree holds (for consistency checks and tests):
/// domains, mailboxes per tier, aliases, lists and allocated bytes.
pub fn recount(store: &marque_store::Store, tenant: TenantId) -> Result<Counts> {
    let mut total = Counts::default();
    let t = tenant::load(store, tenant)?;
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        let domains: Vec<Domain> =
            dir::list(store, Keyspace::Directory, &dir::domains_prefix(t.id))?;
        for d in &domains {
            let c = recount_domain(store, t.id, d)?;
            total.domains += 1;
            total.aliases += c.aliases;
            total.lists += c.lists;
            total.storage_allocated = total.storage_allocated.saturating_add(c.storage_allocated);
            for (tier, n) in c.mailboxes {
                *total.mailboxes.entry(tier).or_default() += n;
            }
        }
        stack.extend(tenant::children(store, t.id)?);
    }
    Ok(total)
}

/// [`recount`] for one domain.
pub fn recount_domain(store: &marque_store::Store, tenant: TenantId, d: &Domain) -> Result<Counts> {
    let mut c = Counts::default();
    let mailboxes: Vec<mailbox::MailboxRecord> = dir::list(
        store,
        Keyspace::Directory,
        &dir::in_domain_prefix(tenant, dir::MAILBOX, d.id),
    )?;
    for m in mailboxes {
        *c.mailboxes.entry(m.mailbox.tier).or_default() += 1;
        c.storage_allocated = c.storage_allocated.saturating_add(mib(m.mailbox.quota_mb));
    }
    let prefix = |tag| dir::in_domain_prefix(tenant, tag, d.id);
    c.aliases = store
        .scan(
            Keyspace::Directory,
            &marque_store::Range::prefix(&prefix(dir::ALIAS)),
            marque_store::Direction::Forward,
            dir::SCAN_MAX,
        )?
        .len() as i64;
    c.lists = store
        .scan(
            Keyspace::Directory,
            &marque_store::Range::prefix(&prefix(dir::LIST)),
            marque_store::Direction::Forward,
            dir::SCAN_MAX,
        )?
        .len() as i64;
    Ok(c)
}

/// A refused delivery or APPEND is reported at most once per mailbox this often.
pub const OVER_QUOTA_EVERY_MS: u64 = 15 * 60 * 1000;

impl Core {
    /// Tells the hooks (the webhooks of a mailbox's tenant and those above) that a delivery
    /// or APPEND was refused because a quota is full. At most one report per mailbox per
    /// [`OVER_QUOTA_EVERY_MS`], so a sender retrying does not flood the receivers; when the
    /// last one went is kept at `tenant · 'Q' · account`. Failures are logged, never
    /// returned: the refusal itself stands either way.
    pub async fn report_over_quota(&self, account: AccountId, service: &'static str) {
        let hooks = self.hooks.clone();
        let r = self
            .store
            .transact(move |txn| -> Result<()> {
                let rec = mailbox::load_by_id(txn, account)?;
                let m = &rec.mailbox;
                let t = tenant::load(txn, m.tenant)?;
                let k = dir::owned_key(m.tenant, dir::OVER_QUOTA, account.0);
                let now = crate::now_ms();
                let last: Option<u64> = dir::get(txn, Keyspace::Directory, &k)?;
                if last.is_some_and(|l| now.saturating_sub(l) < OVER_QUOTA_EVERY_MS) {
                    return Ok(());
                }
                dir::put(txn, Keyspace::Directory, k, &now)?;
                let data = serde_json::json!({
                    "address": m.address,
                    "quota_mb": m.quota_mb,
                    "service": service,
                });
                hooks.over_quota(txn, &t.path, &data)
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(account = %account, error = %e, "could not emit an over-quota event");
        }
    }
}

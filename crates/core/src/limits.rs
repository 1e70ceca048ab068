//! Limits on a tenant or a domain, and changing them (only from above).
//!
//! Every number is bounded ([`MAX_MB`], [`MAX_COUNT`]) so that no stored value can overflow the
//! arithmetic that reads it, and no level grants more than the levels above it: a limit set on
//! a tenant may not pass the effective limit of its parent (the least limit on the way up), a
//! domain's limit may not pass its tenant's. `None` ("no limit at this level") is always allowed:
//! the levels above still apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::audit;
use crate::directory as dir;
use crate::error::{CoreError, Result};
use crate::ids::TenantId;
use crate::plan::Tier;
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::tenant::Tenant;
use crate::{Core, domain, tenant, validate};

/// The largest size in MiB any limit, plan or mailbox quota may name: 16 TiB.
pub const MAX_MB: u64 = 16 * 1024 * 1024;
/// The largest count any limit may name (domains, mailboxes of a tier, aliases, lists).
pub const MAX_COUNT: u64 = 10_000_000;
/// The largest price in credits a plan may ask.
pub const MAX_CREDITS: u64 = 1_000_000_000_000;

/// Checks a size in MiB: at most [`MAX_MB`].
pub fn check_mb(field: &'static str, mb: u64) -> Result<u64> {
    if mb > MAX_MB {
        return Err(CoreError::invalid(
            field,
            format!("{mb} MiB is more than the largest allowed, {MAX_MB} MiB (16 TiB)"),
        ));
    }
    Ok(mb)
}

/// Checks a count: at most [`MAX_COUNT`].
pub fn check_count(field: &'static str, n: u64) -> Result<u64> {
    if n > MAX_COUNT {
        return Err(CoreError::invalid(
            field,
            format!("{n} is more than the largest allowed, {MAX_COUNT}"),
        ));
    }
    Ok(n)
}

/// Checks a price in credits: at most [`MAX_CREDITS`].
pub fn check_credits(field: &'static str, n: u64) -> Result<u64> {
    if n > MAX_CREDITS {
        return Err(CoreError::invalid(
            field,
            format!("{n} is more than the largest allowed, {MAX_CREDITS}"),
        ));
    }
    Ok(n)
}

impl Limits {
    /// Checks that every number lies in its range; the error names the field
    /// (`limits.storage_mb`, ...).
    pub fn check_ranges(&self) -> Result<()> {
        let counts = [
            ("limits.domains", self.domains),
            ("limits.aliases", self.aliases),
            ("limits.lists", self.lists),
        ];
        for (field, v) in counts {
            if let Some(v) = v {
                check_count(field, v)?;
            }
        }
        for n in self.mailboxes.values() {
            check_count("limits.mailboxes", *n)?;
        }
        for (field, v) in [
            ("limits.max_mailbox_mb", self.max_mailbox_mb),
            ("limits.storage_mb", self.storage_mb),
        ] {
            if let Some(v) = v {
                check_mb(field, v)?;
            }
        }
        Ok(())
    }

    /// What `chain` grants together: for each limit, the least one on the way up (`None`
    /// where no level sets one).
    pub(crate) fn granted_by(chain: &[Tenant]) -> Limits {
        let least = |f: fn(&Limits) -> Option<u64>| chain.iter().filter_map(|t| f(&t.limits)).min();
        let mut mailboxes = BTreeMap::new();
        for t in chain {
            for (tier, n) in &t.limits.mailboxes {
                let e = mailboxes.entry(*tier).or_insert(*n);
                *e = (*e).min(*n);
            }
        }
        Limits {
            domains: least(|l| l.domains),
            mailboxes,
            aliases: least(|l| l.aliases),
            lists: least(|l| l.lists),
            max_mailbox_mb: least(|l| l.max_mailbox_mb),
            storage_mb: least(|l| l.storage_mb),
        }
    }

    /// Checks the ranges, and that no limit passes what `granted` (see [`Limits::granted_by`])
    /// allows; `whose` names the level that grants, for the error.
    pub(crate) fn check_within(&self, granted: &Limits, whose: &str) -> Result<()> {
        self.check_ranges()?;
        let over = |field: &'static str, mine: Option<u64>, max: Option<u64>| match (mine, max) {
            (Some(v), Some(m)) if v > m => Err(CoreError::invalid(
                field,
                format!("{v} is more than {whose} grants ({m})"),
            )),
            _ => Ok(()),
        };
        over("limits.domains", self.domains, granted.domains)?;
        over("limits.aliases", self.aliases, granted.aliases)?;
        over("limits.lists", self.lists, granted.lists)?;
        over(
            "limits.max_mailbox_mb",
            self.max_mailbox_mb,
            granted.max_mailbox_mb,
        )?;
        over("limits.storage_mb", self.storage_mb, granted.storage_mb)?;
        for (tier, n) in &self.mailboxes {
            over(
                "limits.mailboxes",
                Some(*n),
                granted.mailboxes.get(tier).copied(),
            )?;
        }
        Ok(())
    }
}

/// Checks the limits of a new or changed tenant against its ancestors (`parents`: root first,
/// ending with its parent).
pub(crate) fn check_tenant(limits: &Limits, parents: &[Tenant]) -> Result<()> {
    let whose = parents
        .last()
        .map(|p| format!("tenant {} ({}) and those above it", p.name, p.id))
        .unwrap_or_else(|| "the platform".into());
    limits.check_within(&Limits::granted_by(parents), &whose)
}

/// Checks the limits of a new or changed domain against its tenant's and those above
/// (`chain`: root first, ending with the domain's tenant).
pub(crate) fn check_domain(limits: &Limits, chain: &[Tenant]) -> Result<()> {
    let whose = chain
        .last()
        .map(|t| format!("tenant {} ({}) and those above it", t.name, t.id))
        .unwrap_or_else(|| "the platform".into());
    limits.check_within(&Limits::granted_by(chain), &whose)
}

/// Limits of a tenant (over its whole subtree) or of a domain. `None` (or a tier absent from
/// `mailboxes`) means unlimited at this level; the levels above still apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Domains (tenants only).
    pub domains: Option<u64>,
    /// Mailboxes per tier.
    pub mailboxes: BTreeMap<Tier, u64>,
    pub aliases: Option<u64>,
    pub lists: Option<u64>,
    /// Largest quota of one mailbox, in MiB.
    pub max_mailbox_mb: Option<u64>,
    /// A tenant's storage pool or a domain's total storage, in MiB: caps both the sum of mailbox
    /// quotas (allocation) and the bytes stored (usage).
    pub storage_mb: Option<u64>,
}

/// Whose limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitsOf {
    Tenant(TenantId),
    /// A domain, by name.
    Domain(String),
}

/// MiB to bytes, saturating.
pub(crate) fn mib(mb: u64) -> i64 {
    i64::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(i64::MAX)
}

/// A count limit as a counter limit.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Core {
    /// Replaces the limits of a tenant or a domain. Only an ancestor may change a tenant's
    /// limits; a domain's limits may be changed by administrators of its tenant or above.
    pub async fn set_limits(&self, actor: &Actor, of: LimitsOf, limits: Limits) -> Result<Limits> {
        let actor = actor.clone();
        let of = match of {
            LimitsOf::Domain(name) => LimitsOf::Domain(validate::domain(&name)?),
            t => t,
        };
        limits.check_ranges()?;
        self.write(actor.clone(), move |txn, hooks| match of {
            LimitsOf::Tenant(id) => {
                let mut chain = tenant::chain(txn, id)?;
                let Some(mut t) = chain.pop() else {
                    return Err(CoreError::not_found("tenant", id));
                };
                check(
                    &actor,
                    Action::LimitsSet,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    id,
                )?;
                check_tenant(&limits, &chain)?;
                t.limits = limits.clone();
                dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &t)?;
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "limits.set",
                    &t.path,
                    &[&format!("tenant:{id}")],
                    &limits,
                )?;
                Ok(limits)
            }
            LimitsOf::Domain(name) => {
                let (mut d, t) = domain::load_by_name(txn, &name)?;
                check(
                    &actor,
                    Action::LimitsSet,
                    &Target::of(&t, Object::Domain(d.id)),
                    "domain",
                    &name,
                )?;
                check_domain(&limits, &tenant::chain(txn, t.id)?)?;
                d.limits = limits.clone();
                dir::put(txn, Keyspace::Directory, dir::domain_key(t.id, d.id), &d)?;
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "limits.set",
                    &t.path,
                    &[&format!("domain:{name}")],
                    &limits,
                )?;
                Ok(limits)
            }
        })
        .await
    }
}

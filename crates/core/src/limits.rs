//! Limits on a tenant or a domain, and changing them (only from above).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::audit;
use crate::directory as dir;
use crate::error::Result;
use crate::ids::TenantId;
use crate::plan::Tier;
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::{Core, domain, tenant, validate};

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
        self.write(actor.clone(), move |txn| match of {
            LimitsOf::Tenant(id) => {
                let mut t = tenant::load(txn, id)?;
                check(
                    &actor,
                    Action::LimitsSet,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    id,
                )?;
                t.limits = limits.clone();
                dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &t)?;
                audit::record(
                    txn,
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
                d.limits = limits.clone();
                dir::put(txn, Keyspace::Directory, dir::domain_key(t.id, d.id), &d)?;
                audit::record(
                    txn,
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

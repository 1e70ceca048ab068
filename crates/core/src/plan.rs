//! Plans (tariffs): templates a provider or reseller offers its subtree.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::audit;
use crate::directory::{self as dir, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{PROVIDER, PlanId, TenantId};
use crate::policy::{Action, Object, Target, authorize, check};
use crate::principal::Actor;
use crate::tenant::{self, Tenant};
use crate::{Core, limits, validate};

/// A mailbox tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    Light,
    Standard,
    Premium,
}

impl Tier {
    /// Every tier.
    pub const ALL: [Tier; 3] = [Tier::Light, Tier::Standard, Tier::Premium];

    /// The tier's number in counter keys.
    pub fn code(self) -> u8 {
        match self {
            Tier::Light => 1,
            Tier::Standard => 2,
            Tier::Premium => 3,
        }
    }
}

/// What a plan includes besides storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    pub custom_branding: bool,
    pub tls: bool,
    pub dedicated_ip: bool,
    pub api_access: bool,
}

/// A plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: PlanId,
    /// The tenant that offers it (to its whole subtree).
    pub owner: TenantId,
    pub name: String,
    pub tier: Tier,
    pub default_mailbox_mb: u64,
    pub max_mailbox_mb: u64,
    pub features: Features,
    /// Debited from the credit of the tenant whose manager activates a customer on it.
    pub price_credits: u64,
}

/// A new plan.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub owner: TenantId,
    pub name: String,
    pub tier: Tier,
    pub default_mailbox_mb: u64,
    pub max_mailbox_mb: u64,
    pub features: Features,
    pub price_credits: u64,
}

/// Loads a plan and its owner.
pub fn load(r: &impl Reader, id: PlanId) -> Result<(Plan, Tenant)> {
    let loc = dir::locate(r, dir::PLAN, id.0)?.ok_or_else(|| CoreError::not_found("plan", id))?;
    let p: Plan = dir::get(
        r,
        Keyspace::Directory,
        &dir::owned_key(loc.tenant, dir::PLAN, id.0),
    )?
    .ok_or_else(|| CoreError::not_found("plan", id))?;
    Ok((p, tenant::load(r, loc.tenant)?))
}

/// The plan that applies to a tenant: its own, else the nearest ancestor's.
pub(crate) fn effective(r: &impl Reader, chain: &[Tenant]) -> Result<Option<Plan>> {
    match chain.iter().rev().find_map(|t| t.plan) {
        Some(id) => match load(r, id) {
            Ok((p, _)) => Ok(Some(p)),
            Err(CoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// The least of the largest-mailbox sizes of every plan on the way up `chain` (each tenant's
/// own plan): no plan grants more than the plans above it.
pub(crate) fn max_mailbox_mb(r: &impl Reader, chain: &[Tenant]) -> Result<Option<u64>> {
    let mut least: Option<u64> = None;
    for id in chain.iter().filter_map(|t| t.plan) {
        match load(r, id) {
            Ok((p, _)) => least = Some(least.map_or(p.max_mailbox_mb, |l| l.min(p.max_mailbox_mb))),
            Err(CoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(least)
}

/// Checks a plan's numbers on their own: sizes between 1 and [`limits::MAX_MB`], the default
/// no larger than the maximum, the price within [`limits::MAX_CREDITS`].
fn check_terms(p: &NewPlan) -> Result<()> {
    limits::check_mb("max_mailbox_mb", p.max_mailbox_mb)?;
    if p.default_mailbox_mb == 0 || p.default_mailbox_mb > p.max_mailbox_mb {
        return Err(CoreError::invalid(
            "default_mailbox_mb",
            "must be between 1 and max_mailbox_mb",
        ));
    }
    limits::check_credits("price_credits", p.price_credits)?;
    Ok(())
}

/// Checks that a plan offered by the last tenant of `chain` grants no more than that tenant
/// holds itself: its mailbox sizes within every plan and limit on the way up, its features
/// within the owner's effective plan (the provider holds every feature).
fn check_grant(r: &impl Reader, chain: &[Tenant], p: &NewPlan) -> Result<()> {
    let Some(owner) = chain.last() else {
        return Ok(());
    };
    let whose = format!("tenant {} ({})", owner.name, owner.id);
    let plan_max = max_mailbox_mb(r, chain)?;
    let limit_max = chain.iter().filter_map(|t| t.limits.max_mailbox_mb).min();
    if let Some(max) = plan_max.into_iter().chain(limit_max).min()
        && p.max_mailbox_mb > max
    {
        return Err(CoreError::invalid(
            "max_mailbox_mb",
            format!(
                "{} MiB is more than the plan and limits of {whose} allow ({max} MiB)",
                p.max_mailbox_mb
            ),
        ));
    }
    let held = features(r, owner.id)?;
    let f = p.features;
    for (field, wants, has) in [
        (
            "features.custom_branding",
            f.custom_branding,
            held.custom_branding,
        ),
        ("features.tls", f.tls, held.tls),
        ("features.dedicated_ip", f.dedicated_ip, held.dedicated_ip),
        ("features.api_access", f.api_access, held.api_access),
    ] {
        if wants && !has {
            return Err(CoreError::invalid(
                field,
                format!("the plan of {whose} does not include it"),
            ));
        }
    }
    Ok(())
}

/// The features of a tenant's effective plan; the provider has them all.
pub fn features(r: &impl Reader, t: TenantId) -> Result<Features> {
    if t == PROVIDER {
        return Ok(Features {
            custom_branding: true,
            tls: true,
            dedicated_ip: true,
            api_access: true,
        });
    }
    let chain = tenant::chain(r, t)?;
    Ok(effective(r, &chain)?
        .map(|p| p.features)
        .unwrap_or_default())
}

impl Core {
    /// What a tenant's effective plan includes (the provider: everything). No actor: callers
    /// check permissions on the object first, so that this reveals nothing.
    pub async fn plan_features(&self, tenant: TenantId) -> Result<Features> {
        self.read(move |s| features(s, tenant)).await
    }

    /// Defines a plan offered by `owner` to its subtree.
    pub async fn create_plan(&self, actor: &Actor, new: NewPlan) -> Result<Plan> {
        let name = validate::name("name", &new.name)?;
        check_terms(&new)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let chain = tenant::chain(txn, new.owner)?;
            let Some(t) = chain.last().cloned() else {
                return Err(CoreError::not_found("tenant", new.owner));
            };
            check(
                &actor,
                Action::PlanWrite,
                &Target::of(&t, Object::Tenant),
                "tenant",
                t.id,
            )?;
            check_grant(txn, &chain, &new)?;
            let id = PlanId(txn.next_id("plan")?);
            let plan = Plan {
                id,
                owner: t.id,
                name,
                tier: new.tier,
                default_mailbox_mb: new.default_mailbox_mb,
                max_mailbox_mb: new.max_mailbox_mb,
                features: new.features,
                price_credits: new.price_credits,
            };
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(t.id, dir::PLAN, id.0),
                &plan,
            )?;
            dir::set_locator(
                txn,
                dir::PLAN,
                id.0,
                Loc {
                    tenant: t.id,
                    domain: None,
                },
            )?;
            audit::record(
                txn,
                hooks,
                &actor,
                "plan.create",
                &t.path,
                &[&format!("plan:{id}")],
                &plan,
            )?;
            Ok(plan)
        })
        .await
    }

    /// Reads a plan.
    pub async fn get_plan(&self, actor: &Actor, id: PlanId) -> Result<Plan> {
        let actor = actor.clone();
        self.read(move |s| {
            let (p, owner) = load(s, id)?;
            check(
                &actor,
                Action::PlanRead,
                &Target::of(&owner, Object::Plan(id)),
                "plan",
                id,
            )?;
            Ok(p)
        })
        .await
    }

    /// Lists the plans `owner` offers that the actor may see.
    pub async fn list_plans(&self, actor: &Actor, owner: TenantId) -> Result<Vec<Plan>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, owner)?;
            let all: Vec<Plan> =
                dir::list(s, Keyspace::Directory, &dir::owned_prefix(owner, dir::PLAN))?;
            Ok(all
                .into_iter()
                .filter(|p| {
                    authorize(
                        &actor,
                        Action::PlanRead,
                        &Target::of(&t, Object::Plan(p.id)),
                    )
                    .is_ok()
                })
                .collect())
        })
        .await
    }

    /// Replaces a plan's terms (name, tier, sizes, features, price); its owner stays.
    pub async fn update_plan(&self, actor: &Actor, id: PlanId, terms: NewPlan) -> Result<Plan> {
        let name = validate::name("name", &terms.name)?;
        check_terms(&terms)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut p, owner) = load(txn, id)?;
            check(
                &actor,
                Action::PlanWrite,
                &Target::of(&owner, Object::Plan(id)),
                "plan",
                id,
            )?;
            check_grant(txn, &tenant::chain(txn, owner.id)?, &terms)?;
            p.name = name;
            p.tier = terms.tier;
            p.default_mailbox_mb = terms.default_mailbox_mb;
            p.max_mailbox_mb = terms.max_mailbox_mb;
            p.features = terms.features;
            p.price_credits = terms.price_credits;
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(owner.id, dir::PLAN, id.0),
                &p,
            )?;
            audit::record(
                txn,
                hooks,
                &actor,
                "plan.update",
                &owner.path,
                &[&format!("plan:{id}")],
                &p,
            )?;
            Ok(p)
        })
        .await
    }

    /// Deletes a plan. Tenants on it keep their limits; new mailboxes fall back to the plan of
    /// the nearest ancestor.
    pub async fn delete_plan(&self, actor: &Actor, id: PlanId) -> Result<()> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (p, owner) = load(txn, id)?;
            check(
                &actor,
                Action::PlanWrite,
                &Target::of(&owner, Object::Plan(id)),
                "plan",
                id,
            )?;
            txn.delete(
                Keyspace::Directory,
                dir::owned_key(owner.id, dir::PLAN, id.0),
            );
            txn.delete(Keyspace::Names, dir::locator_key(dir::PLAN, id.0));
            audit::record(
                txn,
                hooks,
                &actor,
                "plan.delete",
                &owner.path,
                &[&format!("plan:{id}")],
                &p,
            )?;
            Ok(())
        })
        .await
    }
}

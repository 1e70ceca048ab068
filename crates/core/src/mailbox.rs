//! Mailboxes: one address with its folders (an account in the store's mail model), a password,
//! a quota, a tier and the postmaster flag.

use serde::{Deserialize, Serialize};

use marque_store::counters::{self, Metric, Owner};
use marque_store::{Keyspace, Txn};

use crate::audit;
use crate::directory::{self as dir, AddressLoc, Loc, Reader};
use crate::domain::{self, Domain};
use crate::error::{CoreError, Result};
use crate::ids::{AccountId, DomainId, TenantId};
use crate::limits::{check_mb, mib};
use crate::plan::{self, Tier};
use crate::policy::{Action, Object, Target, authorize, check};
use crate::principal::Actor;
use crate::quota::{self, Delta};
use crate::tenant::{self, Tenant};
use crate::{Core, password, validate};

/// A mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub id: AccountId,
    pub tenant: TenantId,
    pub domain: DomainId,
    pub address: String,
    pub quota_mb: u64,
    pub tier: Tier,
    /// Administrator of its domain.
    pub postmaster: bool,
    pub enabled: bool,
    pub created_ms: u64,
}

/// The stored form, with the password hash kept out of [`Mailbox`] (and inside the core).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxRecord {
    pub mailbox: Mailbox,
    pub(crate) password_hash: String,
}

/// A new mailbox. Without `quota_mb` or `tier`, the plan of the domain's tenant decides.
#[derive(Debug, Clone, Default)]
pub struct NewMailbox {
    pub address: String,
    pub password: String,
    pub quota_mb: Option<u64>,
    pub tier: Option<Tier>,
    pub postmaster: bool,
}

/// Changes to a mailbox (`None` keeps the current value).
#[derive(Debug, Clone, Default)]
pub struct MailboxChanges {
    pub quota_mb: Option<u64>,
    pub tier: Option<Tier>,
    pub postmaster: Option<bool>,
    pub enabled: Option<bool>,
}

fn key(m: &Mailbox) -> Vec<u8> {
    dir::in_domain_key(m.tenant, dir::MAILBOX, m.domain, m.id.0)
}

/// Loads a mailbox by account id.
pub(crate) fn load_by_id(r: &impl Reader, id: AccountId) -> Result<MailboxRecord> {
    let loc =
        dir::locate(r, dir::MAILBOX, id.0)?.ok_or_else(|| CoreError::not_found("mailbox", id))?;
    let d = loc
        .domain
        .ok_or_else(|| CoreError::not_found("mailbox", id))?;
    dir::get(
        r,
        Keyspace::Directory,
        &dir::in_domain_key(loc.tenant, dir::MAILBOX, d, id.0),
    )?
    .ok_or_else(|| CoreError::not_found("mailbox", id))
}

/// Loads a mailbox by (normalised) address.
pub fn load_by_address(r: &impl Reader, address: &str) -> Result<MailboxRecord> {
    match dir::get(r, Keyspace::Names, &dir::address_key(address))? {
        Some(AddressLoc::Mailbox {
            tenant,
            domain,
            account,
        }) => dir::get(
            r,
            Keyspace::Directory,
            &dir::in_domain_key(tenant, dir::MAILBOX, domain, account.0),
        )?
        .ok_or_else(|| CoreError::not_found("mailbox", address)),
        _ => Err(CoreError::not_found("mailbox", address)),
    }
}

fn target(t: &Tenant, m: &Mailbox) -> Target {
    Target::of(
        t,
        Object::Mailbox {
            domain: m.domain,
            account: m.id,
        },
    )
}

/// Checks a quota against the largest mailbox allowed on the way up: every tenant's and the
/// domain's limit, and every plan's maximum (`plan_max`, see [`plan::max_mailbox_mb`]).
fn check_max(chain: &[Tenant], d: &Domain, plan_max: Option<u64>, quota_mb: u64) -> Result<()> {
    if quota_mb == 0 {
        return Err(CoreError::invalid("quota_mb", "must be at least 1"));
    }
    check_mb("quota_mb", quota_mb)?;
    if let Some(max) = quota::max_mailbox_mb(chain, d, plan_max)
        && quota_mb > max
    {
        return Err(CoreError::LimitExceeded {
            limit: format!("largest mailbox in domain {}", d.name),
            used: 0,
            requested: i64::try_from(quota_mb).unwrap_or(i64::MAX),
            max: i64::try_from(max).unwrap_or(i64::MAX),
        });
    }
    Ok(())
}

/// Checks that `actor` may hand out postmaster rights in `target`'s domain: to give or take
/// the flag, or to take over a postmaster's credentials (its password, a token for it).
pub(crate) fn check_postmaster_grant(actor: &Actor, target: &Target, address: &str) -> Result<()> {
    check(actor, Action::PostmasterGrant, target, "mailbox", address)
}

/// Removes a mailbox and gives back what it held (permission already checked).
pub(crate) fn remove(txn: &mut Txn<'_>, rec: &MailboxRecord) -> Result<()> {
    let m = &rec.mailbox;
    let (d, _) = domain::load_by_id(txn, m.domain)?;
    let chain = tenant::chain(txn, m.tenant)?;
    let delta = Delta {
        storage: -mib(m.quota_mb),
        mailboxes: vec![(m.tier, -1)],
        ..Delta::default()
    };
    quota::allocate(txn, &chain, Some(&d), &delta)?;
    // The mail goes with the mailbox: take its usage off the domain and every tenant above.
    for metric in [Metric::StorageUsed, Metric::Messages] {
        let own = counters::key(Owner::Account(m.id), metric);
        let used = txn.counter(&own)?;
        if used != 0 {
            txn.add(&counters::key(Owner::Domain(d.id), metric), -used)?;
            for t in &chain {
                txn.add(&counters::key(Owner::Tenant(t.id), metric), -used)?;
            }
            txn.delete(Keyspace::Counters, own);
        }
    }
    txn.delete(Keyspace::Directory, key(m));
    txn.delete(Keyspace::Names, dir::address_key(&m.address));
    txn.delete(Keyspace::Names, dir::locator_key(dir::MAILBOX, m.id.0));
    Ok(())
}

impl Core {
    /// Creates a mailbox: its quota must fit the domain's total and every tenant's pool above,
    /// and its tier's count every limit on the way up.
    pub async fn create_mailbox(&self, actor: &Actor, new: NewMailbox) -> Result<Mailbox> {
        let address = validate::address(&new.address)?;
        validate::password(&new.password)?;
        let hash = password::hash_async(self.cost, new.password).await?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (d, t) = domain::load_by_name(txn, validate::domain_of(&address))
                .map_err(|_| CoreError::not_found("domain", validate::domain_of(&address)))?;
            let in_domain = Target::of(&t, Object::Domain(d.id));
            check(&actor, Action::MailboxCreate, &in_domain, "domain", &d.name)?;
            if new.postmaster {
                check_postmaster_grant(&actor, &in_domain, &address)?;
            }
            if txn.exists(Keyspace::Names, &dir::address_key(&address))? {
                return Err(CoreError::AlreadyExists {
                    what: "address",
                    key: address,
                });
            }
            let chain = tenant::chain(txn, t.id)?;
            let plan = plan::effective(txn, &chain)?;
            let quota_mb = new
                .quota_mb
                .or(plan.as_ref().map(|p| p.default_mailbox_mb))
                .ok_or_else(|| {
                    CoreError::invalid("quota_mb", "required: no plan gives a default")
                })?;
            let tier = new
                .tier
                .or(plan.as_ref().map(|p| p.tier))
                .unwrap_or(Tier::Standard);
            check_max(&chain, &d, plan::max_mailbox_mb(txn, &chain)?, quota_mb)?;
            let delta = Delta {
                storage: mib(quota_mb),
                mailboxes: vec![(tier, 1)],
                ..Delta::default()
            };
            quota::allocate(txn, &chain, Some(&d), &delta)?;
            let id = AccountId(txn.next_id("account")?);
            let m = Mailbox {
                id,
                tenant: t.id,
                domain: d.id,
                address: address.clone(),
                quota_mb,
                tier,
                postmaster: new.postmaster,
                enabled: true,
                created_ms: crate::now_ms(),
            };
            dir::put(
                txn,
                Keyspace::Directory,
                key(&m),
                &MailboxRecord {
                    mailbox: m.clone(),
                    password_hash: hash,
                },
            )?;
            let loc = AddressLoc::Mailbox {
                tenant: t.id,
                domain: d.id,
                account: id,
            };
            dir::put(txn, Keyspace::Names, dir::address_key(&address), &loc)?;
            dir::set_locator(
                txn,
                dir::MAILBOX,
                id.0,
                Loc {
                    tenant: t.id,
                    domain: Some(d.id),
                },
            )?;
            marque_store::mail::init_account(txn, id)?;
            let targets = [format!("mailbox:{address}"), format!("domain:{}", d.name)];
            audit::record(
                txn,
                hooks,
                &actor,
                "mailbox.create",
                &t.path,
                &[&targets[0], &targets[1]],
                &m,
            )?;
            Ok(m)
        })
        .await
    }

    /// Reads a mailbox by address.
    pub async fn get_mailbox(&self, actor: &Actor, address: &str) -> Result<Mailbox> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.read(move |s| {
            let rec = load_by_address(s, &address)?;
            let t = tenant::load(s, rec.mailbox.tenant)?;
            check(
                &actor,
                Action::MailboxRead,
                &target(&t, &rec.mailbox),
                "mailbox",
                &address,
            )?;
            Ok(rec.mailbox)
        })
        .await
    }

    /// Lists the mailboxes of a domain that the actor may see.
    pub async fn list_mailboxes(&self, actor: &Actor, domain: &str) -> Result<Vec<Mailbox>> {
        let name = validate::domain(domain)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (d, t) = domain::load_by_name(s, &name)?;
            let recs: Vec<MailboxRecord> = dir::list(
                s,
                Keyspace::Directory,
                &dir::in_domain_prefix(t.id, dir::MAILBOX, d.id),
            )?;
            let visible: Vec<Mailbox> = recs
                .into_iter()
                .map(|r| r.mailbox)
                .filter(|m| authorize(&actor, Action::MailboxRead, &target(&t, m)).is_ok())
                .collect();
            if visible.is_empty() {
                check(
                    &actor,
                    Action::DomainRead,
                    &Target::of(&t, Object::Domain(d.id)),
                    "domain",
                    &name,
                )?;
            }
            Ok(visible)
        })
        .await
    }

    /// Changes a mailbox's quota, tier, postmaster flag or enabled state; a larger quota or a
    /// new tier is checked like a new mailbox.
    pub async fn update_mailbox(
        &self,
        actor: &Actor,
        address: &str,
        changes: MailboxChanges,
    ) -> Result<Mailbox> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let mut rec = load_by_address(txn, &address)?;
            let chain = tenant::chain(txn, rec.mailbox.tenant)?;
            let t = chain
                .last()
                .ok_or_else(|| CoreError::not_found("tenant", rec.mailbox.tenant))?;
            check(
                &actor,
                Action::MailboxUpdate,
                &target(t, &rec.mailbox),
                "mailbox",
                &address,
            )?;
            let (d, _) = domain::load_by_id(txn, rec.mailbox.domain)?;
            let old = rec.mailbox.clone();
            let m = &mut rec.mailbox;
            let mut delta = Delta::default();
            if let Some(q) = changes.quota_mb
                && q != old.quota_mb
            {
                check_max(&chain, &d, plan::max_mailbox_mb(txn, &chain)?, q)?;
                delta.storage = mib(q) - mib(old.quota_mb);
                m.quota_mb = q;
            }
            if let Some(tier) = changes.tier
                && tier != old.tier
            {
                delta.mailboxes = vec![(old.tier, -1), (tier, 1)];
                m.tier = tier;
            }
            if let Some(p) = changes.postmaster
                && p != old.postmaster
            {
                check_postmaster_grant(&actor, &target(t, &old), &address)?;
                m.postmaster = p;
            }
            if let Some(e) = changes.enabled {
                m.enabled = e;
            }
            quota::allocate(txn, &chain, Some(&d), &delta)?;
            let m = m.clone();
            dir::put(txn, Keyspace::Directory, key(&m), &rec)?;
            let targets = [format!("mailbox:{address}"), format!("domain:{}", d.name)];
            audit::record(
                txn,
                hooks,
                &actor,
                "mailbox.update",
                &t.path,
                &[&targets[0], &targets[1]],
                &m,
            )?;
            Ok(m)
        })
        .await
    }

    /// Sets a mailbox's password (its user, or someone who manages its domain).
    pub async fn set_password(&self, actor: &Actor, address: &str, new: &str) -> Result<()> {
        let address = validate::address(address)?;
        validate::password(new)?;
        let hash = password::hash_async(self.cost, new.to_string()).await?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let mut rec = load_by_address(txn, &address)?;
            let t = tenant::load(txn, rec.mailbox.tenant)?;
            let at = target(&t, &rec.mailbox);
            check(&actor, Action::PasswordSet, &at, "mailbox", &address)?;
            // Whoever sets a postmaster's password holds its rights: only those who may make
            // postmasters may do so (the postmaster itself always may).
            let own = actor.principal.id == crate::principal::PrincipalId::Mailbox(rec.mailbox.id);
            if rec.mailbox.postmaster && !own {
                check_postmaster_grant(&actor, &at, &address)?;
            }
            rec.password_hash = hash;
            dir::put(txn, Keyspace::Directory, key(&rec.mailbox), &rec)?;
            let (d, _) = domain::load_by_id(txn, rec.mailbox.domain)?;
            let targets = [format!("mailbox:{address}"), format!("domain:{}", d.name)];
            audit::record(
                txn,
                hooks,
                &actor,
                "mailbox.password",
                &t.path,
                &[&targets[0], &targets[1]],
                &serde_json::Value::Null,
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes a mailbox, giving its allocation back and taking its usage off every counter.
    pub async fn delete_mailbox(&self, actor: &Actor, address: &str) -> Result<()> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        let account = self
            .write(actor.clone(), move |txn, hooks| {
                let rec = load_by_address(txn, &address)?;
                let t = tenant::load(txn, rec.mailbox.tenant)?;
                check(
                    &actor,
                    Action::MailboxDelete,
                    &target(&t, &rec.mailbox),
                    "mailbox",
                    &address,
                )?;
                remove(txn, &rec)?;
                let targets = [
                    format!("mailbox:{address}"),
                    format!("domain:{}", validate::domain_of(&address)),
                ];
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "mailbox.delete",
                    &t.path,
                    &[&targets[0], &targets[1]],
                    &rec.mailbox,
                )?;
                Ok(rec.mailbox.id)
            })
            .await?;
        // The record and the usage are gone; now the mail itself, in slices. Account ids are
        // never reused, so if this stops half-way the leftovers are unreachable, only space.
        if let Err(e) = marque_store::mail::purge_account(&self.store, account).await {
            tracing::warn!(account = %account, error = %e, "deleted mailbox: its mail was not fully removed");
        }
        Ok(())
    }
}

//! Domains: owned by a tenant (a customer, or a reseller directly), globally unique by name.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;
use marque_store::counters::{self, Metric, Owner};

use crate::audit;
use crate::directory::{self as dir, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{DomainId, TenantId};
use crate::limits::Limits;
use crate::policy::{Action, Object, Target, authorize, check};
use crate::principal::Actor;
use crate::quota::{self, Delta};
use crate::tenant::{self, Tenant};
use crate::{Core, validate};

/// A domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub id: DomainId,
    pub tenant: TenantId,
    /// Lowercase ASCII name.
    pub name: String,
    pub limits: Limits,
    pub enabled: bool,
    pub created_ms: u64,
}

/// A new domain.
#[derive(Debug, Clone)]
pub struct NewDomain {
    pub name: String,
    pub tenant: TenantId,
    pub limits: Limits,
}

impl Default for NewDomain {
    fn default() -> Self {
        NewDomain {
            name: String::new(),
            tenant: crate::ids::PROVIDER,
            limits: Limits::default(),
        }
    }
}

/// Loads a domain and its tenant by id.
pub fn load_by_id(r: &impl Reader, id: DomainId) -> Result<(Domain, Tenant)> {
    let loc =
        dir::locate(r, dir::DOMAIN, id.0)?.ok_or_else(|| CoreError::not_found("domain", id))?;
    let d: Domain = dir::get(r, Keyspace::Directory, &dir::domain_key(loc.tenant, id))?
        .ok_or_else(|| CoreError::not_found("domain", id))?;
    Ok((d, tenant::load(r, loc.tenant)?))
}

/// Loads a domain and its tenant by (normalised) name.
pub fn load_by_name(r: &impl Reader, name: &str) -> Result<(Domain, Tenant)> {
    let loc: Loc = dir::get(r, Keyspace::Names, &dir::domain_name_key(name))?
        .ok_or_else(|| CoreError::not_found("domain", name))?;
    let id = loc
        .domain
        .ok_or_else(|| CoreError::not_found("domain", name))?;
    let d: Domain = dir::get(r, Keyspace::Directory, &dir::domain_key(loc.tenant, id))?
        .ok_or_else(|| CoreError::not_found("domain", name))?;
    Ok((d, tenant::load(r, loc.tenant)?))
}

impl Core {
    /// Creates a domain in a tenant, counted against the domain limits of every tenant above.
    /// The registered hooks may refuse the name ([`crate::hook::Hooks::domain_claimed`]: the
    /// hosting features refuse one that is, lies under or contains one of the platform's host
    /// names, or lies in another tenant's domain).
    pub async fn create_domain(&self, actor: &Actor, new: NewDomain) -> Result<Domain> {
        let name = validate::domain(&new.name)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let chain = tenant::chain(txn, new.tenant)?;
            let Some(t) = chain.last() else {
                return Err(CoreError::not_found("tenant", new.tenant));
            };
            check(
                &actor,
                Action::DomainCreate,
                &Target::of(t, Object::Tenant),
                "tenant",
                t.id,
            )?;
            if txn.exists(Keyspace::Names, &dir::domain_name_key(&name))? {
                return Err(CoreError::AlreadyExists {
                    what: "domain",
                    key: name,
                });
            }
            hooks.domain_claimed(txn, &actor, t.id, &name)?;
            quota::allocate(
                txn,
                &chain,
                None,
                &Delta {
                    domains: 1,
                    ..Delta::default()
                },
            )?;
            crate::limits::check_domain(&new.limits, &chain)?;
            let id = DomainId(txn.next_id("domain")?);
            let d = Domain {
                id,
                tenant: t.id,
                name: name.clone(),
                limits: new.limits,
                enabled: true,
                created_ms: crate::now_ms(),
            };
            let loc = Loc {
                tenant: t.id,
                domain: Some(id),
            };
            dir::put(txn, Keyspace::Directory, dir::domain_key(t.id, id), &d)?;
            dir::put(txn, Keyspace::Names, dir::domain_name_key(&name), &loc)?;
            dir::set_locator(txn, dir::DOMAIN, id.0, loc)?;
            audit::record(
                txn,
                hooks,
                &actor,
                "domain.create",
                &t.path,
                &[&format!("domain:{name}")],
                &d,
            )?;
            Ok(d)
        })
        .await
    }

    /// Reads a domain by name.
    pub async fn get_domain(&self, actor: &Actor, name: &str) -> Result<Domain> {
        let name = validate::domain(name)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (d, t) = load_by_name(s, &name)?;
            check(
                &actor,
                Action::DomainRead,
                &Target::of(&t, Object::Domain(d.id)),
                "domain",
                &name,
            )?;
            Ok(d)
        })
        .await
    }

    /// Lists the domains a tenant owns directly that the actor may see.
    pub async fn list_domains(&self, actor: &Actor, tenant: TenantId) -> Result<Vec<Domain>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            let all: Vec<Domain> = dir::list(s, Keyspace::Directory, &dir::domains_prefix(tenant))?;
            let visible: Vec<Domain> = all
                .into_iter()
                .filter(|d| {
                    authorize(
                        &actor,
                        Action::DomainRead,
                        &Target::of(&t, Object::Domain(d.id)),
                    )
                    .is_ok()
                })
                .collect();
            if visible.is_empty() {
                check(
                    &actor,
                    Action::TenantRead,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    tenant,
                )?;
            }
            Ok(visible)
        })
        .await
    }

    /// Enables or disables a domain (a disabled domain receives no mail and signs in nobody).
    pub async fn set_domain_enabled(
        &self,
        actor: &Actor,
        name: &str,
        enabled: bool,
    ) -> Result<Domain> {
        let name = validate::domain(name)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut d, t) = load_by_name(txn, &name)?;
            check(
                &actor,
                Action::DomainUpdate,
                &Target::of(&t, Object::Domain(d.id)),
                "domain",
                &name,
            )?;
            d.enabled = enabled;
            dir::put(txn, Keyspace::Directory, dir::domain_key(t.id, d.id), &d)?;
            audit::record(
                txn,
                hooks,
                &actor,
                "domain.update",
                &t.path,
                &[&format!("domain:{name}")],
                &d,
            )?;
            Ok(d)
        })
        .await
    }

    /// Deletes a domain that holds no mailboxes, aliases or lists.
    pub async fn delete_domain(&self, actor: &Actor, name: &str) -> Result<()> {
        let name = validate::domain(name)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (d, t) = load_by_name(txn, &name)?;
            check(
                &actor,
                Action::DomainDelete,
                &Target::of(&t, Object::Domain(d.id)),
                "domain",
                &name,
            )?;
            for (tag, what) in [
                (dir::MAILBOX, "mailboxes"),
                (dir::ALIAS, "aliases"),
                (dir::LIST, "lists"),
            ] {
                if dir::any(
                    txn,
                    Keyspace::Directory,
                    &dir::in_domain_prefix(t.id, tag, d.id),
                )? {
                    return Err(CoreError::NotEmpty {
                        what: "domain",
                        key: name,
                        reason: format!("it still has {what}"),
                    });
                }
            }
            let chain = tenant::chain(txn, t.id)?;
            quota::allocate(
                txn,
                &chain,
                None,
                &Delta {
                    domains: -1,
                    ..Delta::default()
                },
            )?;
            // Usage left by deleted mailboxes was moved off already; drop what remains.
            for m in [Metric::StorageUsed, Metric::Messages] {
                txn.delete(Keyspace::Counters, counters::key(Owner::Domain(d.id), m));
            }
            txn.delete(Keyspace::Directory, dir::domain_key(t.id, d.id));
            hooks.domain_deleted(txn, t.id, d.id)?;
            txn.delete(Keyspace::Names, dir::domain_name_key(&name));
            txn.delete(Keyspace::Names, dir::locator_key(dir::DOMAIN, d.id.0));
            audit::record(
                txn,
                hooks,
                &actor,
                "domain.delete",
                &t.path,
                &[&format!("domain:{name}")],
                &d,
            )?;
            Ok(())
        })
        .await
    }
}

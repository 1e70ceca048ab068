//! Aliases: an address of a domain that forwards to one or more target addresses.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::audit;
use crate::directory::{self as dir, AddressLoc, Reader};
use crate::domain;
use crate::error::{CoreError, Result};
use crate::ids::{AliasId, DomainId, TenantId};
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::quota::{self, Delta};
use crate::tenant::{self, Tenant};
use crate::{Core, validate};

/// An alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub id: AliasId,
    pub tenant: TenantId,
    pub domain: DomainId,
    pub address: String,
    /// Local or remote addresses.
    pub targets: Vec<String>,
}

fn targets(input: &[String]) -> Result<Vec<String>> {
    if input.is_empty() {
        return Err(CoreError::invalid(
            "targets",
            "an alias needs at least one target",
        ));
    }
    let mut out = input
        .iter()
        .map(|a| validate::address(a))
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) fn load_by_address(r: &impl Reader, address: &str) -> Result<(Alias, Tenant)> {
    match dir::get(r, Keyspace::Names, &dir::address_key(address))? {
        Some(AddressLoc::Alias { tenant, domain, id }) => {
            let a: Alias = dir::get(
                r,
                Keyspace::Directory,
                &dir::in_domain_key(tenant, dir::ALIAS, domain, id),
            )?
            .ok_or_else(|| CoreError::not_found("alias", address))?;
            Ok((a, tenant::load(r, tenant)?))
        }
        _ => Err(CoreError::not_found("alias", address)),
    }
}

impl Core {
    /// Creates an alias, counted against the alias limits of its domain and every tenant above.
    pub async fn create_alias(&self, actor: &Actor, address: &str, to: &[String]) -> Result<Alias> {
        let address = validate::address(address)?;
        let to = targets(to)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (d, t) = domain::load_by_name(txn, validate::domain_of(&address))?;
            check(
                &actor,
                Action::AliasWrite,
                &Target::of(&t, Object::Alias(d.id)),
                "domain",
                &d.name,
            )?;
            if txn.exists(Keyspace::Names, &dir::address_key(&address))? {
                return Err(CoreError::AlreadyExists {
                    what: "address",
                    key: address,
                });
            }
            let chain = tenant::chain(txn, t.id)?;
            quota::allocate(
                txn,
                &chain,
                Some(&d),
                &Delta {
                    aliases: 1,
                    ..Delta::default()
                },
            )?;
            let id = AliasId(txn.next_id("alias")?);
            let a = Alias {
                id,
                tenant: t.id,
                domain: d.id,
                address: address.clone(),
                targets: to,
            };
            dir::put(
                txn,
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::ALIAS, d.id, id.0),
                &a,
            )?;
            let loc = AddressLoc::Alias {
                tenant: t.id,
                domain: d.id,
                id: id.0,
            };
            dir::put(txn, Keyspace::Names, dir::address_key(&address), &loc)?;
            let tg = [format!("alias:{address}"), format!("domain:{}", d.name)];
            audit::record(txn, &actor, "alias.create", &t.path, &[&tg[0], &tg[1]], &a)?;
            Ok(a)
        })
        .await
    }

    /// Reads an alias.
    pub async fn get_alias(&self, actor: &Actor, address: &str) -> Result<Alias> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (a, t) = load_by_address(s, &address)?;
            check(
                &actor,
                Action::AliasRead,
                &Target::of(&t, Object::Alias(a.domain)),
                "alias",
                &address,
            )?;
            Ok(a)
        })
        .await
    }

    /// Lists a domain's aliases.
    pub async fn list_aliases(&self, actor: &Actor, domain: &str) -> Result<Vec<Alias>> {
        let name = validate::domain(domain)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (d, t) = domain::load_by_name(s, &name)?;
            check(
                &actor,
                Action::AliasRead,
                &Target::of(&t, Object::Alias(d.id)),
                "domain",
                &name,
            )?;
            dir::list(
                s,
                Keyspace::Directory,
                &dir::in_domain_prefix(t.id, dir::ALIAS, d.id),
            )
        })
        .await
    }

    /// Replaces an alias's targets.
    pub async fn set_alias_targets(
        &self,
        actor: &Actor,
        address: &str,
        to: &[String],
    ) -> Result<Alias> {
        let address = validate::address(address)?;
        let to = targets(to)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (mut a, t) = load_by_address(txn, &address)?;
            check(
                &actor,
                Action::AliasWrite,
                &Target::of(&t, Object::Alias(a.domain)),
                "alias",
                &address,
            )?;
            a.targets = to;
            dir::put(
                txn,
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::ALIAS, a.domain, a.id.0),
                &a,
            )?;
            let tg = [
                format!("alias:{address}"),
                format!("domain:{}", validate::domain_of(&address)),
            ];
            audit::record(txn, &actor, "alias.update", &t.path, &[&tg[0], &tg[1]], &a)?;
            Ok(a)
        })
        .await
    }

    /// Deletes an alias.
    pub async fn delete_alias(&self, actor: &Actor, address: &str) -> Result<()> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (a, t) = load_by_address(txn, &address)?;
            check(
                &actor,
                Action::AliasWrite,
                &Target::of(&t, Object::Alias(a.domain)),
                "alias",
                &address,
            )?;
            let (d, _) = domain::load_by_id(txn, a.domain)?;
            let chain = tenant::chain(txn, t.id)?;
            quota::allocate(
                txn,
                &chain,
                Some(&d),
                &Delta {
                    aliases: -1,
                    ..Delta::default()
                },
            )?;
            txn.delete(
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::ALIAS, a.domain, a.id.0),
            );
            txn.delete(Keyspace::Names, dir::address_key(&address));
            let tg = [format!("alias:{address}"), format!("domain:{}", d.name)];
            audit::record(txn, &actor, "alias.delete", &t.path, &[&tg[0], &tg[1]], &a)?;
            Ok(())
        })
        .await
    }
}

//! Mailing lists: an address of a domain that fans out to its members, local or remote.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::audit;
use crate::directory::{self as dir, AddressLoc, Reader};
use crate::domain;
use crate::error::{CoreError, Result};
use crate::ids::{DomainId, ListId, TenantId};
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::quota::{self, Delta};
use crate::tenant::{self, Tenant};
use crate::{Core, validate};

/// A mailing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    pub id: ListId,
    pub tenant: TenantId,
    pub domain: DomainId,
    pub address: String,
    pub name: String,
    /// Member addresses, local or remote.
    pub members: Vec<String>,
}

fn members(input: &[String]) -> Result<Vec<String>> {
    let mut out = input
        .iter()
        .map(|a| validate::address(a))
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

pub(crate) fn load_by_address(r: &impl Reader, address: &str) -> Result<(List, Tenant)> {
    match dir::get(r, Keyspace::Names, &dir::address_key(address))? {
        Some(AddressLoc::List { tenant, domain, id }) => {
            let l: List = dir::get(
                r,
                Keyspace::Directory,
                &dir::in_domain_key(tenant, dir::LIST, domain, id),
            )?
            .ok_or_else(|| CoreError::not_found("list", address))?;
            Ok((l, tenant::load(r, tenant)?))
        }
        _ => Err(CoreError::not_found("list", address)),
    }
}

impl Core {
    /// Creates a mailing list, counted against the list limits of its domain and every tenant
    /// above.
    pub async fn create_list(
        &self,
        actor: &Actor,
        address: &str,
        name: &str,
        initial: &[String],
    ) -> Result<List> {
        let address = validate::address(address)?;
        let name = validate::name("name", name)?;
        let initial = members(initial)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (d, t) = domain::load_by_name(txn, validate::domain_of(&address))?;
            check(
                &actor,
                Action::ListWrite,
                &Target::of(&t, Object::List(d.id)),
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
                    lists: 1,
                    ..Delta::default()
                },
            )?;
            let id = ListId(txn.next_id("list")?);
            let l = List {
                id,
                tenant: t.id,
                domain: d.id,
                address: address.clone(),
                name,
                members: initial,
            };
            dir::put(
                txn,
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::LIST, d.id, id.0),
                &l,
            )?;
            let loc = AddressLoc::List {
                tenant: t.id,
                domain: d.id,
                id: id.0,
            };
            dir::put(txn, Keyspace::Names, dir::address_key(&address), &loc)?;
            let tg = [format!("list:{address}"), format!("domain:{}", d.name)];
            audit::record(txn, &actor, "list.create", &t.path, &[&tg[0], &tg[1]], &l)?;
            Ok(l)
        })
        .await
    }

    /// Reads a mailing list.
    pub async fn get_list(&self, actor: &Actor, address: &str) -> Result<List> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (l, t) = load_by_address(s, &address)?;
            check(
                &actor,
                Action::ListRead,
                &Target::of(&t, Object::List(l.domain)),
                "list",
                &address,
            )?;
            Ok(l)
        })
        .await
    }

    /// Replaces a list's members.
    pub async fn set_list_members(
        &self,
        actor: &Actor,
        address: &str,
        new: &[String],
    ) -> Result<List> {
        let address = validate::address(address)?;
        let new = members(new)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (mut l, t) = load_by_address(txn, &address)?;
            check(
                &actor,
                Action::ListWrite,
                &Target::of(&t, Object::List(l.domain)),
                "list",
                &address,
            )?;
            l.members = new;
            dir::put(
                txn,
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::LIST, l.domain, l.id.0),
                &l,
            )?;
            let tg = [
                format!("list:{address}"),
                format!("domain:{}", validate::domain_of(&address)),
            ];
            audit::record(txn, &actor, "list.update", &t.path, &[&tg[0], &tg[1]], &l)?;
            Ok(l)
        })
        .await
    }

    /// Deletes a mailing list.
    pub async fn delete_list(&self, actor: &Actor, address: &str) -> Result<()> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn| {
            let (l, t) = load_by_address(txn, &address)?;
            check(
                &actor,
                Action::ListWrite,
                &Target::of(&t, Object::List(l.domain)),
                "list",
                &address,
            )?;
            let (d, _) = domain::load_by_id(txn, l.domain)?;
            let chain = tenant::chain(txn, t.id)?;
            quota::allocate(
                txn,
                &chain,
                Some(&d),
                &Delta {
                    lists: -1,
                    ..Delta::default()
                },
            )?;
            txn.delete(
                Keyspace::Directory,
                dir::in_domain_key(t.id, dir::LIST, l.domain, l.id.0),
            );
            txn.delete(Keyspace::Names, dir::address_key(&address));
            let tg = [format!("list:{address}"), format!("domain:{}", d.name)];
            audit::record(txn, &actor, "list.delete", &t.path, &[&tg[0], &tg[1]], &l)?;
            Ok(())
        })
        .await
    }
}

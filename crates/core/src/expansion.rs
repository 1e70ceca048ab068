//! What aliases and mailing lists share: an address of a domain that expands to other
//! addresses. One implementation of create, read, list, replace and delete, with the
//! permission check, the allocation counters and the audit record; [`crate::alias`] and
//! [`crate::list`] only say which kind they are.

use serde::{Serialize, de::DeserializeOwned};

use marque_store::Keyspace;

use crate::audit;
use crate::directory::{self as dir, AddressLoc, Reader};
use crate::domain;
use crate::error::{CoreError, Result};
use crate::ids::{DomainId, TenantId};
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::quota::{self, Delta};
use crate::tenant::{self, Tenant};
use crate::{Core, validate};

/// One kind of expanding address.
pub(crate) trait Expansion: Serialize + DeserializeOwned + Send + 'static {
    /// The word used in errors, audit records and targets ("alias", "list").
    const NOUN: &'static str;
    /// The record tag inside a domain's range of the directory.
    const TAG: u8;
    const READ: Action;
    const WRITE: Action;

    /// The kind of object, for the permission function.
    fn object(domain: DomainId) -> Object;
    /// The allocation change of `n` more of this kind.
    fn delta(n: i64) -> Delta;
    /// Where the address points in the shared address space.
    fn loc(tenant: TenantId, domain: DomainId, id: u64) -> AddressLoc;
    /// The inverse of [`Expansion::loc`] for this kind.
    fn from_loc(loc: AddressLoc) -> Option<(TenantId, DomainId, u64)>;
    fn id(&self) -> u64;
    fn domain(&self) -> DomainId;
    /// Replaces the addresses it expands to.
    fn set_addresses(&mut self, addresses: Vec<String>);
}

/// Validates, sorts and de-duplicates the addresses an expansion points to.
pub(crate) fn addresses(input: &[String]) -> Result<Vec<String>> {
    let mut out = input
        .iter()
        .map(|a| validate::address(a))
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn record_key<E: Expansion>(tenant: TenantId, domain: DomainId, id: u64) -> Vec<u8> {
    dir::in_domain_key(tenant, E::TAG, domain, id)
}

fn targets<E: Expansion>(address: &str, domain: &str) -> [String; 2] {
    [format!("{}:{address}", E::NOUN), format!("domain:{domain}")]
}

pub(crate) fn load_by_address<E: Expansion>(r: &impl Reader, address: &str) -> Result<(E, Tenant)> {
    let found = dir::get::<AddressLoc>(r, Keyspace::Names, &dir::address_key(address))?
        .and_then(E::from_loc);
    let Some((tenant, domain, id)) = found else {
        return Err(CoreError::not_found(E::NOUN, address));
    };
    let e: E = dir::get(r, Keyspace::Directory, &record_key::<E>(tenant, domain, id))?
        .ok_or_else(|| CoreError::not_found(E::NOUN, address))?;
    Ok((e, tenant::load(r, tenant)?))
}

impl Core {
    /// Creates one, counted against the limits of its domain and every tenant above; `build`
    /// makes the record from its new id, tenant and domain.
    pub(crate) async fn create_expansion<E, B>(
        &self,
        actor: &Actor,
        address: String,
        build: B,
    ) -> Result<E>
    where
        E: Expansion + Clone,
        B: FnOnce(u64, TenantId, DomainId) -> E + Send + 'static,
    {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (d, t) = domain::load_by_name(txn, validate::domain_of(&address))?;
            check(
                &actor,
                E::WRITE,
                &Target::of(&t, E::object(d.id)),
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
            quota::allocate(txn, &chain, Some(&d), &E::delta(1))?;
            let id = txn.next_id(E::NOUN)?;
            let e = build(id, t.id, d.id);
            dir::put(
                txn,
                Keyspace::Directory,
                record_key::<E>(t.id, d.id, id),
                &e,
            )?;
            dir::put(
                txn,
                Keyspace::Names,
                dir::address_key(&address),
                &E::loc(t.id, d.id, id),
            )?;
            let tg = targets::<E>(&address, &d.name);
            let what = format!("{}.create", E::NOUN);
            audit::record(txn, hooks, &actor, &what, &t.path, &[&tg[0], &tg[1]], &e)?;
            Ok(e)
        })
        .await
    }

    /// Reads one.
    pub(crate) async fn get_expansion<E: Expansion>(
        &self,
        actor: &Actor,
        address: &str,
    ) -> Result<E> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (e, t) = load_by_address::<E>(s, &address)?;
            check(
                &actor,
                E::READ,
                &Target::of(&t, E::object(e.domain())),
                E::NOUN,
                &address,
            )?;
            Ok(e)
        })
        .await
    }

    /// Lists a domain's.
    pub(crate) async fn list_expansions<E: Expansion>(
        &self,
        actor: &Actor,
        domain: &str,
    ) -> Result<Vec<E>> {
        let name = validate::domain(domain)?;
        let actor = actor.clone();
        self.read(move |s| {
            let (d, t) = domain::load_by_name(s, &name)?;
            check(
                &actor,
                E::READ,
                &Target::of(&t, E::object(d.id)),
                "domain",
                &name,
            )?;
            dir::list(
                s,
                Keyspace::Directory,
                &dir::in_domain_prefix(t.id, E::TAG, d.id),
            )
        })
        .await
    }

    /// Replaces the addresses one expands to.
    pub(crate) async fn set_expansion<E: Expansion + Clone>(
        &self,
        actor: &Actor,
        address: &str,
        to: Vec<String>,
    ) -> Result<E> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut e, t) = load_by_address::<E>(txn, &address)?;
            check(
                &actor,
                E::WRITE,
                &Target::of(&t, E::object(e.domain())),
                E::NOUN,
                &address,
            )?;
            e.set_addresses(to);
            dir::put(
                txn,
                Keyspace::Directory,
                record_key::<E>(t.id, e.domain(), e.id()),
                &e,
            )?;
            let tg = targets::<E>(&address, validate::domain_of(&address));
            let what = format!("{}.update", E::NOUN);
            audit::record(txn, hooks, &actor, &what, &t.path, &[&tg[0], &tg[1]], &e)?;
            Ok(e)
        })
        .await
    }

    /// Deletes one and gives its allocation back.
    pub(crate) async fn delete_expansion<E: Expansion>(
        &self,
        actor: &Actor,
        address: &str,
    ) -> Result<()> {
        let address = validate::address(address)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (e, t) = load_by_address::<E>(txn, &address)?;
            check(
                &actor,
                E::WRITE,
                &Target::of(&t, E::object(e.domain())),
                E::NOUN,
                &address,
            )?;
            let (d, _) = domain::load_by_id(txn, e.domain())?;
            let chain = tenant::chain(txn, t.id)?;
            quota::allocate(txn, &chain, Some(&d), &E::delta(-1))?;
            txn.delete(
                Keyspace::Directory,
                record_key::<E>(t.id, e.domain(), e.id()),
            );
            txn.delete(Keyspace::Names, dir::address_key(&address));
            let tg = targets::<E>(&address, &d.name);
            let what = format!("{}.delete", E::NOUN);
            audit::record(txn, hooks, &actor, &what, &t.path, &[&tg[0], &tg[1]], &e)?;
            Ok(())
        })
        .await
    }
}

//! Mailing lists: an address of a domain that fans out to its members, local or remote.

use serde::{Deserialize, Serialize};

use crate::directory::{self as dir, AddressLoc, Reader};
use crate::error::Result;
use crate::expansion::{self, Expansion};
use crate::ids::{DomainId, ListId, TenantId};
use crate::policy::{Action, Object};
use crate::principal::Actor;
use crate::quota::Delta;
use crate::tenant::Tenant;
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

impl Expansion for List {
    const NOUN: &'static str = "list";
    const TAG: u8 = dir::LIST;
    const READ: Action = Action::ListRead;
    const WRITE: Action = Action::ListWrite;

    fn object(domain: DomainId) -> Object {
        Object::List(domain)
    }
    fn delta(n: i64) -> Delta {
        Delta {
            lists: n,
            ..Delta::default()
        }
    }
    fn loc(tenant: TenantId, domain: DomainId, id: u64) -> AddressLoc {
        AddressLoc::List { tenant, domain, id }
    }
    fn from_loc(loc: AddressLoc) -> Option<(TenantId, DomainId, u64)> {
        match loc {
            AddressLoc::List { tenant, domain, id } => Some((tenant, domain, id)),
            _ => None,
        }
    }
    fn id(&self) -> u64 {
        self.id.0
    }
    fn domain(&self) -> DomainId {
        self.domain
    }
    fn set_addresses(&mut self, addresses: Vec<String>) {
        self.members = addresses;
    }
}

pub(crate) fn load_by_address(r: &impl Reader, address: &str) -> Result<(List, Tenant)> {
    expansion::load_by_address(r, address)
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
        let members = expansion::addresses(initial)?;
        let addr = address.clone();
        self.create_expansion(actor, address, move |id, tenant, domain| List {
            id: ListId(id),
            tenant,
            domain,
            address: addr,
            name,
            members,
        })
        .await
    }

    /// Reads a mailing list.
    pub async fn get_list(&self, actor: &Actor, address: &str) -> Result<List> {
        self.get_expansion(actor, address).await
    }

    /// Lists a domain's mailing lists.
    pub async fn list_lists(&self, actor: &Actor, domain: &str) -> Result<Vec<List>> {
        self.list_expansions(actor, domain).await
    }

    /// Replaces a list's members.
    pub async fn set_list_members(
        &self,
        actor: &Actor,
        address: &str,
        members: &[String],
    ) -> Result<List> {
        self.set_expansion(actor, address, expansion::addresses(members)?)
            .await
    }

    /// Deletes a mailing list.
    pub async fn delete_list(&self, actor: &Actor, address: &str) -> Result<()> {
        self.delete_expansion::<List>(actor, address).await
    }
}

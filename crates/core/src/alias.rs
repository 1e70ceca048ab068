//! Aliases: an address of a domain that forwards to one or more target addresses.

use serde::{Deserialize, Serialize};

use crate::directory::{self as dir, AddressLoc, Reader};
use crate::error::{CoreError, Result};
use crate::expansion::{self, Expansion};
use crate::ids::{AliasId, DomainId, TenantId};
use crate::policy::{Action, Object};
use crate::principal::Actor;
use crate::quota::Delta;
use crate::tenant::Tenant;
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

impl Expansion for Alias {
    const NOUN: &'static str = "alias";
    const TAG: u8 = dir::ALIAS;
    const READ: Action = Action::AliasRead;
    const WRITE: Action = Action::AliasWrite;

    fn object(domain: DomainId) -> Object {
        Object::Alias(domain)
    }
    fn delta(n: i64) -> Delta {
        Delta {
            aliases: n,
            ..Delta::default()
        }
    }
    fn loc(tenant: TenantId, domain: DomainId, id: u64) -> AddressLoc {
        AddressLoc::Alias { tenant, domain, id }
    }
    fn from_loc(loc: AddressLoc) -> Option<(TenantId, DomainId, u64)> {
        match loc {
            AddressLoc::Alias { tenant, domain, id } => Some((tenant, domain, id)),
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
        self.targets = addresses;
    }
}

fn targets(input: &[String]) -> Result<Vec<String>> {
    if input.is_empty() {
        return Err(CoreError::invalid(
            "targets",
            "an alias needs at least one target",
        ));
    }
    expansion::addresses(input)
}

pub(crate) fn load_by_address(r: &impl Reader, address: &str) -> Result<(Alias, Tenant)> {
    expansion::load_by_address(r, address)
}

impl Core {
    /// Creates an alias, counted against the alias limits of its domain and every tenant above.
    pub async fn create_alias(&self, actor: &Actor, address: &str, to: &[String]) -> Result<Alias> {
        let address = validate::address(address)?;
        let targets = targets(to)?;
        let addr = address.clone();
        self.create_expansion(actor, address, move |id, tenant, domain| Alias {
            id: AliasId(id),
            tenant,
            domain,
            address: addr,
            targets,
        })
        .await
    }

    /// Reads an alias.
    pub async fn get_alias(&self, actor: &Actor, address: &str) -> Result<Alias> {
        self.get_expansion(actor, address).await
    }

    /// Lists a domain's aliases.
    pub async fn list_aliases(&self, actor: &Actor, domain: &str) -> Result<Vec<Alias>> {
        self.list_expansions(actor, domain).await
    }

    /// Replaces an alias's targets.
    pub async fn set_alias_targets(
        &self,
        actor: &Actor,
        address: &str,
        to: &[String],
    ) -> Result<Alias> {
        self.set_expansion(actor, address, targets(to)?).await
    }

    /// Deletes an alias.
    pub async fn delete_alias(&self, actor: &Actor, address: &str) -> Result<()> {
        self.delete_expansion::<Alias>(actor, address).await
    }
}

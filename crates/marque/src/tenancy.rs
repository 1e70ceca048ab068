//! The binary's one door into the tenancy core: bootstrap on first start and the operator
//! commands. Every call acts as the operator (a provider admin on the local machine) through
//! the same core functions, and so the same permission checks and audit, as the admin API.

use anyhow::Result;
use marque_core::{Actor, Core, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantId, TenantKind};
use marque_hosting::Hosting;
use marque_store::Store;
use serde_json::Value;

/// What kind of tenant to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Sells to customers (and may have sub-resellers).
    Reseller,
    /// An organisation with domains and mailboxes.
    Customer,
}

/// The tenancy core over an open store, with the hosting features' hook registered (so that
/// what the operator changes reaches them, webhooks first, as what the API changes does).
#[derive(Debug)]
pub struct Tenancy {
    hosting: Hosting,
    core: Core,
    actor: Actor,
}

fn json<T: serde::Serialize>(value: &T) -> Result<Value> {
    Ok(serde_json::to_value(value)?)
}

impl Tenancy {
    /// Opens the core on `store`.
    pub fn open(store: Store) -> Result<Tenancy> {
        let hosting = Hosting::new(Core::open(store)?);
        Ok(Tenancy {
            core: hosting.core().clone(),
            hosting,
            actor: Actor::operator().with_source("cli"),
        })
    }

    /// The core itself, for the services.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The hosting features over the same core.
    pub fn hosting(&self) -> &Hosting {
        &self.hosting
    }

    /// Makes sure the provider exists; on first start creates it with `token` as its first
    /// admin token. Returns whether it was created now.
    pub async fn bootstrap(&self, token: String) -> Result<bool> {
        Ok(self.core.bootstrap(Some(token)).await?.token.is_some())
    }

    /// A new random admin token.
    pub fn generate_token() -> String {
        marque_core::token::generate()
    }

    /// Creates a reseller or customer under `parent` (the provider when `None`).
    pub async fn create_tenant(
        &self,
        name: String,
        kind: Kind,
        parent: Option<u64>,
    ) -> Result<Value> {
        let kind = match kind {
            Kind::Reseller => TenantKind::Reseller,
            Kind::Customer => TenantKind::Customer,
        };
        let new = NewTenant {
            name,
            kind,
            parent: parent.map(TenantId).unwrap_or(PROVIDER),
            ..Default::default()
        };
        json(&self.core.create_tenant(&self.actor, new).await?)
    }

    /// Every tenant, depth first from the provider, parents before children.
    pub async fn list_tenants(&self) -> Result<Vec<Value>> {
        let mut out = vec![json(&self.core.get_tenant(&self.actor, PROVIDER).await?)?];
        let mut stack = vec![PROVIDER];
        while let Some(parent) = stack.pop() {
            let children = self.core.list_tenants(&self.actor, parent).await?;
            for child in children.iter().rev() {
                stack.push(child.id);
            }
            for child in &children {
                out.push(json(child)?);
            }
        }
        Ok(out)
    }

    /// Creates a domain for `tenant`.
    /// The DKIM records of a domain, its keys generated if missing.
    pub async fn dkim_records(&self, name: &str) -> Result<Vec<marque_hosting::dkim::DkimRecord>> {
        Ok(self.hosting.ensure_dkim_keys(&self.actor, name).await?)
    }

    pub async fn create_domain(&self, name: String, tenant: u64) -> Result<Value> {
        let new = NewDomain {
            name,
            tenant: TenantId(tenant),
            limits: Default::default(),
        };
        json(&self.core.create_domain(&self.actor, new).await?)
    }

    /// Creates a mailbox.
    pub async fn create_mailbox(
        &self,
        address: String,
        password: String,
        quota_mb: u64,
    ) -> Result<Value> {
        let new = NewMailbox {
            address,
            password,
            quota_mb: Some(quota_mb),
            ..Default::default()
        };
        json(&self.core.create_mailbox(&self.actor, new).await?)
    }

    /// Sets a mailbox's password.
    pub async fn set_password(&self, address: String, password: String) -> Result<()> {
        Ok(self
            .core
            .set_password(&self.actor, &address, &password)
            .await?)
    }

    /// Usage of `tenant` (the provider's whole tree when `None`).
    pub async fn usage(&self, tenant: Option<u64>) -> Result<Value> {
        let tenant = tenant.map(TenantId).unwrap_or(PROVIDER);
        json(&self.core.usage(&self.actor, tenant).await?)
    }
}

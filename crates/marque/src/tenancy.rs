//! The binary's one door into the tenancy core: bootstrap on first start and the operator
//! commands. Every call acts as the operator (a provider admin on the local machine) and goes
//! through the same core functions, and so the same permission checks and audit, as the admin
//! API.
//!
//! The core's tenancy API (`Core::open`, `Core::bootstrap`, `create_tenant`, ...) is not in this
//! build yet: bootstrap creates the first-start token here, and the operator commands report
//! that they are unavailable. Only this file changes when the core lands.

use anyhow::{Result, bail};
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

/// The result of [`Tenancy::bootstrap`].
#[derive(Debug)]
pub struct Bootstrapped {
    /// A provider admin token generated now, to hand to the operator once. `None` when one
    /// already existed or was given through `MARQUE_ADMIN_TOKEN`.
    pub token: Option<String>,
}

/// The tenancy core over an open store.
#[derive(Debug)]
pub struct Tenancy {
    _store: Store,
    fresh: bool,
}

const UNAVAILABLE: &str = "the tenancy core is not part of this build yet";

impl Tenancy {
    /// Opens the core on `store`; `fresh` says the store was created just now.
    pub fn open(store: Store, fresh: bool) -> Result<Tenancy> {
        Ok(Tenancy {
            _store: store,
            fresh,
        })
    }

    /// Makes sure the provider and its first admin token exist. `admin_token` is
    /// `MARQUE_ADMIN_TOKEN`; without it, a random token is generated on first start.
    pub async fn bootstrap(&self, admin_token: Option<String>) -> Result<Bootstrapped> {
        if !self.fresh || admin_token.is_some() {
            return Ok(Bootstrapped { token: None });
        }
        let bytes: [u8; 32] = rand::random();
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Ok(Bootstrapped { token: Some(token) })
    }

    /// Creates a reseller or customer under `parent` (the provider when `None`).
    pub async fn create_tenant(
        &self,
        name: String,
        kind: Kind,
        parent: Option<u64>,
    ) -> Result<Value> {
        let _ = (name, kind, parent);
        bail!(UNAVAILABLE)
    }

    /// Every tenant, parents before children.
    pub async fn list_tenants(&self) -> Result<Vec<Value>> {
        bail!(UNAVAILABLE)
    }

    /// Creates a domain for `tenant`.
    pub async fn create_domain(&self, name: String, tenant: u64) -> Result<Value> {
        let _ = (name, tenant);
        bail!(UNAVAILABLE)
    }

    /// Creates a mailbox.
    pub async fn create_mailbox(
        &self,
        address: String,
        password: String,
        quota_mb: u64,
    ) -> Result<Value> {
        let _ = (address, password, quota_mb);
        bail!(UNAVAILABLE)
    }

    /// Sets a mailbox's password.
    pub async fn set_password(&self, address: String, password: String) -> Result<()> {
        let _ = (address, password);
        bail!(UNAVAILABLE)
    }

    /// Usage of `tenant` (the provider's whole tree when `None`).
    pub async fn usage(&self, tenant: Option<u64>) -> Result<Value> {
        let _ = tenant;
        bail!(UNAVAILABLE)
    }
}

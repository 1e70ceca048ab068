//! Marque's core: tenancy and quota, shared by every service.
//!
//! A tree of tenants (provider → resellers → customers) owns domains, and domains own
//! mailboxes, aliases and mailing lists. Every operation takes an [`Actor`] (a principal and
//! where it acts from), asks the one permission function [`policy::authorize`], checks limits
//! and counts all the way up the tree, writes its records, counters and audit record in one
//! store transaction, and answers once that is on disk.
//!
//! # Layout
//! - [`error`] — [`CoreError`].
//! - [`ids`] — the core's typed ids and [`PROVIDER`].
//! - [`directory`] — key layout and typed reads (the helpers the features above use are public).
//! - [`hook`] — [`Hooks`]: what the core tells the features above it, inside the change's
//!   transaction.
//! - [`validate`] — domain names, addresses, names, passwords.
//! - [`policy`] — [`Action`], [`Target`] and the permission function [`authorize`].
//! - [`principal`] — principals, roles, [`Actor`], administrators and managers.
//! - [`password`] — argon2id hashing.
//! - [`token`] — API tokens.
//! - [`bootstrap`] — the provider and its first token.
//! - [`tenant`] — the tenant tree.
//! - [`domain`], [`mailbox`], [`alias`], [`list`] — what a domain holds.
//! - [`plan`] — plans and mailbox tiers.
//! - [`limits`] — limits and who may set them.
//! - [`quota`] — allocation, usage charges for delivery/APPEND, usage reports.
//! - [`activation`] — activation policies, requests, events, monthly counts.
//! - [`credit`] — prepaid credit and its ledger.
//! - [`export`] — the monthly usage export (JSON, CSV).
//! - [`csv`] — the one CSV writer: RFC 4180 quoting, spreadsheet formulas neutralised.
//! - [`audit`] — the audit trail.
//! - [`staff_totp`] — the TOTP second factor (RFC 6238) of administrators and managers.
//! - [`authlog`] — password sign-in for the services and the authentication log.
//! - [`signin`] — the one throttle of failed sign-ins for every service, and the networks
//!   allowed to sign in without TLS.
//! - [`lookup`] — address resolution and password sign-in for the mail services.
//! - [`header`] — the one writer of header fields for the messages the platform composes.

#![forbid(unsafe_code)]

pub mod activation;
pub mod alias;
pub mod audit;
pub mod authlog;
pub mod bootstrap;
pub mod credit;
pub mod csv;
pub mod directory;
pub mod domain;
pub mod error;
mod expansion;
pub mod export;
pub mod header;
pub mod hook;
pub mod ids;
pub mod limits;
pub mod list;
pub mod lookup;
pub mod mailbox;
pub mod password;
pub mod plan;
pub mod policy;
pub mod principal;
pub mod quota;
pub mod signin;
pub mod staff_totp;
pub mod tenant;
pub mod token;
pub mod validate;

pub use activation::{Activation, ActivationPolicy, ActivationState, MonthlyCounts};
pub use alias::Alias;
pub use audit::{AuditPage, AuditRecord, AuditScope};
pub use bootstrap::Bootstrap;
pub use credit::LedgerEntry;
pub use domain::{Domain, NewDomain};
pub use error::{CoreError, Result};
pub use export::UsageExport;
pub use hook::{Hooks, NoHooks};
pub use ids::{
    AccountId, ActivationId, AliasId, DomainId, ListId, PROVIDER, PlanId, StaffId, TenantId,
    TokenId,
};
pub use limits::{Limits, LimitsOf};
pub use list::List;
pub use lookup::Recipient;
pub use mailbox::{Mailbox, MailboxChanges, NewMailbox};
pub use password::HashCost;
pub use plan::{Features, NewPlan, Plan, Tier};
pub use policy::{Action, Denied, Object, Target, authorize};
pub use principal::{Actor, NewStaff, Principal, PrincipalId, Role, Scope, Staff, StaffKind, Via};
pub use quota::{Counts, DomainUsage, TenantUsage, Usage};
pub use tenant::{
    Billing, Created, NewTenant, SupportLevel, Tenant, TenantChanges, TenantKind, TenantState,
};
pub use token::{NewToken, Token};

use marque_store::Store;

/// The core: a cheap, cloneable handle over the store.
#[derive(Debug, Clone)]
pub struct Core {
    store: Store,
    cost: HashCost,
    /// What the features above the core hear of changes ([`hook`]).
    hooks: hook::SharedHooks,
    /// The sign-in policy and throttle clock ([`signin`]).
    sign_in: signin::SignIn,
}

impl Core {
    /// Opens the core over a store.
    pub fn open(store: Store) -> Result<Core> {
        Self::open_with(store, HashCost::default())
    }

    /// Opens the core with a chosen password-hashing cost.
    pub fn open_with(store: Store, cost: HashCost) -> Result<Core> {
        Ok(Core {
            store,
            cost,
            hooks: std::sync::Arc::new(NoHooks),
            sign_in: signin::SignIn::default(),
        })
    }

    /// Registers the hooks the core calls inside the transactions of its changes ([`hook`]).
    /// Every clone made after this shares them.
    pub fn with_hooks(mut self, hooks: std::sync::Arc<dyn Hooks>) -> Core {
        self.hooks = hooks;
        self
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs blocking reads on tokio's blocking pool, off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| CoreError::Task(e.to_string()))?
    }
}

pub(crate) use marque_store::now_ms;

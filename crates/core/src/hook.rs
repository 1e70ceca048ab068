//! The event hook: how the tenancy core tells the features built over it about a change,
//! without calling up into them.
//!
//! The core calls nothing above it. Where a change must have effects outside the tenancy
//! records (an audited change that is a webhook event, a mailbox reported over quota, a domain
//! deleted whose DKIM keys and DNS state go with it) or may be refused by a rule kept above it
//! (a domain name that is another tenant's or the platform's), it calls the [`Hooks`]
//! registered with [`crate::Core::with_hooks`], inside the change's own store transaction: a
//! hook's writes commit with the change or not at all, and a hook's error refuses the change.
//! Without a registered hook, [`NoHooks`] does nothing.

use std::sync::Arc;

use marque_store::Txn;

use crate::error::Result;
use crate::ids::{DomainId, TenantId};
use crate::principal::Actor;

/// What the core tells the features above it, inside the transaction of the change.
pub trait Hooks: Send + Sync + std::fmt::Debug {
    /// A change was recorded in the audit trail of the tenants in `owners` (the object's
    /// tenant last); `what` is its audit name ("mailbox.create"), `detail` the object after it.
    fn audited(
        &self,
        _txn: &mut Txn<'_>,
        _what: &str,
        _owners: &[TenantId],
        _detail: &serde_json::Value,
    ) -> Result<()> {
        Ok(())
    }

    /// A delivery or APPEND to a mailbox of the tenant at the end of `path` was refused
    /// because a quota is full (at most once per mailbox per
    /// [`crate::quota::OVER_QUOTA_EVERY_MS`]); `data` describes the mailbox.
    fn over_quota(
        &self,
        _txn: &mut Txn<'_>,
        _path: &[TenantId],
        _data: &serde_json::Value,
    ) -> Result<()> {
        Ok(())
    }

    /// `actor` is creating a domain `name` (validated, lower-case, not taken) in tenant
    /// `holder`; called before anything of the domain is written, and an error refuses the
    /// creation with that error.
    fn domain_claimed(
        &self,
        _txn: &mut Txn<'_>,
        _actor: &Actor,
        _holder: TenantId,
        _name: &str,
    ) -> Result<()> {
        Ok(())
    }

    /// The domain `domain` of tenant `tenant` is being deleted: whatever the features above
    /// keep for it goes in the same transaction.
    fn domain_deleted(
        &self,
        _txn: &mut Txn<'_>,
        _tenant: TenantId,
        _domain: DomainId,
    ) -> Result<()> {
        Ok(())
    }
}

/// No hook: the tenancy core alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// The hook a core calls (cheap to clone).
pub(crate) type SharedHooks = Arc<dyn Hooks>;

//! The event hook: how the tenancy core tells the features built over it about a change,
//! without calling up into them.
//!
//! The core calls nothing above it. Where a change must have effects outside the tenancy
//! records (an audited change that is a webhook event, a mailbox reported over quota), it
//! calls the [`Hooks`] registered with [`crate::Core::with_hooks`], inside the change's own
//! store transaction: a hook's writes commit with the change or not at all, and a hook's error
//! refuses the change. Without a registered hook, [`NoHooks`] does nothing.

use std::sync::Arc;

use marque_store::Txn;

use crate::error::Result;
use crate::ids::TenantId;

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
}

/// No hook: the tenancy core alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// The hook a core calls (cheap to clone).
pub(crate) type SharedHooks = Arc<dyn Hooks>;

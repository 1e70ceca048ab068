//! What the tenancy core tells the hosting features ([`marque_core::hook`]), inside the
//! transaction of each change: an audited change that is a webhook event goes to the outbox,
//! and so does a mailbox over quota.

use marque_core::hook::Hooks;
use marque_core::{Result, TenantId};
use marque_store::Txn;

use crate::webhook;

/// The hosting features' side of the core's hook, registered by [`crate::Hosting::new`].
#[derive(Debug, Clone, Default)]
pub struct HostingHooks;

impl Hooks for HostingHooks {
    fn audited(
        &self,
        txn: &mut Txn<'_>,
        what: &str,
        owners: &[TenantId],
        detail: &serde_json::Value,
    ) -> Result<()> {
        webhook::emit_audited(txn, what, owners, detail)
    }

    fn over_quota(
        &self,
        txn: &mut Txn<'_>,
        path: &[TenantId],
        data: &serde_json::Value,
    ) -> Result<()> {
        webhook::emit(txn, "mailbox.over_quota", path, data)
    }
}

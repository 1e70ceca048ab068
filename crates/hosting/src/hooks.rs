//! What the tenancy core tells the hosting features ([`marque_core::hook`]), inside the
//! transaction of each change: an audited change that is a webhook event goes to the outbox,
//! and so does a mailbox over quota; a new domain's name must be the holder's to claim
//! ([`crate::cert::owner`]), and a deleted domain's DKIM keys and DNS check state go with it.

use std::sync::Arc;

use marque_core::hook::Hooks;
use marque_core::{Actor, DomainId, Result, TenantId};
use marque_store::Txn;

use crate::cert::owner::{Claim, ClaimKind, check_claim};
use crate::{dkim, dns, webhook};

/// The hosting features' side of the core's hook, registered by [`crate::Hosting::new`].
#[derive(Debug, Clone, Default)]
pub struct HostingHooks {
    /// The platform's own host names from the configuration, which no tenant's domain may
    /// take ([`crate::Hosting::with_server_hostname`], [`crate::Hosting::with_dns`]).
    platform: Arc<[String]>,
}

impl HostingHooks {
    /// The hooks, refusing domains that take one of the `platform` host names.
    pub fn new(platform: Vec<String>) -> HostingHooks {
        HostingHooks {
            platform: platform.into(),
        }
    }
}

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

    fn domain_claimed(
        &self,
        txn: &mut Txn<'_>,
        actor: &Actor,
        holder: TenantId,
        name: &str,
    ) -> Result<()> {
        let claim = Claim {
            actor,
            holder,
            host: name,
            kind: ClaimKind::Domain,
        };
        check_claim(txn, &self.platform, claim)
    }

    fn domain_deleted(&self, txn: &mut Txn<'_>, tenant: TenantId, domain: DomainId) -> Result<()> {
        dkim::delete(txn, tenant, domain);
        dns::status::delete(txn, tenant, domain);
        Ok(())
    }
}

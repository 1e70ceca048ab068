//! Global Sieve scripts: set by a tenant's administrators for every mailbox of the tenant (and
//! of its sub-tenants) or of one domain, and run at delivery before or after the user's own
//! script (e.g. a provider rule filing spam to Junk).
//!
//! They live in the owning tenant's range of the directory keyspace, so that a tenant's data
//! stays one range. The store keeps the text only; permissions are the core's, compiling and
//! running is the delivery layer's.

use crate::error::Result;
use crate::ids::{DomainId, TenantId};
use crate::keyspace::{Key, Keyspace};
use crate::reader::Reader;
use crate::txn::Txn;

const TAG_GLOBAL: u8 = crate::tags::directory::SIEVE_GLOBAL;

/// Whom a global script applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every mailbox of the tenant and of the tenants below it.
    Tenant(TenantId),
    /// Every mailbox of one domain, which `tenant` owns.
    Domain { tenant: TenantId, domain: DomainId },
}

/// When a global script runs, relative to the user's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Before,
    After,
}

fn key(scope: Scope, phase: Phase) -> Vec<u8> {
    let phase = match phase {
        Phase::Before => b'b',
        Phase::After => b'a',
    };
    match scope {
        Scope::Tenant(t) => Key::new()
            .u64(t.0)
            .tag(TAG_GLOBAL)
            .tag(b't')
            .tag(phase)
            .into_bytes(),
        Scope::Domain { tenant, domain } => Key::new()
            .u64(tenant.0)
            .tag(TAG_GLOBAL)
            .tag(b'd')
            .u64(domain.0)
            .tag(phase)
            .into_bytes(),
    }
}

/// Sets (creates or replaces) the script of `scope` for `phase`.
pub fn put(txn: &mut Txn<'_>, scope: Scope, phase: Phase, text: &[u8]) {
    txn.put(Keyspace::Directory, key(scope, phase), text.to_vec());
}

/// The script of `scope` for `phase`, if one is set.
pub fn get(r: &impl Reader, scope: Scope, phase: Phase) -> Result<Option<Vec<u8>>> {
    r.get(Keyspace::Directory, &key(scope, phase))
}

/// Removes the script of `scope` for `phase`; true if there was one.
pub fn delete(txn: &mut Txn<'_>, scope: Scope, phase: Phase) -> Result<bool> {
    let k = key(scope, phase);
    let existed = txn.get(Keyspace::Directory, &k)?.is_some();
    if existed {
        txn.delete(Keyspace::Directory, k);
    }
    Ok(existed)
}

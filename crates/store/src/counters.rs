//! Usage counters, keyed by owner then metric.
//!
//! The quota logic lives in the core; it reads these counters and charges them inside the same
//! transaction as the data they count (see [`crate::mail::Charge`]).

use crate::ids::{AccountId, DomainId, TenantId};
use crate::keyspace::Key;

/// Whose counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Tenant(TenantId),
    Domain(DomainId),
    Account(AccountId),
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Bytes of messages stored (usage).
    StorageUsed,
    /// Messages stored.
    Messages,
    /// Bytes promised to mailboxes by their quotas (allocation).
    StorageAllocated,
    /// Domains.
    Domains,
    /// Mailboxes of one tier (tier number).
    Mailboxes(u8),
    /// Aliases.
    Aliases,
    /// Mailing lists.
    Lists,
}

impl Metric {
    fn code(self) -> (u8, u8) {
        match self {
            Metric::StorageUsed => (1, 0),
            Metric::Messages => (2, 0),
            Metric::StorageAllocated => (3, 0),
            Metric::Domains => (4, 0),
            Metric::Mailboxes(tier) => (5, tier),
            Metric::Aliases => (6, 0),
            Metric::Lists => (7, 0),
        }
    }
}

/// The key of one counter.
pub fn key(owner: Owner, metric: Metric) -> Vec<u8> {
    let (tag, id) = match owner {
        Owner::Tenant(t) => (crate::tags::counters::TENANT, t.0),
        Owner::Domain(d) => (crate::tags::counters::DOMAIN, d.0),
        Owner::Account(a) => (crate::tags::counters::ACCOUNT, a.0),
    };
    let (m, sub) = metric.code();
    Key::new().tag(tag).u64(id).tag(m).tag(sub).into_bytes()
}

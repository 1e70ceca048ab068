//! Typed ids of the core's own records; tenants, domains and accounts use the store's ids.

use serde::{Deserialize, Serialize};

pub use marque_store::{AccountId, DomainId, TenantId};

/// The provider: the root of the tenant tree, created first by [`crate::Core::bootstrap`].
pub const PROVIDER: TenantId = TenantId(1);

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// An administrator or a manager (a principal that signs in by name).
    StaffId
);
id!(
    /// A plan (tariff).
    PlanId
);
id!(
    /// An alias.
    AliasId
);
id!(
    /// A mailing list.
    ListId
);
id!(
    /// An API token.
    TokenId
);
id!(
    /// An activation request of a reseller-kind manager.
    ActivationId
);

//! Typed ids. Keys begin with one of these owners, so an owner's data is one range.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A tenant: the provider, a reseller, a sub-reseller or a customer.
    TenantId(u64)
);
id!(
    /// A domain.
    DomainId(u64)
);
id!(
    /// A mail account (one mailbox address with its folders).
    AccountId(u64)
);
id!(
    /// A folder inside an account ("mailbox" in IMAP's words).
    MailboxId(u32)
);

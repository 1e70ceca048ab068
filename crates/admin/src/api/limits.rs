//! Limits as the API takes them: a merge patch (RFC 7396 style) over the current limits, so that
//! a client sends only what changes; `null` lifts a limit. The result is checked by the core:
//! every number within its range (`422` naming the field, e.g. `limits.storage_mb`) and no
//! more than the tenant above grants.

use std::collections::BTreeMap;

use marque_core::{Limits, Tier};
use serde::Deserialize;

/// `null` for a nullable field is "clear it"; absent is "keep it".
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsPatch {
    #[serde(default, deserialize_with = "nullable")]
    domains: Option<Option<u64>>,
    /// Per tier; replaces the whole map when given.
    mailboxes: Option<BTreeMap<Tier, u64>>,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    lists: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    max_mailbox_mb: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    storage_mb: Option<Option<u64>>,
}

impl LimitsPatch {
    /// `current` with the changes applied.
    pub(crate) fn apply(self, mut current: Limits) -> Limits {
        if let Some(v) = self.domains {
            current.domains = v;
        }
        if let Some(v) = self.mailboxes {
            current.mailboxes = v;
        }
        if let Some(v) = self.aliases {
            current.aliases = v;
        }
        if let Some(v) = self.lists {
            current.lists = v;
        }
        if let Some(v) = self.max_mailbox_mb {
            current.max_mailbox_mb = v;
        }
        if let Some(v) = self.storage_mb {
            current.storage_mb = v;
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_merges() {
        let base = Limits {
            domains: Some(3),
            aliases: Some(7),
            ..Limits::default()
        };
        let p: LimitsPatch = serde_json::from_str(r#"{"domains": 5, "aliases": null}"#).unwrap();
        let l = p.apply(base);
        assert_eq!(l.domains, Some(5));
        assert_eq!(l.aliases, None);
        assert!(serde_json::from_str::<LimitsPatch>(r#"{"bogus": 1}"#).is_err());
    }
}

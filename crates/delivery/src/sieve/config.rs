//! The `[sieve]` section of the configuration: limits on what one script may do.

use serde::Deserialize;

/// Limits of Sieve at delivery. Every value has a default; see `docs/sieve.md`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SieveConfig {
    /// Most scripts one mailbox may keep (ManageSieve, the admin API).
    pub max_scripts: usize,
    /// Largest script stored (ManageSieve answers `QUOTA/MAXSIZE`) or compiled at delivery, in
    /// bytes; a larger one at delivery fails and the message goes to INBOX.
    pub max_script_size: usize,
    /// Most instructions one script run may execute (the CPU limit).
    pub max_instructions: usize,
    /// Most `redirect` actions one script run may take; further ones are ignored.
    pub max_redirects: usize,
    /// Most actions (stored copies and messages sent) one recipient's chain may take; past
    /// that the run fails and the message goes to INBOX.
    pub max_actions: usize,
    /// How deep `include` may nest.
    pub max_nested_includes: usize,
    /// A message that already went through this many Sieve redirects (counted by its
    /// `X-Marque-Loop` headers) is not redirected again but kept.
    pub max_redirect_hops: usize,
    /// Compiled scripts kept in memory.
    pub cache_entries: usize,
    /// Default `:days` of `vacation` when the script gives none.
    pub vacation_default_days: u64,
}

impl Default for SieveConfig {
    fn default() -> Self {
        SieveConfig {
            max_scripts: 10,
            max_script_size: 64 * 1024,
            max_instructions: 10_000,
            max_redirects: 4,
            max_actions: 32,
            max_nested_includes: 3,
            max_redirect_hops: 8,
            cache_entries: 1024,
            vacation_default_days: 7,
        }
    }
}

impl SieveConfig {
    /// The limits the core enforces when scripts are stored.
    pub fn storage_limits(&self) -> marque_hosting::sieve::SieveLimits {
        marque_hosting::sieve::SieveLimits {
            max_scripts: self.max_scripts as u64,
            max_script_size: self.max_script_size as u64,
        }
    }

    /// Every problem of the section: (key path, what is wrong).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let positive = [
            ("sieve.max_scripts", self.max_scripts),
            ("sieve.max_script_size", self.max_script_size),
            ("sieve.max_instructions", self.max_instructions),
            ("sieve.max_actions", self.max_actions),
            ("sieve.cache_entries", self.cache_entries),
        ];
        for (key, v) in positive {
            if v == 0 {
                out.push((key.to_string(), "must be at least 1, not 0".to_string()));
            }
        }
        if self.vacation_default_days == 0 {
            out.push((
                "sieve.vacation_default_days".into(),
                "must be at least 1, not 0".into(),
            ));
        }
        out
    }
}

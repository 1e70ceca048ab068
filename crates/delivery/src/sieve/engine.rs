//! The compiler and runtime, configured once from [`SieveConfig`], and the extensions a script
//! may use here.

use std::sync::Arc;

use ::sieve::{Compiler, Runtime, compiler::grammar::Capability};

use super::cache::{Compiled, ScriptCache};
use super::config::SieveConfig;

/// The extensions (RFC 5228 §6 `require` names) advertised and allowed: each is handled end to
/// end by delivery, and `tests/sieve_extensions.rs` runs a script using it. A script that
/// requires anything else fails at run time, and its message goes to INBOX.
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "reject",
    "ereject",
    "envelope",
    "encoded-character",
    "comparator-i;ascii-numeric",
    "comparator-i;ascii-casemap",
    "comparator-i;octet",
    "body",
    "copy",
    "relational",
    "date",
    "index",
    "duplicate",
    "variables",
    "editheader",
    "imap4flags",
    "mailbox",
    "special-use",
    "vacation",
    "vacation-seconds",
    "subaddress",
    "include",
    "regex",
];

/// Compiles and runs scripts under the configured limits.
pub struct SieveEngine {
    compiler: Compiler,
    runtime: Runtime,
    cache: ScriptCache,
    config: SieveConfig,
    hostname: String,
}

impl std::fmt::Debug for SieveEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SieveEngine")
            .field("config", &self.config)
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl Default for SieveEngine {
    fn default() -> Self {
        SieveEngine::new(SieveConfig::default(), "localhost")
    }
}

impl SieveEngine {
    /// An engine with `config`'s limits; `hostname` names the server in the Message-ID of
    /// vacation replies.
    pub fn new(config: SieveConfig, hostname: &str) -> Self {
        let compiler = Compiler::new()
            .with_max_script_size(config.max_script_size)
            .with_max_includes(config.max_nested_includes);
        let mut runtime = Runtime::new()
            .with_cpu_limit(config.max_instructions)
            .with_max_redirects(config.max_redirects)
            // Messages sent by one run: the redirects and one vacation reply.
            .with_max_out_messages(config.max_redirects.saturating_add(1))
            .with_max_nested_includes(config.max_nested_includes)
            .with_default_vacation_expiry(config.vacation_default_days.saturating_mul(86_400))
            .with_vacation_subject_prefix("Auto: ")
            .with_local_hostname(hostname.to_string());
        for c in Capability::all() {
            if !EXTENSIONS.contains(&c.to_string().as_str()) {
                runtime.unset_capability(c.clone());
            }
        }
        SieveEngine {
            compiler,
            runtime,
            cache: ScriptCache::new(config.cache_entries),
            config,
            hostname: hostname.to_string(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &SieveConfig {
        &self.config
    }

    /// The server's host name (in the Message-ID of what scripts send).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The runtime scripts run in.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// `text` compiled, from the cache when it was compiled before.
    pub fn compile(&self, text: &[u8]) -> Compiled {
        self.cache.get_or_compile(text, |t| {
            marque_hosting::sieve::check::guarded_compile(&self.compiler, t)
                .map(Arc::new)
                .map_err(|e| format!("compile error: {e}"))
        })
    }

    /// Compiled scripts held in memory.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_sieve_rs_trips_on_is_a_compile_error_not_a_panic() {
        // sieve-rs asserts on a match variable in a `body :regex` key (with debug assertions,
        // as the dev profile builds it); delivery must go on and file the message to INBOX.
        let script = b"require [\"body\", \"regex\"];\r\nif body :regex \"${1}\" { keep; }\r\n";
        let engine = SieveEngine::default();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.compile(script)));
        assert!(outcome.is_ok(), "compiling panicked");
        assert!(engine.compile(b"keep;").is_ok());
    }
}

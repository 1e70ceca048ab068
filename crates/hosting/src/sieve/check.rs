//! Checks on a script before it is stored: the limits of a mailbox, a full compile with
//! sieve-rs so that a script that would fail at delivery is refused when it is uploaded, and
//! the checks of [`super::lint`] on what its `vacation` would send.

use serde::{Deserialize, Serialize};

use marque_core::error::{CoreError, Result};

/// The name of the limit on the number of scripts, as [`CoreError::LimitExceeded`] names it.
pub const LIMIT_SCRIPTS: &str = "sieve.max_scripts";
/// The name of the limit on the size of one script.
pub const LIMIT_SIZE: &str = "sieve.max_script_size";

/// Limits on one mailbox's scripts (config `[sieve]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SieveLimits {
    /// Scripts one mailbox may hold.
    pub max_scripts: u64,
    /// Bytes one script may have.
    pub max_script_size: u64,
}

impl Default for SieveLimits {
    fn default() -> Self {
        SieveLimits {
            max_scripts: 10,
            max_script_size: 64 * 1024,
        }
    }
}

impl SieveLimits {
    /// Refuses a script of `size` bytes.
    pub fn check_size(&self, size: u64) -> Result<()> {
        if size > self.max_script_size {
            return Err(CoreError::LimitExceeded {
                limit: LIMIT_SIZE.into(),
                used: 0,
                requested: i64::try_from(size).unwrap_or(i64::MAX),
                max: i64::try_from(self.max_script_size).unwrap_or(i64::MAX),
            });
        }
        Ok(())
    }

    /// Refuses one more script when `count` are stored already.
    pub fn check_count(&self, count: u64) -> Result<()> {
        if count >= self.max_scripts {
            return Err(CoreError::LimitExceeded {
                limit: LIMIT_SCRIPTS.into(),
                used: i64::try_from(count).unwrap_or(i64::MAX),
                requested: 1,
                max: i64::try_from(self.max_scripts).unwrap_or(i64::MAX),
            });
        }
        Ok(())
    }
}

/// True if `e` is one of the script limits (for the ManageSieve `QUOTA/...` codes).
pub fn limit_of(e: &CoreError) -> Option<&str> {
    match e {
        CoreError::LimitExceeded { limit, .. } if limit == LIMIT_SCRIPTS || limit == LIMIT_SIZE => {
            Some(limit)
        }
        _ => None,
    }
}

/// Compiles `text` with sieve-rs. A script must be UTF-8 (RFC 5804 §1.6, RFC 5228 §2.2); the
/// error names the line and column ("... at line 3, column 7.").
pub fn compile(text: &[u8], limits: &SieveLimits) -> Result<()> {
    limits.check_size(text.len() as u64)?;
    if std::str::from_utf8(text).is_err() {
        return Err(CoreError::invalid("script", "is not valid UTF-8"));
    }
    let max = usize::try_from(limits.max_script_size).unwrap_or(usize::MAX);
    let compiler = ::sieve::Compiler::new().with_max_script_size(max.max(1));
    guarded_compile(&compiler, text).map_err(|e| CoreError::invalid("script", e))?;
    // What a vacation would send, where the text alone tells (the user's own addresses are
    // checked where the user is known: `Hosting::sieve_put`).
    match super::lint::vacation_problem(&String::from_utf8_lossy(text), None) {
        Some(problem) => Err(CoreError::invalid("script", problem)),
        None => Ok(()),
    }
}

/// Compiles `text` with `compiler`, a panic inside sieve-rs included: its grammar asserts on
/// some scripts instead of refusing them (in builds with debug assertions, as the dev profile
/// is), and a user's script must not take down the session that checks or runs it. Delivery
/// compiles through here too.
pub fn guarded_compile(
    compiler: &::sieve::Compiler,
    text: &[u8],
) -> std::result::Result<::sieve::Sieve, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compiler.compile(text))) {
        Ok(compiled) => compiled.map_err(|e| e.to_string()),
        Err(_) => Err("the script could not be compiled".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_script_compiles() {
        let script = b"require [\"fileinto\"];\r\nif header :is \"x-spam\" \"yes\" { fileinto \"Junk\"; }\r\n";
        compile(script, &SieveLimits::default()).unwrap();
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = compile(b"keep;\r\nfileinto \"x\";\r\n", &SieveLimits::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("fileinto"), "{text}");
    }

    #[test]
    fn size_and_encoding_are_checked() {
        let small = SieveLimits {
            max_scripts: 1,
            max_script_size: 8,
        };
        assert_eq!(
            limit_of(&compile(b"keep; keep; keep;", &small).unwrap_err()),
            Some(LIMIT_SIZE)
        );
        assert!(compile(b"# \xff\r\nkeep;", &SieveLimits::default()).is_err());
        assert_eq!(
            limit_of(&small.check_count(1).unwrap_err()),
            Some(LIMIT_SCRIPTS)
        );
        small.check_count(0).unwrap();
    }

    #[test]
    fn a_script_sieve_rs_trips_on_is_an_error_not_a_panic() {
        // A match variable in the key of a test sieve-rs does not expect it in: its grammar
        // asserts (in builds with debug assertions, as the dev profile is) instead of refusing.
        let script = b"require [\"body\", \"regex\"];\r\nif body :regex \"${1}\" { keep; }\r\n";
        let outcome = std::panic::catch_unwind(|| compile(script, &SieveLimits::default()));
        assert!(outcome.is_ok(), "compiling panicked");
    }
}

//! One file per ManageSieve command (RFC 5804 §2): each applies a parsed
//! [`super::parse::Command`] and answers with a [`Reply`]. Commands that need a signed-in user
//! take its [`User`].

pub mod authenticate;
pub mod capability;
pub mod checkscript;
pub mod deletescript;
pub mod getscript;
pub mod havespace;
pub mod listscripts;
pub mod logout;
pub mod noop;
pub mod putscript;
pub mod renamescript;
pub mod setactive;
pub mod starttls;
pub mod unauthenticate;

use marque_core::{Actor, CoreError};
use marque_hosting::sieve::{LIMIT_SCRIPTS, LIMIT_SIZE};

use super::response::{Code, Reply};

/// The signed-in user of a session.
#[derive(Debug, Clone)]
pub struct User {
    pub actor: Actor,
    /// The mailbox's address, the key of its scripts.
    pub address: String,
}

/// A core error as a `NO` with the response code RFC 5804 §1.3 gives it.
pub fn refusal(e: &CoreError) -> Reply {
    match e {
        CoreError::LimitExceeded { limit, max, .. } if limit == LIMIT_SCRIPTS => Reply::no(
            Some(Code::QuotaMaxScripts),
            &format!("at most {max} scripts"),
        ),
        CoreError::LimitExceeded { limit, max, .. } if limit == LIMIT_SIZE => Reply::no(
            Some(Code::QuotaMaxSize),
            &format!("a script may have at most {max} bytes"),
        ),
        CoreError::NotFound { what: "script", .. } => {
            Reply::no(Some(Code::Nonexistent), "no such script")
        }
        CoreError::AlreadyExists { .. } => {
            Reply::no(Some(Code::AlreadyExists), "a script of that name exists")
        }
        CoreError::State { what: "script", .. } => {
            Reply::no(Some(Code::Active), "the script is active")
        }
        CoreError::Invalid { reason, .. } => Reply::no(None, reason),
        e => {
            tracing::warn!(error = %e, "ManageSieve command failed");
            Reply::no(Some(Code::TryLater), "internal error, try again later")
        }
    }
}

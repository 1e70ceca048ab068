//! The core's error type.

use crate::policy::Action;

/// Everything a core operation can refuse or fail with.
///
/// [`CoreError::NotFound`] covers both "does not exist" and "exists outside the caller's scope",
/// so that an API built on the core cannot reveal what another tenant holds.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The storage layer failed.
    #[error(transparent)]
    Store(marque_store::Error),
    /// No such object, or none the caller may see.
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    /// The caller sees the object but may not do this to it.
    #[error("not permitted: {action:?} on {what} {key}")]
    Forbidden {
        action: Action,
        what: &'static str,
        key: String,
    },
    /// The tenant's plan does not include a feature the change needs (custom branding, custom
    /// TLS, a dedicated IP).
    #[error("the plan of tenant {tenant} does not include {feature}")]
    NotInPlan {
        feature: &'static str,
        tenant: String,
    },
    /// A unique name is taken.
    #[error("{what} already exists: {key}")]
    AlreadyExists { what: &'static str, key: String },
    /// A host name (or a domain) that belongs to the platform or to another tenant: nobody
    /// else may brand, certify or create it (marque-hosting's `cert/owner.rs`).
    #[error("host name {host} cannot be used: {reason}")]
    HostnameNotOwned { host: String, reason: String },
    /// Input that cannot be accepted.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// A limit would be passed; nothing was written.
    #[error("limit exceeded: {limit} (in use {used}, requested {requested}, limit {max})")]
    LimitExceeded {
        limit: String,
        used: i64,
        requested: i64,
        max: i64,
    },
    /// The object still holds others (a domain with mailboxes, a tenant with domains...).
    #[error("{what} {key} is not empty: {reason}")]
    NotEmpty {
        what: &'static str,
        key: String,
        reason: String,
    },
    /// The object is in a state that does not allow the operation.
    #[error("{what} {key}: {reason}")]
    State {
        what: &'static str,
        key: String,
        reason: String,
    },
    /// Wrong, unknown, expired or revoked credentials (deliberately not more precise).
    #[error("authentication failed")]
    AuthFailed,

    /// The client's address failed to sign in too often lately (the sign-in throttle); its
    /// password was not checked.
    #[error("too many failed sign-ins from this address; try again in {retry_after_secs} s")]
    SignInRefused { retry_after_secs: u64 },
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A blocking task could not complete.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl From<marque_store::Error> for CoreError {
    fn from(e: marque_store::Error) -> Self {
        match e {
            marque_store::Error::LimitExceeded {
                counter,
                used,
                delta,
                limit,
            } => CoreError::LimitExceeded {
                limit: counter,
                used,
                requested: delta,
                max: limit,
            },
            other => CoreError::Store(other),
        }
    }
}

impl CoreError {
    /// "Not found" for a missing object.
    pub fn not_found(what: &'static str, key: impl ToString) -> Self {
        CoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// "Invalid" for a field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        CoreError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// True if this is the out-of-scope-or-missing case (the API answers 404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, CoreError::NotFound { .. })
    }

    /// True if the caller was refused a visible object (the API answers 403).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, CoreError::Forbidden { .. })
    }
}

/// Result with the core's error.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

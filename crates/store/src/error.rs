//! The store's error type.

use crate::keyspace::Keyspace;

/// Everything that can go wrong below the mail and tenancy logic.
///
/// Cloneable because one failed group commit is reported to every transaction in the group.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The backend (RocksDB) refused an operation; the text is its own message.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A stored value could not be decoded: corruption or a format from a newer version.
    #[error("corrupt record in keyspace {keyspace:?}: {reason}")]
    Corrupt { keyspace: Keyspace, reason: String },
    /// A value could not be encoded.
    #[error("cannot encode record: {0}")]
    Encode(String),
    /// A precondition of a batch did not hold; nothing was written.
    #[error("precondition failed on keyspace {keyspace:?}")]
    Conflict { keyspace: Keyspace },
    /// A counter would pass its limit; nothing was written.
    #[error("counter {counter} would exceed its limit: {used} + {delta} > {limit}")]
    LimitExceeded {
        counter: String,
        used: i64,
        delta: i64,
        limit: i64,
    },
    /// A named object (mailbox, message) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A named object already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The caller passed something the store cannot accept.
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The writer thread stopped (the store is shutting down) or a transaction panicked.
    #[error("transaction aborted: {0}")]
    Aborted(String),
    /// File-system error outside the backend (opening the data directory).
    #[error("i/o error: {0}")]
    Io(String),
}

impl From<rocksdb::Error> for Error {
    fn from(e: rocksdb::Error) -> Self {
        Error::Backend(e.into_string())
    }
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

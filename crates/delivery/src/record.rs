//! The transaction log record: one per SMTP transaction, as design.md ("Logs a reseller can
//! read") lists its fields. Stored as JSON in [`marque_store::logs`] with
//! [`marque_store::logs::LogKind::Transaction`].

use serde::{Deserialize, Serialize};

/// What became of one recipient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Stored in the recipient's mailbox.
    Delivered,
    /// Accepted for later delivery (the outbound queue).
    Queued,
    /// Refused for now; the sender should retry (4xx).
    Deferred,
    /// Refused for good (5xx).
    #[default]
    Rejected,
}

/// One recipient of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientRecord {
    /// The address as given in `RCPT TO` (or the expanded address of an alias or list).
    pub address: String,
    pub outcome: Outcome,
    /// Why, when not delivered: "unknown recipient", "over quota", "relay denied"...
    pub reason: String,
}

/// One SMTP transaction, in or out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRecord {
    /// When, in ms since the epoch.
    pub when: u64,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The listener (`smtp`, `submission`, `submissions`).
    pub service: String,
    pub client_ip: String,
    pub server_ip: String,
    /// The name the client gave in EHLO or HELO.
    pub helo: String,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// The envelope sender (empty for the null sender `<>`).
    pub sender: String,
    pub recipients: Vec<RecipientRecord>,
    pub message_id: Option<String>,
    /// Size of the message as stored (trace headers included), in bytes.
    pub size: u64,
    /// Whether the session was encrypted.
    pub tls: bool,
    /// The conversation: commands (`C: ...`) and replies (`S: ...`), AUTH data redacted, no
    /// message body.
    pub conversation: Vec<String>,
}

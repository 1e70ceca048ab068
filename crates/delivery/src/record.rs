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
    /// Stored, but marked as junk (a DMARC `p=quarantine` failure).
    Junk,
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
    /// Message authentication on port 25 (RFC 8601 result names: `pass`, `fail`, `none`,
    /// `temperror`...); absent for submission and for records written before the checks ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthResults>,
    /// The conversation: commands (`C: ...`) and replies (`S: ...`), AUTH data redacted, no
    /// message body.
    pub conversation: Vec<String>,
}

/// SPF, DKIM, DMARC and ARC results of an inbound message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    /// SPF of the MAIL FROM identity (RFC 7208).
    pub spf: String,
    /// The best result over the DKIM signatures (RFC 6376).
    pub dkim: String,
    /// DMARC of the author domain (RFC 7489).
    pub dmarc: String,
    /// The ARC chain (RFC 8617).
    pub arc: String,
    /// The author (RFC 5322 From) domain DMARC was evaluated for.
    #[serde(default)]
    pub header_from: String,
    /// DMARC failed under `p=quarantine`: the delivered recipients are recorded as
    /// [`Outcome::Junk`].
    #[serde(default)]
    pub junk: bool,
}

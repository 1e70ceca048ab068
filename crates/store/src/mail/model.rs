//! Records and keys of the mail model.

use serde::{Deserialize, Serialize};

use crate::blob::BlobHash;
use crate::ids::{AccountId, MailboxId};
use crate::keyspace::Key;

/// IMAP's hierarchy delimiter.
pub const DELIMITER: char = '/';

/// System flags (RFC 9051 §2.3.2), as a bit set. `\Recent` is per session and not stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags(pub u8);

impl Flags {
    pub const SEEN: Flags = Flags(1);
    pub const ANSWERED: Flags = Flags(2);
    pub const FLAGGED: Flags = Flags(4);
    pub const DELETED: Flags = Flags(8);
    pub const DRAFT: Flags = Flags(16);

    /// No flags.
    pub const fn empty() -> Self {
        Flags(0)
    }
    /// True if every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// The union.
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
    /// `self` without `other`.
    pub fn without(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
    /// Parses an IMAP system flag name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Flags> {
        Some(match name.to_ascii_lowercase().as_str() {
            "\\seen" => Flags::SEEN,
            "\\answered" => Flags::ANSWERED,
            "\\flagged" => Flags::FLAGGED,
            "\\deleted" => Flags::DELETED,
            "\\draft" => Flags::DRAFT,
            _ => return None,
        })
    }
    /// The names of the flags set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Flags::SEEN, "\\Seen"),
            (Flags::ANSWERED, "\\Answered"),
            (Flags::FLAGGED, "\\Flagged"),
            (Flags::DELETED, "\\Deleted"),
            (Flags::DRAFT, "\\Draft"),
        ]
        .into_iter()
        .filter(|(f, _)| self.contains(*f))
        .map(|(_, n)| n)
        .collect()
    }
}

/// Special-use attributes (RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    /// The attribute as IMAP writes it.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }
    /// Parses an attribute (case-insensitive).
    pub fn from_attribute(a: &str) -> Option<SpecialUse> {
        Some(match a.to_ascii_lowercase().as_str() {
            "\\all" => SpecialUse::All,
            "\\archive" => SpecialUse::Archive,
            "\\drafts" => SpecialUse::Drafts,
            "\\flagged" => SpecialUse::Flagged,
            "\\junk" => SpecialUse::Junk,
            "\\sent" => SpecialUse::Sent,
            "\\trash" => SpecialUse::Trash,
            _ => return None,
        })
    }
}

/// The folders every new account gets.
pub const DEFAULT_FOLDERS: [(&str, Option<SpecialUse>); 6] = [
    ("INBOX", None),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Sent", Some(SpecialUse::Sent)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

/// Per-account mail state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    /// Next folder id to hand out (ids are never reused).
    pub next_mailbox: u32,
    /// The last UIDVALIDITY handed out; each new folder gets a larger one.
    pub last_uidvalidity: u32,
}

/// One folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxRecord {
    pub id: MailboxId,
    /// Full name with `/` as delimiter; `INBOX` is always spelled so.
    pub name: String,
    pub special_use: Option<SpecialUse>,
    pub uidvalidity: u32,
    /// The UID the next message will get.
    pub uidnext: u32,
    /// The largest modseq of any change in this folder (RFC 7162).
    pub highest_modseq: u64,
    /// Messages in the folder.
    pub messages: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// Sum of message sizes (STATUS SIZE).
    pub size: u64,
    /// Messages with `\Deleted`.
    pub deleted: u32,
}

/// One message in one folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub blob: BlobHash,
    /// Size in bytes (RFC822.SIZE).
    pub size: u64,
    /// INTERNALDATE, seconds since the epoch.
    pub internal_date: i64,
    pub flags: Flags,
    /// Keywords (user flags), as given.
    pub keywords: Vec<String>,
    /// The modseq of the last change to this message.
    pub modseq: u64,
}

/// A change-log entry kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Appended,
    FlagsChanged,
    Expunged,
}

/// A change-log entry as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeEntry {
    pub modseq: u64,
    pub uid: u32,
    pub kind: ChangeKind,
}

// Tags inside an account's range of the Mailboxes keyspace.
use crate::tags::mailboxes::{
    FOLDER as TAG_MAILBOX, FOLDER_NAME as TAG_NAME, STATE as TAG_STATE,
    SUBSCRIBED as TAG_SUBSCRIBED,
};

pub(crate) fn state_key(a: AccountId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_STATE).into_bytes()
}
pub(crate) fn mailbox_key(a: AccountId, m: MailboxId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_MAILBOX).u32(m.0).into_bytes()
}
pub(crate) fn mailboxes_prefix(a: AccountId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_MAILBOX).into_bytes()
}
pub(crate) fn name_key(a: AccountId, name: &str) -> Vec<u8> {
    Key::new()
        .u64(a.0)
        .tag(TAG_NAME)
        .bytes(name.as_bytes())
        .into_bytes()
}
pub(crate) fn subscribed_key(a: AccountId, name: &str) -> Vec<u8> {
    Key::new()
        .u64(a.0)
        .tag(TAG_SUBSCRIBED)
        .bytes(name.as_bytes())
        .into_bytes()
}
pub(crate) fn subscribed_prefix(a: AccountId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_SUBSCRIBED).into_bytes()
}
pub(crate) fn account_prefix(a: AccountId) -> Vec<u8> {
    Key::new().u64(a.0).into_bytes()
}
pub(crate) fn message_key(a: AccountId, m: MailboxId, uid: u32) -> Vec<u8> {
    Key::new().u64(a.0).u32(m.0).u32(uid).into_bytes()
}
pub(crate) fn messages_prefix(a: AccountId, m: MailboxId) -> Vec<u8> {
    Key::new().u64(a.0).u32(m.0).into_bytes()
}
pub(crate) fn change_key(a: AccountId, m: MailboxId, modseq: u64, uid: u32) -> Vec<u8> {
    Key::new()
        .u64(a.0)
        .u32(m.0)
        .u64(modseq)
        .u32(uid)
        .into_bytes()
}
pub(crate) fn meta_key(hash: &BlobHash) -> Vec<u8> {
    hash.0.to_vec()
}

/// Normalises a folder name: `INBOX` in any case is `INBOX`; no empty levels, no leading or
/// trailing delimiter, no control characters.
pub fn normalize_name(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 1024 || name.chars().any(char::is_control) {
        return None;
    }
    if name.starts_with(DELIMITER) || name.ends_with(DELIMITER) || name.contains("//") {
        return None;
    }
    let mut parts = name.split(DELIMITER);
    let first = parts.next()?;
    let first = if first.eq_ignore_ascii_case("INBOX") {
        "INBOX"
    } else {
        first
    };
    let mut out = first.to_string();
    for p in parts {
        out.push(DELIMITER);
        out.push_str(p);
    }
    Some(out)
}

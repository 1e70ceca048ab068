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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The zone INTERNALDATE was given in at APPEND, in minutes east of UTC (RFC 3501 §6.3.11
    /// `date-time`); 0 when the server chose the date. Shown back in INTERNALDATE, and the
    /// day SEARCH BEFORE, ON and SINCE compare is the one in this zone.
    pub zone: i16,
    /// When the message was saved in this folder (APPEND, delivery, COPY, MOVE), seconds since
    /// the epoch: SAVEDATE (RFC 8514). `None` for records written before it was kept.
    pub saved: Option<i64>,
}

impl MessageRecord {
    /// INTERNALDATE as seconds since the epoch in its own zone: the wall-clock time it was
    /// given as.
    pub fn local_internal_date(&self) -> i64 {
        self.internal_date.saturating_add(i64::from(self.zone) * 60)
    }
}

// Records are written with every field; records written before `zone` existed end after
// `modseq`, and those written before `saved` after `zone`. Postcard does not describe its
// records, so the derived decoder would fail on them: this one reads the fields in order and
// takes a record that ends after `modseq` as zone +0000, and one that ends before `saved` as
// saved at an unknown time.
impl<'de> Deserialize<'de> for MessageRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        const FIELDS: &[&str] = &[
            "blob",
            "size",
            "internal_date",
            "flags",
            "keywords",
            "modseq",
            "zone",
            "saved",
        ];
        d.deserialize_struct("MessageRecord", FIELDS, RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> serde::de::Visitor<'de> for RecordVisitor {
    type Value = MessageRecord;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a message record")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<MessageRecord, A::Error> {
        use serde::de::Error;
        let missing = |i| A::Error::invalid_length(i, &"a message record");
        let blob = seq.next_element()?.ok_or_else(|| missing(0))?;
        let size = seq.next_element()?.ok_or_else(|| missing(1))?;
        let internal_date = seq.next_element()?.ok_or_else(|| missing(2))?;
        let flags = seq.next_element()?.ok_or_else(|| missing(3))?;
        let keywords = seq.next_element()?.ok_or_else(|| missing(4))?;
        let modseq = seq.next_element()?.ok_or_else(|| missing(5))?;
        // The end of an older record reads as an error here: it means no zone.
        let zone = seq.next_element::<i16>().ok().flatten().unwrap_or(0);
        let saved = seq.next_element::<Option<i64>>().ok().flatten().flatten();
        Ok(MessageRecord {
            blob,
            size,
            internal_date,
            flags,
            keywords,
            modseq,
            zone,
            saved,
        })
    }
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
    FOLDER as TAG_MAILBOX, FOLDER_KEYWORDS as TAG_KEYWORDS, FOLDER_NAME as TAG_NAME,
    RECENT_CLAIMED as TAG_RECENT, STATE as TAG_STATE, SUBSCRIBED as TAG_SUBSCRIBED,
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
pub(crate) fn keywords_key(a: AccountId, m: MailboxId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_KEYWORDS).u32(m.0).into_bytes()
}
pub(crate) fn recent_key(a: AccountId, m: MailboxId) -> Vec<u8> {
    Key::new().u64(a.0).tag(TAG_RECENT).u32(m.0).into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The record as it was written before INTERNALDATE's zone was kept.
    #[derive(Serialize)]
    struct RecordWithoutZone {
        blob: BlobHash,
        size: u64,
        internal_date: i64,
        flags: Flags,
        keywords: Vec<String>,
        modseq: u64,
    }

    /// The record as it was written before the save date was kept.
    #[derive(Serialize)]
    struct RecordWithoutSaveDate {
        blob: BlobHash,
        size: u64,
        internal_date: i64,
        flags: Flags,
        keywords: Vec<String>,
        modseq: u64,
        zone: i16,
    }

    #[test]
    fn records_keep_their_zone_and_older_ones_still_read() {
        let r = MessageRecord {
            blob: BlobHash([7; 32]),
            size: 12,
            internal_date: 837_596_665,
            flags: Flags::SEEN,
            keywords: vec!["$Work".into()],
            modseq: 9,
            zone: -420,
            saved: Some(837_600_000),
        };
        let bytes = crate::encode(&r).unwrap();
        let back: MessageRecord = crate::decode(crate::Keyspace::Messages, &bytes).unwrap();
        assert_eq!(back, r);
        // 17-Jul-1996 02:44:25 -0700 is 09:44:25 UTC; its own day is the 17th either way,
        // its local time 02:44:25.
        assert_eq!(back.local_internal_date() % 86_400, 2 * 3600 + 44 * 60 + 25);
        let old = RecordWithoutZone {
            blob: r.blob,
            size: r.size,
            internal_date: r.internal_date,
            flags: r.flags,
            keywords: r.keywords.clone(),
            modseq: r.modseq,
        };
        let old: MessageRecord =
            crate::decode(crate::Keyspace::Messages, &crate::encode(&old).unwrap()).unwrap();
        assert_eq!(
            old,
            MessageRecord {
                zone: 0,
                saved: None,
                ..r.clone()
            }
        );
        // A record written before `saved` existed: its zone, no save date.
        let with_zone = RecordWithoutSaveDate {
            blob: r.blob,
            size: r.size,
            internal_date: r.internal_date,
            flags: r.flags,
            keywords: r.keywords.clone(),
            modseq: r.modseq,
            zone: r.zone,
        };
        let back: MessageRecord = crate::decode(
            crate::Keyspace::Messages,
            &crate::encode(&with_zone).unwrap(),
        )
        .unwrap();
        assert_eq!(
            back,
            MessageRecord {
                saved: None,
                ..r.clone()
            }
        );
        // A record cut short before `modseq` is still an error.
        assert!(crate::decode::<MessageRecord>(crate::Keyspace::Messages, &bytes[..20]).is_err());
    }
}

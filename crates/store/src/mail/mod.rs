//! The mail model IMAP and POP3 read and delivery writes.
//!
//! Per account: folders with hierarchy, special-use, subscriptions, UIDVALIDITY, UIDNEXT and
//! HIGHESTMODSEQ; per message: UID, body reference, size, internal date, flags and keywords,
//! modseq; per folder a change log (appends, flag changes, expunges, by modseq) for CONDSTORE
//! and QRESYNC. Metadata is parsed once per body ([`meta`]) and shared by every copy.
//!
//! Writes are functions over a [`crate::Txn`], so a delivery can put the body, the entries of
//! every recipient, the usage counters and its log record in one durable batch.

pub mod folder_state;
pub mod folders;
pub mod messages;
pub mod meta;
pub(crate) mod meta_cache;
pub mod model;

use crate::blob::BlobHash;
use crate::error::Result;
use crate::ids::{AccountId, MailboxId};
use crate::keyspace::{KeyReader, Keyspace, decode};
use crate::reader::Reader;
use crate::{Direction, Range, Store};

pub use folder_state::{
    MAX_FOLDER_KEYWORDS, claim_recent, init_keywords, keywords, recent_claimed, recent_count,
};
pub use folders::{
    create_mailbox, delete_mailbox, init_account, list, mailbox, mailbox_by_name, rename_mailbox,
    subscribe, unsubscribe,
};
pub use messages::{
    AppendOptions, Appended, FlagChange, FlagOp, FlagOutcome, PreparedMessage, append, charge,
    copy, exceeded, expunge, move_messages, purge_account, remove_messages, store_flags, uids,
};
pub use meta::{BodyPart, Envelope, EnvelopeAddress, MessageMeta};
pub use model::{
    ChangeEntry, ChangeKind, DELIMITER, Flags, MailboxRecord, MessageRecord, SpecialUse,
    normalize_name,
};

/// An owner whose usage a write must charge: the bytes stored (against `limit`) and the
/// number of messages, both in the same transaction as the messages themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Whose counters ([`crate::counters::Metric::StorageUsed`] and `Messages`).
    pub owner: crate::counters::Owner,
    /// The most bytes the owner may hold after the charge; `None`: count without a limit.
    pub limit: Option<i64>,
    /// What the limit is, for error messages ("mailbox quota of a@b.c").
    pub name: String,
}

/// Messages of a folder from `from_uid` upwards, at most `limit`, in UID order.
pub fn messages(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
    from_uid: u32,
    limit: usize,
) -> Result<Vec<(u32, model::MessageRecord)>> {
    messages_in(r, account, folder, from_uid..=u32::MAX, limit)
}

/// Messages of a folder whose UIDs are in `uids`, at most `limit`, in UID order. The scan
/// stops at the range's end, so what lies past it (expunged messages not yet compacted away,
/// newer messages) costs nothing.
pub fn messages_in(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
    uids: std::ops::RangeInclusive<u32>,
    limit: usize,
) -> Result<Vec<(u32, model::MessageRecord)>> {
    let end = match uids.end().checked_add(1) {
        Some(after) => Some(model::message_key(account, folder, after)),
        None => crate::keyspace::prefix_end(&model::messages_prefix(account, folder)),
    };
    let range = Range {
        start: model::message_key(account, folder, *uids.start()),
        end,
    };
    r.scan(Keyspace::Messages, &range, Direction::Forward, limit)?
        .into_iter()
        .map(|(k, v)| {
            let mut kr = KeyReader::new(Keyspace::Messages, &k);
            kr.skip(12)?;
            Ok((kr.u32()?, decode(Keyspace::Messages, &v)?))
        })
        .collect()
}

/// One message.
pub fn message(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
    uid: u32,
) -> Result<Option<model::MessageRecord>> {
    r.get_value(
        Keyspace::Messages,
        &model::message_key(account, folder, uid),
    )
}

/// The parsed metadata of a body (records of the older layout, without the header section,
/// are read too).
pub fn message_meta(r: &impl Reader, hash: &BlobHash) -> Result<Option<MessageMeta>> {
    r.get(Keyspace::MessageMeta, &model::meta_key(hash))?
        .map(|v| {
            MessageMeta::decode(&v).map_err(|e| crate::error::Error::Corrupt {
                keyspace: Keyspace::MessageMeta,
                reason: e.to_string(),
            })
        })
        .transpose()
}

/// The parsed metadata of a body through the store's in-memory cache
/// ([`crate::StoreOptions::meta_cache_bytes`]), shared by every reader: for answers about
/// messages that exist (a record names `hash`). Unlike [`message_meta`] it can still answer for
/// a body whose last copy was just removed. A record of an earlier layout that describes the
/// message wrongly ([`MessageMeta::outdated`]) is replaced by the body parsed again.
pub fn shared_meta(store: &Store, hash: &BlobHash) -> Result<Option<std::sync::Arc<MessageMeta>>> {
    store
        .meta_cache()
        .get_or_load(hash, || match message_meta(store, hash)? {
            // A record of an earlier layout that describes the message wrongly: parsed again
            // from the body, and kept so in memory.
            Some(m) if m.outdated => Ok(Some(
                crate::blob::read(store, hash)?.map_or(m, |body| MessageMeta::parse(&body)),
            )),
            other => Ok(other),
        })
}

/// The raw message (blocking: reads and decompresses the body).
pub fn message_body(store: &Store, hash: &BlobHash) -> Result<Option<Vec<u8>>> {
    crate::blob::read(store, hash)
}

/// Changes of a folder with a modseq above `since`, oldest first, at most `limit`.
pub fn changes_since(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
    since: u64,
    limit: usize,
) -> Result<Vec<ChangeEntry>> {
    let range = Range {
        start: model::change_key(account, folder, since.saturating_add(1), 0),
        end: crate::keyspace::prefix_end(&model::messages_prefix(account, folder)),
    };
    r.scan(Keyspace::Changes, &range, Direction::Forward, limit)?
        .into_iter()
        .map(|(k, v)| {
            let mut kr = KeyReader::new(Keyspace::Changes, &k);
            kr.skip(12)?;
            Ok(ChangeEntry {
                modseq: kr.u64()?,
                uid: kr.u32()?,
                kind: decode(Keyspace::Changes, &v)?,
            })
        })
        .collect()
}

/// Subscribed folder names, sorted.
pub fn subscriptions(r: &impl Reader, account: AccountId) -> Result<Vec<String>> {
    let prefix = model::subscribed_prefix(account);
    r.scan(
        Keyspace::Mailboxes,
        &Range::prefix(&prefix),
        Direction::Forward,
        usize::MAX,
    )?
    .into_iter()
    .map(|(k, _)| {
        String::from_utf8(k[prefix.len()..].to_vec()).map_err(|e| crate::Error::Corrupt {
            keyspace: Keyspace::Mailboxes,
            reason: e.to_string(),
        })
    })
    .collect()
}

/// True if the account's mail state exists.
pub fn account_exists(r: &impl Reader, account: AccountId) -> Result<bool> {
    r.exists(Keyspace::Mailboxes, &model::state_key(account))
}

#[doc(hidden)]
pub fn account_range(account: AccountId) -> Range {
    Range::prefix(&model::account_prefix(account))
}

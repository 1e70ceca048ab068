//! Message operations inside the caller's transaction: append (with quota charges), flag
//! changes (with UNCHANGEDSINCE), expunge, copy and move. Every change bumps the folder's
//! HIGHESTMODSEQ, writes the change log and publishes an event after commit.

use crate::blob::{self, BlobHash, PreparedBlob};
use crate::counters::{self, Metric};
use crate::error::{Error, Result};
use crate::ids::{AccountId, MailboxId};
use crate::keyspace::{KeyReader, Keyspace, encode};
use crate::notify::{Event, EventKind};
use crate::reader::Reader;
use crate::txn::Txn;
use crate::{Direction, Range, Store};

use super::Charge;
use super::folders::{mailbox, now_secs, save_mailbox};
use super::meta::MessageMeta;
use super::model::*;

/// Most keywords one message may carry.
pub const MAX_KEYWORDS: usize = 64;
/// Longest keyword accepted.
pub const MAX_KEYWORD_LEN: usize = 128;

/// A message ready to be written: body hashed and compressed, metadata parsed. Build it before
/// the transaction (it is CPU work); write it to any number of folders.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    pub blob: PreparedBlob,
    pub meta: MessageMeta,
    meta_bytes: Vec<u8>,
}

impl PreparedMessage {
    /// Prepares `raw` with the store's compression settings. Line ends are stored as CRLF
    /// (RFC 5322 §2.1), so the stored size is the size every client is sent (RFC822.SIZE, POP3
    /// LIST) and no reader has to convert.
    pub fn new(store: &Store, raw: &[u8]) -> Result<Self> {
        let raw = crlf(raw);
        let blob = PreparedBlob::new(store, &raw)?;
        let meta = MessageMeta::parse(&raw);
        let meta_bytes = encode(&meta)?;
        Ok(PreparedMessage {
            blob,
            meta,
            meta_bytes,
        })
    }
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.blob.size
    }
}

/// `raw` with every bare LF and bare CR turned into CRLF, and a CRLF after a last line that
/// had no line end; borrowed when nothing changes.
pub fn crlf(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let clean = raw.iter().enumerate().all(|(i, &b)| match b {
        b'\n' => i > 0 && raw[i - 1] == b'\r',
        b'\r' => raw.get(i + 1) == Some(&b'\n'),
        _ => true,
    });
    if clean && (raw.is_empty() || raw.ends_with(b"\r\n")) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 2;
            }
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    std::borrow::Cow::Owned(out)
}

/// Flags, keywords and date of a new message.
#[derive(Debug, Clone, Default)]
pub struct AppendOptions {
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// INTERNALDATE in seconds since the epoch; now if `None`.
    pub internal_date: Option<i64>,
    /// The zone `internal_date` was given in, minutes east of UTC (IMAP APPEND's
    /// `date-time`); kept with the message and shown back in INTERNALDATE.
    pub internal_zone: i16,
}

/// Where a new message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub mailbox: MailboxId,
    pub uidvalidity: u32,
    pub uid: u32,
    pub modseq: u64,
}

fn check_keywords(keywords: &[String]) -> Result<()> {
    if keywords.len() > MAX_KEYWORDS {
        return Err(Error::Invalid(format!("more than {MAX_KEYWORDS} keywords")));
    }
    for k in keywords {
        let bad = k.is_empty()
            || k.len() > MAX_KEYWORD_LEN
            || k.starts_with('\\')
            || k.chars()
                .any(|c| c.is_control() || c.is_whitespace() || "(){%*\"]".contains(c));
        if bad {
            return Err(Error::Invalid(format!("bad keyword {k:?}")));
        }
    }
    Ok(())
}

/// The first charge whose byte limit `bytes` more would pass, with what it holds now; `None`
/// if they all fit. The one quota check: [`charge`] runs it before moving any counter, and
/// SMTP runs it at RCPT time to refuse a recipient that is already full.
pub fn exceeded(r: &impl Reader, charges: &[Charge], bytes: i64) -> Result<Option<(Charge, i64)>> {
    for c in charges {
        if let Some(limit) = c.limit {
            let used = r.counter(&counters::key(c.owner, Metric::StorageUsed))?;
            if used.saturating_add(bytes) > limit {
                return Ok(Some((c.clone(), used)));
            }
        }
    }
    Ok(None)
}

/// Charges `delta` bytes and `messages` messages to every owner: all byte limits are checked
/// before any counter moves.
pub fn charge(txn: &mut Txn<'_>, charges: &[Charge], delta: i64, messages: i64) -> Result<()> {
    if delta > 0
        && let Some((c, used)) = exceeded(txn, charges, delta)?
    {
        return Err(Error::LimitExceeded {
            counter: c.name,
            used,
            delta,
            limit: c.limit.unwrap_or(i64::MAX),
        });
    }
    for c in charges {
        txn.add(&counters::key(c.owner, Metric::StorageUsed), delta)?;
        txn.add(&counters::key(c.owner, Metric::Messages), messages)?;
    }
    Ok(())
}

fn next_modseq(m: &mut MailboxRecord) -> u64 {
    m.highest_modseq += 1;
    m.highest_modseq
}

fn count_in(m: &mut MailboxRecord, r: &MessageRecord, sign: i64) {
    let adj = |v: u32| {
        if sign > 0 {
            v.saturating_add(1)
        } else {
            v.saturating_sub(1)
        }
    };
    m.messages = adj(m.messages);
    if !r.flags.contains(Flags::SEEN) {
        m.unseen = adj(m.unseen);
    }
    if r.flags.contains(Flags::DELETED) {
        m.deleted = adj(m.deleted);
    }
    m.size = if sign > 0 {
        m.size.saturating_add(r.size)
    } else {
        m.size.saturating_sub(r.size)
    };
}

/// Appends `msg` to a folder, charging its size to `charges` (nothing is written if any limit
/// would be passed).
pub fn append(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    msg: &PreparedMessage,
    opts: &AppendOptions,
    charges: &[Charge],
) -> Result<Appended> {
    check_keywords(&opts.keywords)?;
    let mut m = mailbox(txn, account, folder)?;
    charge(txn, charges, msg.size() as i64, 1)?;
    blob::acquire(txn, &msg.blob)?;
    let mk = meta_key(&msg.blob.hash);
    if !txn.exists(Keyspace::MessageMeta, &mk)? {
        txn.put(Keyspace::MessageMeta, mk, msg.meta_bytes.clone());
    }
    let record = MessageRecord {
        blob: msg.blob.hash,
        size: msg.size(),
        internal_date: opts.internal_date.unwrap_or_else(now_secs),
        flags: opts.flags,
        keywords: opts.keywords.clone(),
        modseq: 0,
        zone: if opts.internal_date.is_some() {
            opts.internal_zone
        } else {
            0
        },
        saved: None,
    };
    insert(txn, account, &mut m, record)
}

fn insert(
    txn: &mut Txn<'_>,
    account: AccountId,
    m: &mut MailboxRecord,
    mut record: MessageRecord,
) -> Result<Appended> {
    let uid = m.uidnext;
    m.uidnext = uid
        .checked_add(1)
        .ok_or_else(|| Error::Invalid(format!("folder {} has used every UID", m.name)))?;
    let modseq = next_modseq(m);
    record.modseq = modseq;
    // RFC 8514: the save date is when the message entered this folder, copies included.
    record.saved = Some(now_secs());
    count_in(m, &record, 1);
    super::folder_state::note_keywords(txn, account, m.id, &record.keywords)?;
    txn.put_value(Keyspace::Messages, message_key(account, m.id, uid), &record)?;
    txn.put(
        Keyspace::Changes,
        change_key(account, m.id, modseq, uid),
        encode(&ChangeKind::Appended)?,
    );
    save_mailbox(txn, account, m)?;
    txn.emit(Event {
        account,
        mailbox: m.id,
        kind: EventKind::Appended,
        modseq,
    });
    Ok(Appended {
        mailbox: m.id,
        uidvalidity: m.uidvalidity,
        uid,
        modseq,
    })
}

/// How a flag change combines with the current flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

/// A flag change (IMAP STORE).
#[derive(Debug, Clone)]
pub struct FlagChange {
    pub op: FlagOp,
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// RFC 7162 §3.1.3: leave messages whose modseq is above this value unchanged.
    pub unchanged_since: Option<u64>,
}

/// What a flag change did.
#[derive(Debug, Clone, Default)]
pub struct FlagOutcome {
    /// Messages whose flags changed, with their new record.
    pub changed: Vec<(u32, MessageRecord)>,
    /// Messages skipped because they changed after `unchanged_since` (the MODIFIED set).
    pub modified: Vec<u32>,
    /// The modseq given to the changed messages.
    pub modseq: u64,
}

/// Applies a flag change to `uids` (UIDs that no longer exist are ignored).
pub fn store_flags(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    uids: &[u32],
    change: &FlagChange,
) -> Result<FlagOutcome> {
    check_keywords(&change.keywords)?;
    let mut m = mailbox(txn, account, folder)?;
    let modseq = m.highest_modseq + 1;
    let mut out = FlagOutcome {
        modseq,
        ..FlagOutcome::default()
    };
    for &uid in uids {
        let key = message_key(account, folder, uid);
        let Some(mut r) = txn.get_value::<MessageRecord>(Keyspace::Messages, &key)? else {
            continue;
        };
        if change.unchanged_since.is_some_and(|since| r.modseq > since) {
            out.modified.push(uid);
            continue;
        }
        let old = r.clone();
        match change.op {
            FlagOp::Add => {
                r.flags = r.flags.union(change.flags);
                for k in &change.keywords {
                    if !r.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                        r.keywords.push(k.clone());
                    }
                }
            }
            FlagOp::Remove => {
                r.flags = r.flags.without(change.flags);
                r.keywords
                    .retain(|x| !change.keywords.iter().any(|k| k.eq_ignore_ascii_case(x)));
            }
            FlagOp::Replace => {
                r.flags = change.flags;
                r.keywords = change.keywords.clone();
            }
        }
        if r.flags == old.flags && r.keywords == old.keywords {
            continue;
        }
        if r.keywords.len() > MAX_KEYWORDS {
            return Err(Error::Invalid(format!("more than {MAX_KEYWORDS} keywords")));
        }
        count_in(&mut m, &old, -1);
        r.modseq = modseq;
        count_in(&mut m, &r, 1);
        txn.put_value(Keyspace::Messages, key, &r)?;
        txn.put(
            Keyspace::Changes,
            change_key(account, folder, modseq, uid),
            encode(&ChangeKind::FlagsChanged)?,
        );
        out.changed.push((uid, r));
    }
    if !out.changed.is_empty() {
        if change.op != FlagOp::Remove {
            // RFC 3501 §7.2.6: the folder's FLAGS grow with the keywords given.
            super::folder_state::note_keywords(txn, account, folder, &change.keywords)?;
        }
        m.highest_modseq = modseq;
        save_mailbox(txn, account, &m)?;
        txn.emit(Event {
            account,
            mailbox: folder,
            kind: EventKind::FlagsChanged,
            modseq,
        });
    }
    Ok(out)
}

/// Every UID in a folder, ascending.
pub fn uids(r: &impl Reader, account: AccountId, folder: MailboxId) -> Result<Vec<u32>> {
    let range = Range::prefix(&messages_prefix(account, folder));
    r.scan(Keyspace::Messages, &range, Direction::Forward, usize::MAX)?
        .into_iter()
        .map(|(k, _)| {
            let mut kr = KeyReader::new(Keyspace::Messages, &k);
            kr.skip(12)?;
            kr.u32()
        })
        .collect()
}

/// Removes messages, releasing their bodies and their usage. Returns the UIDs removed and the
/// modseq of the removal.
pub fn remove_messages(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    uids: &[u32],
    charges: &[Charge],
) -> Result<(Vec<u32>, u64)> {
    let mut m = mailbox(txn, account, folder)?;
    let modseq = m.highest_modseq + 1;
    let mut removed = Vec::new();
    let mut freed = 0i64;
    for &uid in uids {
        let key = message_key(account, folder, uid);
        let Some(r) = txn.get_value::<MessageRecord>(Keyspace::Messages, &key)? else {
            continue;
        };
        txn.delete(Keyspace::Messages, key);
        release_body(txn, &r.blob)?;
        count_in(&mut m, &r, -1);
        freed += r.size as i64;
        txn.put(
            Keyspace::Changes,
            change_key(account, folder, modseq, uid),
            encode(&ChangeKind::Expunged)?,
        );
        removed.push(uid);
    }
    if !removed.is_empty() {
        charge(txn, charges, -freed, -(removed.len() as i64))?;
        m.highest_modseq = modseq;
        save_mailbox(txn, account, &m)?;
        txn.emit(Event {
            account,
            mailbox: folder,
            kind: EventKind::Expunged,
            modseq,
        });
    }
    Ok((removed, modseq))
}

fn release_body(txn: &mut Txn<'_>, hash: &BlobHash) -> Result<()> {
    blob::release(txn, hash)?;
    if blob::references_in(txn, hash)? == 0 {
        txn.delete(Keyspace::MessageMeta, meta_key(hash));
    }
    Ok(())
}

/// Expunges the messages flagged `\Deleted` (only those among `only`, if given: UID EXPUNGE).
pub fn expunge(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    only: Option<&[u32]>,
    charges: &[Charge],
) -> Result<(Vec<u32>, u64)> {
    let candidates = match only {
        Some(u) => u.to_vec(),
        None => uids(txn, account, folder)?,
    };
    let mut doomed = Vec::new();
    for uid in candidates {
        let key = message_key(account, folder, uid);
        if let Some(r) = txn.get_value::<MessageRecord>(Keyspace::Messages, &key)?
            && r.flags.contains(Flags::DELETED)
        {
            doomed.push(uid);
        }
    }
    remove_messages(txn, account, folder, &doomed, charges)
}

/// Copies messages to another folder of the same account; the bodies are shared, the usage is
/// charged again. Returns (source UID, new UID) pairs.
pub fn copy(
    txn: &mut Txn<'_>,
    account: AccountId,
    from: MailboxId,
    uids: &[u32],
    to: MailboxId,
    charges: &[Charge],
) -> Result<Vec<(u32, u32)>> {
    let records = load(txn, account, from, uids)?;
    let total: i64 = records.iter().map(|(_, r)| r.size as i64).sum();
    charge(txn, charges, total, records.len() as i64)?;
    let mut dest = mailbox(txn, account, to)?;
    let mut pairs = Vec::with_capacity(records.len());
    for (uid, r) in records {
        blob::acquire_existing(txn, &r.blob)?;
        let a = insert(txn, account, &mut dest, r)?;
        pairs.push((uid, a.uid));
    }
    Ok(pairs)
}

/// Moves messages to another folder of the same account (RFC 6851): atomically gone from the
/// source, present in the destination. Usage does not change.
pub fn move_messages(
    txn: &mut Txn<'_>,
    account: AccountId,
    from: MailboxId,
    uids: &[u32],
    to: MailboxId,
) -> Result<Vec<(u32, u32)>> {
    if from == to {
        return Err(Error::Invalid(
            "source and destination are the same folder".into(),
        ));
    }
    let records = load(txn, account, from, uids)?;
    let mut src = mailbox(txn, account, from)?;
    let modseq = next_modseq(&mut src);
    for (uid, r) in &records {
        txn.delete(Keyspace::Messages, message_key(account, from, *uid));
        txn.put(
            Keyspace::Changes,
            change_key(account, from, modseq, *uid),
            encode(&ChangeKind::Expunged)?,
        );
        count_in(&mut src, r, -1);
    }
    save_mailbox(txn, account, &src)?;
    txn.emit(Event {
        account,
        mailbox: from,
        kind: EventKind::Expunged,
        modseq,
    });
    let mut dest = mailbox(txn, account, to)?;
    let mut pairs = Vec::with_capacity(records.len());
    for (uid, r) in records {
        let a = insert(txn, account, &mut dest, r)?;
        pairs.push((uid, a.uid));
    }
    Ok(pairs)
}

fn load(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
    uids: &[u32],
) -> Result<Vec<(u32, MessageRecord)>> {
    let mut out = Vec::with_capacity(uids.len());
    for &uid in uids {
        if let Some(rec) =
            r.get_value::<MessageRecord>(Keyspace::Messages, &message_key(account, folder, uid))?
        {
            out.push((uid, rec));
        }
    }
    Ok(out)
}

/// Deletes every message, change-log entry and folder of an account, releasing the bodies, in
/// slices of a few hundred keys per transaction so that a large account never makes one huge
/// batch. Usage counters are the caller's (the core moves them when it deletes the mailbox).
/// Returns how many messages went. Safe to run again after a crash half-way.
pub async fn purge_account(store: &Store, account: AccountId) -> Result<u64> {
    const SLICE: usize = 500;
    let mut messages = 0u64;
    for ks in [Keyspace::Messages, Keyspace::Changes, Keyspace::Mailboxes] {
        loop {
            let removed = store
                .transact(move |txn| -> Result<usize> {
                    let range = Range::prefix(&account_prefix(account));
                    let batch = txn.scan(ks, &range, Direction::Forward, SLICE)?;
                    for (k, v) in &batch {
                        if ks == Keyspace::Messages {
                            let r: MessageRecord = crate::keyspace::decode(ks, v)?;
                            release_body(txn, &r.blob)?;
                        }
                        txn.delete(ks, k.clone());
                    }
                    Ok(batch.len())
                })
                .await?;
            if ks == Keyspace::Messages {
                messages += removed as u64;
            }
            if removed < SLICE {
                break;
            }
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::crlf;

    #[test]
    fn line_ends_become_crlf() {
        assert!(matches!(crlf(b"a\r\nb\r\n"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(&*crlf(b"a\nb\n"), b"a\r\nb\r\n");
        assert_eq!(&*crlf(b"a\rb\r\nc\n\n"), b"a\r\nb\r\nc\r\n\r\n");
        assert_eq!(&*crlf(b"\n"), b"\r\n");
        assert_eq!(&*crlf(b""), b"");
        assert_eq!(
            &*crlf(b"Subject: x\r\n\r\nno end"),
            b"Subject: x\r\n\r\nno end\r\n"
        );
    }
}

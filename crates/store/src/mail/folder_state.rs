//! Per-folder state that every IMAP session of an account shares, kept in the store so that
//! sessions in different processes agree:
//!
//! - the keywords in use in the folder, which SELECT announces in `FLAGS` and a session
//!   announces again when one it has not seen appears (RFC 3501 §7.2.6); the list only grows
//!   (a keyword once used stays applicable), up to [`MAX_FOLDER_KEYWORDS`];
//! - the highest UID claimed as recent: a message is recent in exactly one session, the
//!   first to select the folder after the message arrived (RFC 3501 §2.3.2). A session that
//!   selects read-write claims every UID up to the last it sees; a message above the claimed
//!   UID is recent for whoever claims it next.

use crate::error::Result;
use crate::ids::{AccountId, MailboxId};
use crate::keyspace::Keyspace;
use crate::reader::Reader;
use crate::txn::Txn;
use crate::{Direction, Range};

use super::model::{MessageRecord, keywords_key, message_key, messages_prefix, recent_key};

/// Distinct keywords remembered per folder; past that, keywords still work on messages but
/// are not added to the folder's list.
pub const MAX_FOLDER_KEYWORDS: usize = 1024;

/// The keywords in use in a folder, in the order they first appeared; `None` if the folder's
/// list was never written (a folder from before the list existed: see [`init_keywords`]).
pub fn keywords(
    r: &impl Reader,
    account: AccountId,
    folder: MailboxId,
) -> Result<Option<Vec<String>>> {
    r.get_value(Keyspace::Mailboxes, &keywords_key(account, folder))
}

/// Writes a folder's keyword list from its messages if it was never written, and returns it.
pub fn init_keywords(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
) -> Result<Vec<String>> {
    if let Some(k) = keywords(txn, account, folder)? {
        return Ok(k);
    }
    let mut known: Vec<String> = Vec::new();
    let range = Range::prefix(&messages_prefix(account, folder));
    for (_, v) in txn.scan(Keyspace::Messages, &range, Direction::Forward, usize::MAX)? {
        let r: MessageRecord = crate::decode(Keyspace::Messages, &v)?;
        add(&mut known, &r.keywords);
    }
    txn.put_value(Keyspace::Mailboxes, keywords_key(account, folder), &known)?;
    Ok(known)
}

fn add(known: &mut Vec<String>, new: &[String]) -> bool {
    let mut changed = false;
    for k in new {
        if known.len() >= MAX_FOLDER_KEYWORDS {
            break;
        }
        if !known.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            known.push(k.clone());
            changed = true;
        }
    }
    changed
}

/// Adds `new` to the folder's keyword list (in the transaction that gives them to a message).
pub(crate) fn note_keywords(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    new: &[String],
) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let mut known = init_keywords(txn, account, folder)?;
    if add(&mut known, new) {
        txn.put_value(Keyspace::Mailboxes, keywords_key(account, folder), &known)?;
    }
    Ok(())
}

/// The highest UID claimed as recent in a folder (0: none yet).
pub fn recent_claimed(r: &impl Reader, account: AccountId, folder: MailboxId) -> Result<u32> {
    Ok(
        r.get_value(Keyspace::Mailboxes, &recent_key(account, folder))?
            .unwrap_or(0),
    )
}

/// Claims the UIDs up to `upto` as recent for the caller's session and returns the highest
/// UID claimed before: the caller's recent messages are those above it, up to `upto`.
pub fn claim_recent(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: MailboxId,
    upto: u32,
) -> Result<u32> {
    let before = recent_claimed(txn, account, folder)?;
    if upto > before {
        txn.put_value(Keyspace::Mailboxes, recent_key(account, folder), &upto)?;
    }
    Ok(before)
}

/// Messages of a folder above the claimed UID: those with `\Recent` for the next session to
/// select it (STATUS RECENT).
pub fn recent_count(r: &impl Reader, account: AccountId, folder: MailboxId) -> Result<u32> {
    let claimed = recent_claimed(r, account, folder)?;
    let Some(from) = claimed.checked_add(1) else {
        return Ok(0);
    };
    let range = Range {
        start: message_key(account, folder, from),
        end: crate::keyspace::prefix_end(&messages_prefix(account, folder)),
    };
    let n = r
        .scan(Keyspace::Messages, &range, Direction::Forward, usize::MAX)?
        .len();
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Forgets a folder's shared state (when the folder is deleted).
pub(crate) fn forget(txn: &mut Txn<'_>, account: AccountId, folder: MailboxId) {
    txn.delete(Keyspace::Mailboxes, keywords_key(account, folder));
    txn.delete(Keyspace::Mailboxes, recent_key(account, folder));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{self, AppendOptions, FlagChange, FlagOp, Flags, PreparedMessage};
    use crate::{Store, StoreOptions};

    const A: AccountId = AccountId(7);

    async fn append(store: &Store, folder: MailboxId, keywords: &[&str]) -> u32 {
        let msg = PreparedMessage::new(store, b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let opts = AppendOptions {
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            ..AppendOptions::default()
        };
        store
            .transact(move |t| mail::append(t, A, folder, &msg, &opts, &[]))
            .await
            .unwrap()
            .uid
    }

    #[tokio::test]
    async fn keywords_in_use_and_recent_claims_are_shared_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        store.transact(|t| mail::init_account(t, A)).await.unwrap();
        let inbox = mail::mailbox_by_name(&store, A, "INBOX")
            .unwrap()
            .unwrap()
            .id;
        // A folder nothing was written to has no list; writing one from its messages gives
        // what they hold.
        assert_eq!(keywords(&store, A, inbox).unwrap(), None);
        let first = append(&store, inbox, &["$Forwarded"]).await;
        append(&store, inbox, &["$forwarded", "$Junk"]).await;
        assert_eq!(
            keywords(&store, A, inbox).unwrap().unwrap(),
            vec!["$Forwarded", "$Junk"]
        );
        // STORE adds, and removing a keyword from every message keeps it in the list.
        for (op, kw) in [(FlagOp::Add, "Work"), (FlagOp::Remove, "$Junk")] {
            let change = FlagChange {
                op,
                flags: Flags::empty(),
                keywords: vec![kw.to_string()],
                unchanged_since: None,
            };
            store
                .transact(move |t| mail::store_flags(t, A, inbox, &[1, 2], &change))
                .await
                .unwrap();
        }
        assert_eq!(
            keywords(&store, A, inbox).unwrap().unwrap(),
            vec!["$Forwarded", "$Junk", "Work"]
        );
        // A list lost (or never written) is rebuilt from the messages once.
        store
            .transact(move |t| {
                t.delete(Keyspace::Mailboxes, keywords_key(A, inbox));
                Ok::<_, crate::Error>(())
            })
            .await
            .unwrap();
        let rebuilt = store
            .transact(move |t| init_keywords(t, A, inbox))
            .await
            .unwrap();
        assert_eq!(rebuilt, vec!["$Forwarded", "Work"]);

        // Claims: the first claim gets everything, a second nothing, new mail goes to the
        // next claim; STATUS counts what is unclaimed.
        assert_eq!(recent_count(&store, A, inbox).unwrap(), 2);
        let before = store
            .transact(move |t| claim_recent(t, A, inbox, 2))
            .await
            .unwrap();
        assert_eq!(before, 0);
        assert_eq!(recent_count(&store, A, inbox).unwrap(), 0);
        let third = append(&store, inbox, &[]).await;
        assert_eq!(recent_count(&store, A, inbox).unwrap(), 1);
        let again = store
            .transact(move |t| claim_recent(t, A, inbox, first))
            .await
            .unwrap();
        assert_eq!(again, 2, "a lower claim changes nothing");
        let b = store
            .transact(move |t| claim_recent(t, A, inbox, third))
            .await
            .unwrap();
        assert_eq!(b, 2);
        assert_eq!(recent_claimed(&store, A, inbox).unwrap(), third);
        // Deleting the folder forgets both.
        let archive = mail::mailbox_by_name(&store, A, "Archive")
            .unwrap()
            .unwrap()
            .id;
        append(&store, archive, &["Old"]).await;
        store
            .transact(move |t| claim_recent(t, A, archive, 1))
            .await
            .unwrap();
        store
            .transact(move |t| mail::delete_mailbox(t, A, "Archive", &[]))
            .await
            .unwrap();
        assert_eq!(keywords(&store, A, archive).unwrap(), None);
        assert_eq!(recent_claimed(&store, A, archive).unwrap(), 0);
    }
}

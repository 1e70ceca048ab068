//! Folder operations: create (with missing parents), rename (with children), delete,
//! subscriptions. Each runs inside the caller's transaction.

use crate::error::{Error, Result};
use crate::ids::{AccountId, MailboxId};
use crate::keyspace::Keyspace;
use crate::notify::{Event, EventKind};
use crate::reader::Reader;
use crate::txn::Txn;

use super::model::*;

/// Creates an account's mail state and its default folders. Does nothing if it exists.
pub fn init_account(txn: &mut Txn<'_>, account: AccountId) -> Result<()> {
    if txn.exists(Keyspace::Mailboxes, &state_key(account))? {
        return Ok(());
    }
    txn.put_value(
        Keyspace::Mailboxes,
        state_key(account),
        &AccountState::default(),
    )?;
    for (name, special) in DEFAULT_FOLDERS {
        create_mailbox(txn, account, name, special)?;
        subscribe(txn, account, name)?;
    }
    Ok(())
}

fn load_state(txn: &impl Reader, account: AccountId) -> Result<AccountState> {
    txn.get_value(Keyspace::Mailboxes, &state_key(account))?
        .ok_or_else(|| Error::NotFound(format!("mail account {account}")))
}

/// Looks a folder up by name.
pub fn mailbox_by_name(
    txn: &impl Reader,
    account: AccountId,
    name: &str,
) -> Result<Option<MailboxRecord>> {
    let Some(name) = normalize_name(name) else {
        return Ok(None);
    };
    let Some(id) = txn.get(Keyspace::Mailboxes, &name_key(account, &name))? else {
        return Ok(None);
    };
    let id = MailboxId(u32::from_be_bytes(id.as_slice().try_into().map_err(
        |_| Error::Corrupt {
            keyspace: Keyspace::Mailboxes,
            reason: "folder name index".into(),
        },
    )?));
    txn.get_value(Keyspace::Mailboxes, &mailbox_key(account, id))
}

/// Reads a folder.
pub fn mailbox(txn: &impl Reader, account: AccountId, id: MailboxId) -> Result<MailboxRecord> {
    txn.get_value(Keyspace::Mailboxes, &mailbox_key(account, id))?
        .ok_or_else(|| Error::NotFound(format!("folder {id} of account {account}")))
}

pub(crate) fn save_mailbox(txn: &mut Txn<'_>, account: AccountId, m: &MailboxRecord) -> Result<()> {
    txn.put_value(Keyspace::Mailboxes, mailbox_key(account, m.id), m)
}

/// Creates folder `name`, and any missing parent folders (RFC 9051 §6.3.4). Fails if `name`
/// exists.
pub fn create_mailbox(
    txn: &mut Txn<'_>,
    account: AccountId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId> {
    let name =
        normalize_name(name).ok_or_else(|| Error::Invalid(format!("bad folder name {name:?}")))?;
    if mailbox_by_name(txn, account, &name)?.is_some() {
        return Err(Error::AlreadyExists(format!("folder {name}")));
    }
    // Parents first.
    let mut prefix = String::new();
    let levels: Vec<&str> = name.split(DELIMITER).collect();
    for level in &levels[..levels.len() - 1] {
        if !prefix.is_empty() {
            prefix.push(DELIMITER);
        }
        prefix.push_str(level);
        if mailbox_by_name(txn, account, &prefix)?.is_none() {
            insert_mailbox(txn, account, &prefix, None)?;
        }
    }
    insert_mailbox(txn, account, &name, special_use)
}

fn insert_mailbox(
    txn: &mut Txn<'_>,
    account: AccountId,
    name: &str,
    special_use: Option<SpecialUse>,
) -> Result<MailboxId> {
    let mut state = load_state(txn, account)?;
    let id = MailboxId(state.next_mailbox);
    state.next_mailbox = state
        .next_mailbox
        .checked_add(1)
        .ok_or_else(|| Error::Invalid("too many folders created in this account".into()))?;
    // UIDVALIDITY: time-based so that a re-created name never repeats an earlier value, and
    // strictly increasing within the account even when the clock is not.
    let now = u32::try_from(now_secs()).unwrap_or(u32::MAX);
    state.last_uidvalidity = now.max(state.last_uidvalidity.saturating_add(1));
    let record = MailboxRecord {
        id,
        name: name.to_string(),
        special_use,
        uidvalidity: state.last_uidvalidity,
        uidnext: 1,
        highest_modseq: 1,
        messages: 0,
        unseen: 0,
        size: 0,
        deleted: 0,
    };
    txn.put_value(Keyspace::Mailboxes, state_key(account), &state)?;
    save_mailbox(txn, account, &record)?;
    txn.put(
        Keyspace::Mailboxes,
        name_key(account, name),
        id.0.to_be_bytes().to_vec(),
    );
    txn.emit(Event {
        account,
        mailbox: id,
        kind: EventKind::MailboxesChanged,
        modseq: 1,
    });
    Ok(id)
}

/// Renames a folder and every folder below it. INBOX cannot be renamed here (IMAP's special
/// meaning of renaming INBOX is a move of its messages, done by the protocol layer).
pub fn rename_mailbox(txn: &mut Txn<'_>, account: AccountId, from: &str, to: &str) -> Result<()> {
    let bad = |n: &str| Error::Invalid(format!("bad folder name {n:?}"));
    let from = normalize_name(from).ok_or_else(|| bad(from))?;
    let to = normalize_name(to).ok_or_else(|| bad(to))?;
    if from == "INBOX" {
        return Err(Error::Invalid("INBOX cannot be renamed".into()));
    }
    if to == from || to.starts_with(&format!("{from}{DELIMITER}")) {
        return Err(Error::Invalid(format!("cannot rename {from} into itself")));
    }
    let root = mailbox_by_name(txn, account, &from)?
        .ok_or_else(|| Error::NotFound(format!("folder {from}")))?;
    if mailbox_by_name(txn, account, &to)?.is_some() {
        return Err(Error::AlreadyExists(format!("folder {to}")));
    }
    // Create missing parents of the new name, then move the subtree.
    if let Some((parent, _)) = to.rsplit_once(DELIMITER)
        && mailbox_by_name(txn, account, parent)?.is_none()
    {
        create_mailbox(txn, account, parent, None)?;
    }
    let mut moved = vec![root];
    let child_prefix = format!("{from}{DELIMITER}");
    for m in list(txn, account)? {
        if m.name.starts_with(&child_prefix) {
            moved.push(m);
        }
    }
    for mut m in moved {
        let new_name = format!("{to}{}", &m.name[from.len()..]);
        txn.delete(Keyspace::Mailboxes, name_key(account, &m.name));
        if txn.exists(Keyspace::Mailboxes, &subscribed_key(account, &m.name))? {
            txn.delete(Keyspace::Mailboxes, subscribed_key(account, &m.name));
            txn.put(
                Keyspace::Mailboxes,
                subscribed_key(account, &new_name),
                Vec::new(),
            );
        }
        txn.put(
            Keyspace::Mailboxes,
            name_key(account, &new_name),
            m.id.0.to_be_bytes().to_vec(),
        );
        m.name = new_name;
        save_mailbox(txn, account, &m)?;
        txn.emit(Event {
            account,
            mailbox: m.id,
            kind: EventKind::MailboxesChanged,
            modseq: m.highest_modseq,
        });
    }
    Ok(())
}

/// Every folder of an account, in id order.
pub fn list(txn: &impl Reader, account: AccountId) -> Result<Vec<MailboxRecord>> {
    let range = crate::Range::prefix(&mailboxes_prefix(account));
    txn.scan(
        Keyspace::Mailboxes,
        &range,
        crate::Direction::Forward,
        usize::MAX,
    )?
    .into_iter()
    .map(|(_, v)| crate::decode(Keyspace::Mailboxes, &v))
    .collect()
}

/// Deletes a folder and its messages (their usage is released through `charges`). Its
/// children stay. INBOX cannot be deleted (RFC 9051 §6.3.5).
pub fn delete_mailbox(
    txn: &mut Txn<'_>,
    account: AccountId,
    name: &str,
    charges: &[super::Charge],
) -> Result<()> {
    let m = mailbox_by_name(txn, account, name)?
        .ok_or_else(|| Error::NotFound(format!("folder {name}")))?;
    if m.name == "INBOX" {
        return Err(Error::Invalid("INBOX cannot be deleted".into()));
    }
    let uids: Vec<u32> = super::messages::uids(txn, account, m.id)?;
    super::messages::remove_messages(txn, account, m.id, &uids, charges)?;
    // The change log goes with the folder; a new folder of the same name gets a new
    // UIDVALIDITY, so no client can confuse the two.
    let range = crate::Range::prefix(&messages_prefix(account, m.id));
    for (k, _) in txn.scan(
        Keyspace::Changes,
        &range,
        crate::Direction::Forward,
        usize::MAX,
    )? {
        txn.delete(Keyspace::Changes, k);
    }
    txn.delete(Keyspace::Mailboxes, name_key(account, &m.name));
    txn.delete(Keyspace::Mailboxes, mailbox_key(account, m.id));
    super::folder_state::forget(txn, account, m.id);
    txn.emit(Event {
        account,
        mailbox: m.id,
        kind: EventKind::MailboxesChanged,
        modseq: m.highest_modseq,
    });
    Ok(())
}

/// Subscribes to a folder name (which need not exist, RFC 9051 §6.3.7).
pub fn subscribe(txn: &mut Txn<'_>, account: AccountId, name: &str) -> Result<()> {
    let name =
        normalize_name(name).ok_or_else(|| Error::Invalid(format!("bad folder name {name:?}")))?;
    txn.put(
        Keyspace::Mailboxes,
        subscribed_key(account, &name),
        Vec::new(),
    );
    Ok(())
}

/// Removes a subscription.
pub fn unsubscribe(txn: &mut Txn<'_>, account: AccountId, name: &str) -> Result<()> {
    let name =
        normalize_name(name).ok_or_else(|| Error::Invalid(format!("bad folder name {name:?}")))?;
    if !txn.exists(Keyspace::Mailboxes, &subscribed_key(account, &name))? {
        return Err(Error::NotFound(format!("subscription {name}")));
    }
    txn.delete(Keyspace::Mailboxes, subscribed_key(account, &name));
    Ok(())
}

pub(crate) fn now_secs() -> i64 {
    i64::try_from(crate::clock::now_secs()).unwrap_or(i64::MAX)
}

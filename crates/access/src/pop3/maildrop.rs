//! The maildrop of a session: the account's INBOX as it was at sign-in, message numbers fixed
//! for the session, deletions marked until QUIT.
//!
//! RFC 1939 §5: messages are numbered from 1 when the TRANSACTION state starts and keep their
//! numbers; a deleted message is no longer listed, and its number is not reused. §6: the UPDATE
//! state removes the marked messages. RFC 1939 §7 (UIDL): the unique id of a message never
//! changes and is never given to another message; ours is the folder's UIDVALIDITY and the
//! message's UID.

use marque_core::{Core, CoreError};
use marque_store::blob::BlobHash;
use marque_store::{AccountId, MailboxId, Store, mail};

/// The name of the folder POP3 serves.
pub const INBOX: &str = "INBOX";

/// One message of the maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub uid: u32,
    pub blob: BlobHash,
    /// The size the client receives (CRLF line ends, before dot-stuffing).
    pub size: u64,
    /// Marked by DELE.
    pub deleted: bool,
}

/// The messages of a session.
#[derive(Debug, Clone)]
pub struct Maildrop {
    pub account: AccountId,
    pub folder: MailboxId,
    pub uidvalidity: u32,
    entries: Vec<Entry>,
}

impl Maildrop {
    /// A maildrop over given entries (for tests of the commands).
    pub fn new(
        account: AccountId,
        folder: MailboxId,
        uidvalidity: u32,
        entries: Vec<Entry>,
    ) -> Self {
        Maildrop {
            account,
            folder,
            uidvalidity,
            entries,
        }
    }

    /// Reads the account's INBOX: every message with the size the client will receive.
    pub async fn load(store: &Store, account: AccountId) -> marque_store::Result<Maildrop> {
        store
            .read(move |s| {
                let inbox = mail::mailbox_by_name(s, account, INBOX)?.ok_or_else(|| {
                    marque_store::Error::NotFound(format!("INBOX of account {account}"))
                })?;
                let mut entries = Vec::new();
                // The store keeps CRLF line ends, so the stored size is what the client gets.
                for (uid, record) in mail::messages(s, account, inbox.id, 1, usize::MAX)? {
                    entries.push(Entry {
                        uid,
                        blob: record.blob,
                        size: record.size,
                        deleted: false,
                    });
                }
                Ok(Maildrop::new(account, inbox.id, inbox.uidvalidity, entries))
            })
            .await
    }

    /// The message numbered `n`, unless there is none or it is marked deleted.
    pub fn get(&self, n: u32) -> Option<&Entry> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.entries.get(i).filter(|e| !e.deleted)
    }

    /// The messages not marked deleted, with their numbers.
    pub fn live(&self) -> impl Iterator<Item = (u32, &Entry)> {
        (1u32..)
            .zip(self.entries.iter())
            .filter(|(_, e)| !e.deleted)
    }

    /// Count and total size of the messages not marked deleted (STAT).
    pub fn totals(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(c, s), (_, e)| (c + 1, s + e.size))
    }

    /// Marks message `n` deleted; false if there is no such message.
    pub fn delete(&mut self, n: u32) -> bool {
        let Some(i) = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) else {
            return false;
        };
        match self.entries.get_mut(i) {
            Some(e) if !e.deleted => {
                e.deleted = true;
                true
            }
            _ => false,
        }
    }

    /// Unmarks every deletion (RSET).
    pub fn reset(&mut self) {
        for e in &mut self.entries {
            e.deleted = false;
        }
    }

    /// The unique id of an entry (RFC 1939 §7: 1 to 70 characters from 0x21 to 0x7E).
    pub fn unique_id(&self, e: &Entry) -> String {
        format!("{}.{}", self.uidvalidity, e.uid)
    }

    /// The UIDs marked deleted.
    pub fn marked(&self) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|e| e.deleted)
            .map(|e| e.uid)
            .collect()
    }

    /// The raw message numbered `n`; `None` if it is gone from the store (removed by another
    /// protocol since sign-in).
    pub async fn body(&self, store: &Store, n: u32) -> marque_store::Result<Option<Vec<u8>>> {
        let Some(e) = self.get(n) else {
            return Ok(None);
        };
        let (account, folder, uid) = (self.account, self.folder, e.uid);
        store
            .read(move |s| match mail::message(s, account, folder, uid)? {
                Some(record) => mail::message_body(s, &record.blob),
                None => Ok(None),
            })
            .await
    }

    /// RFC 1939 §6, the UPDATE state: removes the marked messages in one durable transaction,
    /// releasing their usage. Returns how many were removed.
    pub async fn commit(&self, core: &Core) -> Result<usize, CoreError> {
        let doomed = self.marked();
        if doomed.is_empty() {
            return Ok(0);
        }
        let (account, folder) = (self.account, self.folder);
        core.store()
            .transact(move |txn| {
                let charges = marque_core::quota::usage_charges_txn(txn, account)?;
                let (removed, _) = mail::remove_messages(txn, account, folder, &doomed, &charges)?;
                Ok::<_, CoreError>(removed.len())
            })
            .await
    }
}

#[cfg(test)]
pub(crate) fn sample() -> Maildrop {
    let entry = |uid, size| Entry {
        uid,
        blob: BlobHash([uid as u8; 32]),
        size,
        deleted: false,
    };
    Maildrop::new(
        AccountId(1),
        MailboxId(1),
        42,
        vec![entry(3, 100), entry(5, 250), entry(9, 1000)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_fixed_and_deletions_hide_messages() {
        let mut m = sample();
        assert_eq!(m.totals(), (3, 1350));
        assert!(m.delete(2));
        assert!(!m.delete(2), "already deleted");
        assert!(!m.delete(0));
        assert!(!m.delete(4));
        assert_eq!(m.totals(), (2, 1100));
        assert!(m.get(2).is_none());
        assert_eq!(m.get(3).map(|e| e.uid), Some(9));
        assert_eq!(m.marked(), vec![5]);
        m.reset();
        assert_eq!(m.totals(), (3, 1350));
        assert!(m.marked().is_empty());
        assert_eq!(m.unique_id(m.get(1).unwrap()), "42.3");
    }
}

//! The UIDs of recently selected folders, shared by every session of a handler.
//!
//! A session needs its folder's UIDs in order to number the messages (RFC 9051 §2.3.1.2).
//! Reading them on every SELECT means scanning every key of the folder (and, after many
//! expunges, the deleted keys RocksDB still holds there). Instead the last list read is kept
//! here, marked with the folder's HIGHESTMODSEQ at the time: every append, expunge and move
//! raises that value in the same transaction, so a list marked with the folder's current
//! HIGHESTMODSEQ is exact, and an older one is brought up to date from the change log.
//!
//! The lists are shared copy-on-write (`Arc<Vec<u32>>`): sessions on the same folder hold one
//! list between them until one of them sees a change, so an idle session costs no UID list of
//! its own either.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use marque_store::mail::{self, ChangeKind, MailboxRecord};
use marque_store::{AccountId, MailboxId, Store};

/// Folders kept before the lists no session holds are dropped.
const MAX_FOLDERS: usize = 4096;
/// Change-log entries read to bring a kept list up to date; past that the keys are scanned.
const MAX_CHANGES: usize = 4096;

/// One folder's UIDs, ascending, as of `modseq`.
#[derive(Debug, Clone)]
pub struct Uids {
    pub modseq: u64,
    pub uids: Arc<Vec<u32>>,
}

/// Which folder a list belongs to. UIDVALIDITY is part of it so that a folder of the same id
/// made anew (an account deleted and created again) never meets the old folder's list.
type FolderKey = (AccountId, MailboxId, u32);

/// The kept lists.
#[derive(Debug, Default)]
pub struct FolderUids {
    kept: Mutex<HashMap<FolderKey, Uids>>,
}

impl FolderUids {
    fn get(&self, key: FolderKey) -> Option<Uids> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(&key).cloned()
    }

    fn put(&self, key: FolderKey, uids: Uids) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_FOLDERS {
            // Keep only what sessions still hold; the rest is read again when selected.
            kept.retain(|_, u| Arc::strong_count(&u.uids) > 1);
            if kept.len() >= MAX_FOLDERS {
                kept.clear();
            }
        }
        let e = kept.entry(key).or_insert_with(|| uids.clone());
        if e.modseq < uids.modseq {
            *e = uids;
        }
    }

    /// The UIDs of folder `m` as of its HIGHESTMODSEQ in that record, just read (blocking:
    /// reads the store). A kept list of that modseq is returned as it is; an older
    /// one is brought forward with the change log; without one the keys are scanned.
    ///
    /// The store reads without a snapshot; the change log is read after the folder's record,
    /// so it holds every change up to `modseq` (a transaction writes both at once), and
    /// changes after it are ignored. A scan is kept only if the folder's HIGHESTMODSEQ did not
    /// move while it ran; otherwise it is returned (what SELECT did before) but not kept.
    pub fn load(
        &self,
        st: &Store,
        account: AccountId,
        m: &MailboxRecord,
    ) -> marque_store::Result<Uids> {
        let (folder, modseq) = (m.id, m.highest_modseq);
        let key = (account, folder, m.uidvalidity);
        if let Some(k) = self.get(key) {
            if k.modseq == modseq {
                return Ok(k);
            }
            if k.modseq < modseq
                && let Some(u) = forward(st, account, folder, &k, modseq)?
            {
                self.put(key, u.clone());
                return Ok(u);
            }
        }
        let uids = Arc::new(mail::uids(st, account, folder)?);
        let u = Uids { modseq, uids };
        if mail::mailbox(st, account, folder)?.highest_modseq == modseq {
            self.put(key, u.clone());
        }
        Ok(u)
    }
}

/// `kept` brought forward to `modseq` with the change log, or `None` if the log is longer
/// than one read.
fn forward(
    st: &Store,
    account: AccountId,
    folder: MailboxId,
    kept: &Uids,
    modseq: u64,
) -> marque_store::Result<Option<Uids>> {
    let log = mail::changes_since(st, account, folder, kept.modseq, MAX_CHANGES)?;
    if log.len() >= MAX_CHANGES {
        return Ok(None);
    }
    let mut gone: Vec<u32> = Vec::new();
    let mut arrived: Vec<u32> = Vec::new();
    for c in log.iter().filter(|c| c.modseq <= modseq) {
        match c.kind {
            ChangeKind::Expunged => gone.push(c.uid),
            ChangeKind::Appended => arrived.push(c.uid),
            ChangeKind::FlagsChanged => {}
        }
    }
    let uids = if gone.is_empty() && arrived.is_empty() {
        kept.uids.clone()
    } else {
        gone.sort_unstable();
        let last = kept.uids.last().copied().unwrap_or(0);
        let mut v: Vec<u32> = kept
            .uids
            .iter()
            .copied()
            .filter(|u| gone.binary_search(u).is_err())
            .collect();
        arrived.retain(|u| *u > last && gone.binary_search(u).is_err());
        arrived.sort_unstable();
        arrived.dedup();
        v.extend(arrived);
        Arc::new(v)
    };
    Ok(Some(Uids { modseq, uids }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use marque_store::mail::{AppendOptions, FlagChange, FlagOp, Flags, PreparedMessage};

    const A: AccountId = AccountId(3);

    async fn append(store: &Store, folder: MailboxId, n: usize) {
        for i in 0..n {
            let raw = format!("Subject: {i}\r\n\r\nbody\r\n");
            let msg = PreparedMessage::new(store, raw.as_bytes()).unwrap();
            store
                .transact(move |t| mail::append(t, A, folder, &msg, &AppendOptions::default(), &[]))
                .await
                .unwrap();
        }
    }

    /// Loads through `kept` and checks the result against a scan of the keys.
    fn load(store: &Store, kept: &FolderUids, folder: MailboxId) -> Uids {
        let m = mail::mailbox(store, A, folder).unwrap();
        let u = kept.load(store, A, &m).unwrap();
        assert_eq!(u.modseq, m.highest_modseq);
        assert_eq!(*u.uids, mail::uids(store, A, folder).unwrap());
        u
    }

    #[tokio::test]
    async fn kept_lists_follow_appends_expunges_and_moves() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), marque_store::StoreOptions::default()).unwrap();
        store.transact(|t| mail::init_account(t, A)).await.unwrap();
        let inbox = mail::mailbox_by_name(&store, A, "INBOX")
            .unwrap()
            .unwrap()
            .id;
        let archive = mail::mailbox_by_name(&store, A, "Archive")
            .unwrap()
            .unwrap()
            .id;
        let kept = FolderUids::default();
        assert!(load(&store, &kept, inbox).uids.is_empty());
        append(&store, inbox, 5).await;
        let first = load(&store, &kept, inbox);
        // Unchanged: the same list, shared.
        assert!(Arc::ptr_eq(&first.uids, &load(&store, &kept, inbox).uids));
        // A flag change moves HIGHESTMODSEQ but not the UIDs: still the same list.
        let change = FlagChange {
            op: FlagOp::Add,
            flags: Flags::DELETED,
            keywords: Vec::new(),
            unchanged_since: None,
        };
        store
            .transact(move |t| mail::store_flags(t, A, inbox, &[2, 4], &change))
            .await
            .unwrap();
        let flagged = load(&store, &kept, inbox);
        assert!(flagged.modseq > first.modseq);
        assert!(Arc::ptr_eq(&first.uids, &flagged.uids));
        // Expunge, move and append are read from the change log.
        store
            .transact(move |t| mail::expunge(t, A, inbox, None, &[]))
            .await
            .unwrap();
        store
            .transact(move |t| mail::move_messages(t, A, inbox, &[5], archive))
            .await
            .unwrap();
        append(&store, inbox, 2).await;
        assert_eq!(*load(&store, &kept, inbox).uids, vec![1, 3, 6, 7]);
        assert_eq!(*load(&store, &kept, archive).uids, vec![1]);
        // A session holding the old list keeps it unchanged (copy-on-write).
        assert_eq!(*first.uids, vec![1, 2, 3, 4, 5]);
    }
}

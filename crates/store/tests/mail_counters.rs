//! The per-folder counters SELECT and STATUS answer from (messages, unseen, deleted, size,
//! UIDNEXT, HIGHESTMODSEQ) agree with the folder's records after every kind of change:
//! appends, flag changes, copies, moves and expunges, on a real RocksDB.

use marque_store::mail::{
    self, AppendOptions, ChangeKind, Charge, FlagChange, FlagOp, Flags, PreparedMessage,
};
use marque_store::{AccountId, MailboxId, Store, counters::Owner};

#[macro_use]
mod common;

const A: AccountId = AccountId(7);

fn usage() -> Vec<Charge> {
    vec![Charge {
        owner: Owner::Account(A),
        limit: None,
        name: "mailbox quota".into(),
    }]
}

fn folder(store: &Store, name: &str) -> MailboxId {
    mail::mailbox_by_name(store, A, name).unwrap().unwrap().id
}

/// Checks the folder's record against what its messages and change log say.
fn check(store: &Store, id: MailboxId, expect_messages: u32) {
    let m = mail::mailbox(store, A, id).unwrap();
    let all = mail::messages(store, A, id, 1, usize::MAX).unwrap();
    let name = &m.name;
    assert_eq!(m.messages as usize, all.len(), "{name}: messages");
    assert_eq!(m.messages, expect_messages, "{name}: expected messages");
    let unseen = all
        .iter()
        .filter(|(_, r)| !r.flags.contains(Flags::SEEN))
        .count();
    assert_eq!(m.unseen as usize, unseen, "{name}: unseen");
    let deleted = all
        .iter()
        .filter(|(_, r)| r.flags.contains(Flags::DELETED))
        .count();
    assert_eq!(m.deleted as usize, deleted, "{name}: deleted");
    let size: u64 = all.iter().map(|(_, r)| r.size).sum();
    assert_eq!(m.size, size, "{name}: size");
    let max_uid = all.last().map_or(0, |(u, _)| *u);
    assert!(
        m.uidnext > max_uid,
        "{name}: UIDNEXT {} <= {max_uid}",
        m.uidnext
    );
    let max_rec = all.iter().map(|(_, r)| r.modseq).max().unwrap_or(0);
    assert!(m.highest_modseq >= max_rec, "{name}: HIGHESTMODSEQ");
    let log = mail::changes_since(store, A, id, 0, usize::MAX).unwrap();
    if let Some(last) = log.last() {
        assert_eq!(
            m.highest_modseq, last.modseq,
            "{name}: HIGHESTMODSEQ vs log"
        );
    }
    // The UIDs the change log leaves are the folder's UIDs.
    let mut from_log: Vec<u32> = Vec::new();
    for c in &log {
        match c.kind {
            ChangeKind::Appended => from_log.push(c.uid),
            ChangeKind::Expunged => from_log.retain(|u| *u != c.uid),
            ChangeKind::FlagsChanged => {}
        }
    }
    from_log.sort_unstable();
    assert_eq!(from_log, mail::uids(store, A, id).unwrap(), "{name}: log");
}

on_each_backend! {
    #[tokio::test]
    async fn counters_stay_consistent_through_copy_move_and_expunge(place) {
        let store = place.open();
        store.transact(|t| mail::init_account(t, A)).await.unwrap();
        let (inbox, archive) = (folder(&store, "INBOX"), folder(&store, "Archive"));

        for n in 0..8u32 {
            let raw = format!("Subject: m{n}\r\n\r\n{}\r\n", "x".repeat(n as usize * 100));
            let msg = PreparedMessage::new(&store, raw.as_bytes()).unwrap();
            let opts = AppendOptions {
                flags: if n % 3 == 0 {
                    Flags::SEEN
                } else {
                    Flags::default()
                },
                ..Default::default()
            };
            store
                .transact(move |t| mail::append(t, A, inbox, &msg, &opts, &usage()))
                .await
                .unwrap();
        }
        check(&store, inbox, 8);

        let change = |op, flags| FlagChange {
            op,
            flags,
            keywords: Vec::new(),
            unchanged_since: None,
        };
        let seen = change(FlagOp::Add, Flags::SEEN);
        store
            .transact(move |t| mail::store_flags(t, A, inbox, &[2, 3, 4], &seen))
            .await
            .unwrap();
        let deleted = change(FlagOp::Add, Flags::DELETED);
        store
            .transact(move |t| mail::store_flags(t, A, inbox, &[1, 5, 6], &deleted))
            .await
            .unwrap();
        let unseen = change(FlagOp::Remove, Flags::SEEN);
        store
            .transact(move |t| mail::store_flags(t, A, inbox, &[1, 3], &unseen))
            .await
            .unwrap();
        check(&store, inbox, 8);

        // COPY: the source stays, the destination counts the copies with their flags.
        store
            .transact(move |t| mail::copy(t, A, inbox, &[1, 2, 99], archive, &usage()))
            .await
            .unwrap();
        check(&store, inbox, 8);
        check(&store, archive, 2);

        // MOVE: gone from the source, counted in the destination.
        store
            .transact(move |t| mail::move_messages(t, A, inbox, &[3, 6], archive))
            .await
            .unwrap();
        check(&store, inbox, 6);
        check(&store, archive, 4);

        // EXPUNGE: of the messages flagged \Deleted (1 and 5 are left in INBOX).
        let (gone, _) = store
            .transact(move |t| mail::expunge(t, A, inbox, None, &usage()))
            .await
            .unwrap();
        assert_eq!(gone, vec![1, 5]);
        check(&store, inbox, 4);
        // UID EXPUNGE of a message without \Deleted removes nothing.
        let (gone, _) = store
            .transact(move |t| mail::expunge(t, A, archive, Some(&[2]), &usage()))
            .await
            .unwrap();
        assert!(gone.is_empty());
        // The copy of 1 and the moved 6 are flagged \Deleted in the archive.
        let (gone, _) = store
            .transact(move |t| mail::expunge(t, A, archive, None, &usage()))
            .await
            .unwrap();
        assert_eq!(gone.len(), 2);
        check(&store, archive, 2);
        check(&store, inbox, 4);
    }
}

//! The mail model through its public functions, on RocksDB and on PostgreSQL.

use marque_store::counters::{self, Metric, Owner};
use marque_store::mail::{
    self, AppendOptions, ChangeKind, Charge, FlagChange, FlagOp, Flags, PreparedMessage, SpecialUse,
};
use marque_store::{AccountId, Error, EventKind, MailboxId, Reader, Store, StoreOptions, blob};

#[macro_use]
mod common;

use common::Place;

const A: AccountId = AccountId(42);

async fn open(place: &Place) -> Store {
    let store = place.open();
    store.transact(|t| mail::init_account(t, A)).await.unwrap();
    store
}

fn inbox(store: &Store) -> MailboxId {
    mail::mailbox_by_name(store, A, "inbox")
        .unwrap()
        .unwrap()
        .id
}

fn usage(limit: Option<i64>) -> Vec<Charge> {
    vec![Charge {
        owner: Owner::Account(A),
        limit,
        name: "mailbox quota".into(),
    }]
}

fn used_key() -> Vec<u8> {
    counters::key(Owner::Account(A), Metric::StorageUsed)
}

async fn put(store: &Store, folder: MailboxId, raw: &str, flags: Flags) -> mail::Appended {
    let msg = PreparedMessage::new(store, raw.as_bytes()).unwrap();
    let opts = AppendOptions {
        flags,
        ..Default::default()
    };
    store
        .transact(move |t| mail::append(t, A, folder, &msg, &opts, &usage(None)))
        .await
        .unwrap()
}

on_each_backend! {
    #[tokio::test]
    async fn new_accounts_have_default_folders(place) {
        let store = open(&place).await;
        let names: Vec<_> = mail::list(&store, A)
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.special_use))
            .collect();
        assert_eq!(names.len(), 6);
        assert!(names.contains(&("Sent".into(), Some(SpecialUse::Sent))));
        assert_eq!(mail::subscriptions(&store, A).unwrap().len(), 6);
        // Idempotent.
        store.transact(|t| mail::init_account(t, A)).await.unwrap();
        assert_eq!(mail::list(&store, A).unwrap().len(), 6);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn folder_hierarchy_rename_and_delete(place) {
        let store = open(&place).await;
        store
            .transact(|t| mail::create_mailbox(t, A, "Work/2026/Q4", None))
            .await
            .unwrap();
        let names: Vec<_> = mail::list(&store, A)
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert!(names.contains(&"Work".to_string()) && names.contains(&"Work/2026".to_string()));
        let dup = store
            .transact(|t| mail::create_mailbox(t, A, "Work", None))
            .await;
        assert!(matches!(dup, Err(Error::AlreadyExists(_))));
        for bad in ["", "/x", "x/", "a//b", "tab\there"] {
            let r = store
                .transact(move |t| mail::create_mailbox(t, A, bad, None))
                .await;
            assert!(
                matches!(r, Err(Error::Invalid(_))),
                "{bad:?} must be refused"
            );
        }
        let old = mail::mailbox_by_name(&store, A, "Work/2026/Q4")
            .unwrap()
            .unwrap();
        store
            .transact(|t| mail::subscribe(t, A, "Work/2026"))
            .await
            .unwrap();
        store
            .transact(|t| mail::rename_mailbox(t, A, "Work", "Jobs/Old"))
            .await
            .unwrap();
        let moved = mail::mailbox_by_name(&store, A, "Jobs/Old/2026/Q4")
            .unwrap()
            .unwrap();
        assert_eq!(
            moved.id, old.id,
            "a rename keeps the folder and its UIDVALIDITY"
        );
        assert_eq!(moved.uidvalidity, old.uidvalidity);
        assert!(mail::mailbox_by_name(&store, A, "Work").unwrap().is_none());
        assert!(
            mail::subscriptions(&store, A)
                .unwrap()
                .contains(&"Jobs/Old/2026".to_string())
        );
        assert!(
            store
                .transact(|t| mail::rename_mailbox(t, A, "INBOX", "X"))
                .await
                .is_err()
        );
        assert!(
            store
                .transact(|t| mail::delete_mailbox(t, A, "INBOX", &[]))
                .await
                .is_err()
        );
        // Deleting and re-creating gives a new UIDVALIDITY.
        store
            .transact(|t| mail::delete_mailbox(t, A, "Jobs/Old/2026/Q4", &[]))
            .await
            .unwrap();
        store
            .transact(|t| mail::create_mailbox(t, A, "Jobs/Old/2026/Q4", None))
            .await
            .unwrap();
        let again = mail::mailbox_by_name(&store, A, "Jobs/Old/2026/Q4")
            .unwrap()
            .unwrap();
        assert!(again.uidvalidity > old.uidvalidity);
        assert_ne!(again.id, old.id);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn append_assigns_uids_modseqs_and_shares_bodies(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        let raw = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
        let a1 = put(&store, ib, raw, Flags::empty()).await;
        let a2 = put(&store, ib, raw, Flags::SEEN).await;
        assert_eq!((a1.uid, a2.uid), (1, 2));
        assert!(a2.modseq > a1.modseq);
        let m = mail::mailbox(&store, A, ib).unwrap();
        assert_eq!((m.messages, m.unseen, m.uidnext), (2, 1, 3));
        assert_eq!(m.highest_modseq, a2.modseq);
        let rec = mail::message(&store, A, ib, 1).unwrap().unwrap();
        assert_eq!(
            blob::references_in(&store, &rec.blob).unwrap(),
            2,
            "one body, two references"
        );
        assert_eq!(
            mail::message_body(&store, &rec.blob).unwrap().unwrap(),
            raw.as_bytes()
        );
        let meta = mail::message_meta(&store, &rec.blob).unwrap().unwrap();
        assert_eq!(meta.envelope.subject.as_deref(), Some("hi"));
        let used = Reader::counter(&store, &used_key()).unwrap();
        assert_eq!(used, 2 * raw.len() as i64);
        let count =
            Reader::counter(&store, &counters::key(Owner::Account(A), Metric::Messages)).unwrap();
        assert_eq!(count, 2, "messages are counted with their bytes");
    }
}

on_each_backend! {
    #[tokio::test]
    async fn over_quota_writes_nothing(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        let raw = "Subject: big\r\n\r\n".to_string() + &"x".repeat(2000);
        let msg = PreparedMessage::new(&store, raw.as_bytes()).unwrap();
        let r = store
            .transact(move |t| {
                mail::append(
                    t,
                    A,
                    ib,
                    &msg,
                    &AppendOptions::default(),
                    &usage(Some(1000)),
                )
            })
            .await;
        assert!(matches!(r, Err(Error::LimitExceeded { limit: 1000, .. })));
        let m = mail::mailbox(&store, A, ib).unwrap();
        assert_eq!((m.messages, m.uidnext, m.highest_modseq), (0, 1, 1));
        let hash = blob::BlobHash::of(raw.as_bytes());
        assert!(
            mail::message_body(&store, &hash).unwrap().is_none(),
            "no orphan body"
        );
        assert_eq!(Reader::counter(&store, &used_key()).unwrap(), 0);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn flags_with_unchangedsince_and_the_change_log(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        for i in 0..3 {
            put(
                &store,
                ib,
                &format!("Subject: {i}\r\n\r\nx\r\n"),
                Flags::empty(),
            )
            .await;
        }
        let before = mail::mailbox(&store, A, ib).unwrap().highest_modseq;
        let add_seen = FlagChange {
            op: FlagOp::Add,
            flags: Flags::SEEN,
            keywords: vec!["$Important".into()],
            unchanged_since: None,
        };
        let out = store
            .transact(move |t| mail::store_flags(t, A, ib, &[1, 2, 99], &add_seen))
            .await
            .unwrap();
        assert_eq!(out.changed.len(), 2, "UID 99 does not exist and is ignored");
        assert!(out.modseq > before);
        let m = mail::mailbox(&store, A, ib).unwrap();
        assert_eq!(m.unseen, 1);
        // UID 1 changed after `before`: an UNCHANGEDSINCE store skips it (RFC 7162 MODIFIED).
        let guarded = FlagChange {
            op: FlagOp::Replace,
            flags: Flags::FLAGGED,
            keywords: vec![],
            unchanged_since: Some(before),
        };
        let out2 = store
            .transact(move |t| mail::store_flags(t, A, ib, &[1, 3], &guarded))
            .await
            .unwrap();
        assert_eq!(out2.modified, vec![1]);
        assert_eq!(
            out2.changed.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![3]
        );
        let changes = mail::changes_since(&store, A, ib, before, 100).unwrap();
        assert!(
            changes
                .iter()
                .all(|c| c.kind == ChangeKind::FlagsChanged && c.modseq > before)
        );
        assert_eq!(changes.len(), 3);
        let bad = FlagChange {
            op: FlagOp::Add,
            flags: Flags::empty(),
            keywords: vec!["has space".into()],
            unchanged_since: None,
        };
        assert!(matches!(
            store
                .transact(move |t| mail::store_flags(t, A, ib, &[1], &bad))
                .await,
            Err(Error::Invalid(_))
        ));
    }
}

on_each_backend! {
    #[tokio::test]
    async fn expunge_copy_move_keep_counts_and_references_right(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        let archive = mail::mailbox_by_name(&store, A, "Archive")
            .unwrap()
            .unwrap()
            .id;
        put(&store, ib, "Subject: keep\r\n\r\n1\r\n", Flags::empty()).await;
        put(&store, ib, "Subject: gone\r\n\r\n2\r\n", Flags::DELETED).await;
        put(&store, ib, "Subject: moved\r\n\r\n3\r\n", Flags::SEEN).await;
        let copied = store
            .transact(move |t| mail::copy(t, A, ib, &[1], archive, &usage(None)))
            .await
            .unwrap();
        assert_eq!(copied, vec![(1, 1)]);
        let gone_hash = mail::message(&store, A, ib, 2).unwrap().unwrap().blob;
        let (expunged, modseq) = store
            .transact(move |t| mail::expunge(t, A, ib, None, &usage(None)))
            .await
            .unwrap();
        assert_eq!(expunged, vec![2]);
        assert!(
            mail::message_body(&store, &gone_hash).unwrap().is_none(),
            "last reference deletes the body"
        );
        assert!(mail::message_meta(&store, &gone_hash).unwrap().is_none());
        let log = mail::changes_since(&store, A, ib, modseq - 1, 10).unwrap();
        assert_eq!(log[0].kind, ChangeKind::Expunged);
        let moved = store
            .transact(move |t| mail::move_messages(t, A, ib, &[3], archive))
            .await
            .unwrap();
        assert_eq!(moved, vec![(3, 2)]);
        let (i, a) = (
            mail::mailbox(&store, A, ib).unwrap(),
            mail::mailbox(&store, A, archive).unwrap(),
        );
        assert_eq!((i.messages, a.messages, a.unseen), (1, 2, 1));
        let keep = mail::message(&store, A, ib, 1).unwrap().unwrap();
        assert_eq!(blob::references_in(&store, &keep.blob).unwrap(), 2);
        let expected: u64 = i.size + a.size;
        assert_eq!(
            Reader::counter(&store, &used_key()).unwrap(),
            expected as i64
        );
        let count =
            Reader::counter(&store, &counters::key(Owner::Account(A), Metric::Messages)).unwrap();
        assert_eq!(count, (i.messages + a.messages) as i64);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn subscribers_hear_of_changes_after_commit(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        let mut rx = store.notifier().subscribe(A);
        let a = put(&store, ib, "Subject: ping\r\n\r\n.\r\n", Flags::empty()).await;
        let ev = rx.recv().await.unwrap();
        assert_eq!(
            (ev.mailbox, ev.kind, ev.modseq),
            (ib, EventKind::Appended, a.modseq)
        );
    }
}

on_each_backend! {
    #[tokio::test]
    async fn purging_an_account_releases_everything_it_held(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        let shared = "Subject: shared\r\n\r\nsame body\r\n";
        for i in 0..1200 {
            put(
                &store,
                ib,
                &format!("Subject: {i}\r\n\r\nbody {i}\r\n"),
                Flags::empty(),
            )
            .await;
        }
        put(&store, ib, shared, Flags::empty()).await;
        // Another account holds the same body: it must survive the purge.
        let other = AccountId(43);
        store
            .transact(move |t| mail::init_account(t, other))
            .await
            .unwrap();
        let other_inbox = mail::mailbox_by_name(&store, other, "INBOX")
            .unwrap()
            .unwrap()
            .id;
        let msg = PreparedMessage::new(&store, shared.as_bytes()).unwrap();
        store
            .transact(move |t| {
                mail::append(t, other, other_inbox, &msg, &AppendOptions::default(), &[])
            })
            .await
            .unwrap();
        let flag = FlagChange {
            op: FlagOp::Add,
            flags: Flags::SEEN,
            keywords: vec![],
            unchanged_since: None,
        };
        store
            .transact(move |t| mail::store_flags(t, A, ib, &[1, 2, 3], &flag))
            .await
            .unwrap();
        let one = mail::message(&store, A, ib, 1).unwrap().unwrap().blob;

        let removed = mail::purge_account(&store, A).await.unwrap();
        assert_eq!(removed, 1201);
        assert!(!mail::account_exists(&store, A).unwrap());
        assert!(mail::list(&store, A).unwrap().is_empty());
        assert!(
            mail::changes_since(&store, A, ib, 0, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            mail::message_body(&store, &one).unwrap().is_none(),
            "a body only A held is gone"
        );
        let kept = blob::BlobHash::of(shared.as_bytes());
        assert_eq!(blob::references_in(&store, &kept).unwrap(), 1);
        assert!(
            mail::message_body(&store, &kept).unwrap().is_some(),
            "a body another account holds stays"
        );
        // Running it again finds nothing to do.
        assert_eq!(mail::purge_account(&store, A).await.unwrap(), 0);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn shared_metadata_matches_the_stored_record_with_any_cache_size(place) {
        let raw = "From: a@b.c\r\nTo: d@e.f\r\nSubject: cached\r\n\r\nbody\r\n";
        // Default size, no cache, and a cache too small for any entry.
        for bytes in [64 << 20, 0, 1] {
            let options = StoreOptions {
                meta_cache_bytes: bytes,
                ..StoreOptions::default()
            };
            let store = place.open_with(options);
            store.transact(|t| mail::init_account(t, A)).await.unwrap();
            let ib = inbox(&store);
            put(&store, ib, raw, Flags::empty()).await;
            let rec = mail::message(&store, A, ib, 1).unwrap().unwrap();
            let stored = mail::message_meta(&store, &rec.blob).unwrap().unwrap();
            let first = mail::shared_meta(&store, &rec.blob).unwrap().unwrap();
            let second = mail::shared_meta(&store, &rec.blob).unwrap().unwrap();
            assert_eq!(*first, stored, "cache size {bytes}");
            assert_eq!(*second, stored, "cache size {bytes}");
            assert_eq!(first.envelope.subject.as_deref(), Some("cached"));
            if bytes > 1 {
                assert!(std::sync::Arc::ptr_eq(&first, &second), "kept in memory");
            }
            let unknown = blob::BlobHash([7; 32]);
            assert!(mail::shared_meta(&store, &unknown).unwrap().is_none());
        }
    }
}

on_each_backend! {
    #[tokio::test]
    async fn messages_in_a_uid_range_stop_at_its_end(place) {
        let store = open(&place).await;
        let ib = inbox(&store);
        for i in 0..5 {
            put(
                &store,
                ib,
                &format!("Subject: {i}\r\n\r\nx\r\n"),
                Flags::empty(),
            )
            .await;
        }
        let uids =
            |v: Vec<(u32, mail::MessageRecord)>| v.into_iter().map(|(u, _)| u).collect::<Vec<_>>();
        assert_eq!(
            uids(mail::messages_in(&store, A, ib, 2..=4, 10).unwrap()),
            [2, 3, 4]
        );
        assert_eq!(
            uids(mail::messages_in(&store, A, ib, 2..=4, 2).unwrap()),
            [2, 3]
        );
        assert_eq!(
            uids(mail::messages_in(&store, A, ib, 4..=u32::MAX, 10).unwrap()),
            [4, 5]
        );
        assert!(
            mail::messages_in(&store, A, ib, 6..=9, 10)
                .unwrap()
                .is_empty()
        );
    }
}

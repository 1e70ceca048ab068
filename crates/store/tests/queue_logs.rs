//! The queue schedule and the log records with their indexes.

use marque_store::logs::{self, LogKind, Query, Term};
use marque_store::{TenantId, queue};

#[macro_use]
mod common;

on_each_backend! {
    #[tokio::test]
    async fn queue_orders_by_due_time_and_reschedules(place) {
        let store = place.open();
        let ids = store
            .transact(|t| -> marque_store::Result<Vec<u64>> {
                Ok(vec![
                    queue::enqueue(t, 300, b"c".to_vec())?,
                    queue::enqueue(t, 100, b"a".to_vec())?,
                    queue::enqueue(t, 200, b"b".to_vec())?,
                ])
            })
            .await
            .unwrap();
        let due = queue::due(&store, 250, 10).unwrap();
        assert_eq!(
            due.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        let first = ids[1];
        store
            .transact(move |t| queue::reschedule(t, first, 1000, None))
            .await
            .unwrap();
        assert_eq!(queue::due(&store, 250, 10).unwrap().len(), 1);
        assert_eq!(queue::get(&store, first).unwrap().unwrap().due_ms, 1000);
        let removed = store
            .transact(move |t| queue::remove(t, first))
            .await
            .unwrap();
        assert_eq!(removed.unwrap().payload, b"a");
        assert_eq!(queue::list(&store, 0, 10).unwrap().len(), 2);
        assert!(
            store
                .transact(move |t| queue::reschedule(t, first, 5, None))
                .await
                .is_err()
        );
    }
}

on_each_backend! {
    #[tokio::test]
    async fn logs_are_scoped_searchable_paged_and_purged(place) {
        let store = place.open();
        let (customer, reseller, other) = (TenantId(10), TenantId(2), TenantId(3));
        for i in 0..30u64 {
            let addr = if i % 3 == 0 {
                "Bob@Example.com"
            } else {
                "ann@example.com"
            };
            let body = format!("record {i}");
            store
                .transact(move |t| {
                    logs::append(
                        t,
                        &[customer, reseller],
                        LogKind::Transaction,
                        1_000 + i,
                        &[(Term::Address, addr), (Term::Ip, "192.0.2.7")],
                        body.as_bytes(),
                    )
                })
                .await
                .unwrap();
        }
        let q = |owner, term: Option<(Term, &str)>, after| Query {
            owner,
            kind: LogKind::Transaction,
            term: term.map(|(t, v)| (t, v.to_string())),
            from_ms: 0,
            to_ms: u64::MAX,
            after,
            limit: 4,
        };
        let p = logs::search(
            &store,
            &q(reseller, Some((Term::Address, "bob@example.com")), None),
        )
        .unwrap();
        assert_eq!(p.entries.len(), 4);
        assert_eq!(
            p.entries[0].body, b"record 27",
            "newest first, matched case-insensitively"
        );
        let p2 = logs::search(
            &store,
            &q(reseller, Some((Term::Address, "bob@example.com")), p.next),
        )
        .unwrap();
        assert_eq!(
            p2.entries[0].body, b"record 15",
            "the cursor continues where the page ended"
        );
        assert!(
            logs::search(&store, &q(other, None, None))
                .unwrap()
                .entries
                .is_empty(),
            "other tenants see nothing"
        );
        let window = Query {
            from_ms: 1_010,
            to_ms: 1_012,
            limit: 100,
            ..q(customer, None, None)
        };
        assert_eq!(logs::search(&store, &window).unwrap().entries.len(), 3);
        let removed = logs::purge(&store, LogKind::Transaction, 1_020)
            .await
            .unwrap();
        assert_eq!(removed, 40, "20 old records for each of the two owners");
        let left = logs::search(
            &store,
            &Query {
                limit: 100,
                ..q(customer, Some((Term::Ip, "192.0.2.7")), None)
            },
        )
        .unwrap();
        assert_eq!(
            left.entries.len(),
            10,
            "index entries of purged records are gone too"
        );
    }
}

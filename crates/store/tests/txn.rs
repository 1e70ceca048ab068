//! Transactions: atomicity, compare-and-set, counters, group commit, panics, scans.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use marque_store::{Batch, Direction, Error, Key, Keyspace, Range, Reader};

#[macro_use]
mod common;

fn k(n: u64) -> Vec<u8> {
    Key::new().u64(1).tag(b'x').u64(n).into_bytes()
}

on_each_backend! {
    #[tokio::test]
    async fn failed_transaction_leaves_no_trace(place) {
        let store = place.open();
        let r: Result<(), Error> = store
            .transact(|txn| {
                txn.put(Keyspace::Directory, k(1), b"a".to_vec());
                txn.add(b"c", 5)?;
                Err(Error::Invalid("changed my mind".into()))
            })
            .await;
        assert!(matches!(r, Err(Error::Invalid(_))));
        assert_eq!(store.get(Keyspace::Directory, &k(1)).unwrap(), None);
        assert_eq!(Reader::counter(&store, b"c").unwrap(), 0);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn compare_and_set_batches(place) {
        let store = place.open();
        store
            .write(Batch::new().expect(Keyspace::Directory, k(1), None).put(
                Keyspace::Directory,
                k(1),
                b"v1".to_vec(),
            ))
            .await
            .unwrap();
        // The same precondition now fails and writes nothing.
        let again = store
            .write(Batch::new().expect(Keyspace::Directory, k(1), None).put(
                Keyspace::Directory,
                k(2),
                b"no".to_vec(),
            ))
            .await;
        assert!(matches!(again, Err(Error::Conflict { .. })));
        assert_eq!(store.get(Keyspace::Directory, &k(2)).unwrap(), None);
        store
            .write(
                Batch::new()
                    .expect(Keyspace::Directory, k(1), Some(b"v1".to_vec()))
                    .put(Keyspace::Directory, k(1), b"v2".to_vec())
                    .add(b"n".to_vec(), 1),
            )
            .await
            .unwrap();
        assert_eq!(
            store.get(Keyspace::Directory, &k(1)).unwrap().as_deref(),
            Some(&b"v2"[..])
        );
    }
}

on_each_backend! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_increments_are_serializable(place) {
        let store = place.open();
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..20 {
                    // Read-modify-write through a plain value: lost updates would show.
                    s.transact(|txn| -> marque_store::Result<()> {
                        let v = txn
                            .get_value::<u64>(Keyspace::Directory, &k(9))?
                            .unwrap_or(0);
                        txn.put_value(Keyspace::Directory, k(9), &(v + 1))
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            store.get_value::<u64>(Keyspace::Directory, &k(9)).unwrap(),
            Some(64 * 20)
        );
    }
}

on_each_backend! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn limits_hold_under_concurrency(place) {
        let store = place.open();
        let won = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let s = store.clone();
            let won = won.clone();
            tasks.push(tokio::spawn(async move {
                let r = s
                    .transact(|txn| txn.add_within(b"credit-used", 3, 30, "credit"))
                    .await;
                match r {
                    Ok(_) => {
                        won.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(Error::LimitExceeded { limit: 30, .. }) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(won.load(Ordering::SeqCst), 10);
        assert_eq!(Reader::counter(&store, b"credit-used").unwrap(), 30);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn a_panicking_transaction_is_an_error_and_the_store_goes_on(place) {
        let store = place.open();
        let r: Result<(), Error> = store
            .transact(|txn| {
                txn.put(Keyspace::Directory, k(3), b"x".to_vec());
                panic!("bug in a transaction");
            })
            .await;
        assert!(matches!(r, Err(Error::Aborted(_))));
        assert_eq!(store.get(Keyspace::Directory, &k(3)).unwrap(), None);
        store
            .transact(|txn| -> marque_store::Result<()> {
                txn.put(Keyspace::Directory, k(4), b"y".to_vec());
                Ok(())
            })
            .await
            .unwrap();
        assert!(store.get(Keyspace::Directory, &k(4)).unwrap().is_some());
    }
}

on_each_backend! {
    #[tokio::test]
    async fn scans_inside_a_transaction_see_its_own_writes(place) {
        let store = place.open();
        store
            .transact(|txn| -> marque_store::Result<()> {
                for n in 0..5 {
                    txn.put(Keyspace::Directory, k(n), vec![n as u8]);
                }
                Ok(())
            })
            .await
            .unwrap();
        let seen = store
            .transact(|txn| -> marque_store::Result<Vec<u8>> {
                txn.delete(Keyspace::Directory, k(1));
                txn.put(Keyspace::Directory, k(7), vec![7]);
                let prefix = Key::new().u64(1).tag(b'x').into_bytes();
                let fwd = txn.scan(
                    Keyspace::Directory,
                    &Range::prefix(&prefix),
                    Direction::Forward,
                    10,
                )?;
                let rev = txn.scan(
                    Keyspace::Directory,
                    &Range::prefix(&prefix),
                    Direction::Reverse,
                    2,
                )?;
                assert_eq!(
                    rev.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
                    vec![7, 4]
                );
                Ok(fwd.into_iter().map(|(_, v)| v[0]).collect())
            })
            .await
            .unwrap();
        assert_eq!(seen, vec![0, 2, 3, 4, 7]);
    }
}

on_each_backend! {
    #[tokio::test]
    async fn ids_are_unique_and_survive_reopen(place) {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let store = place.open();
            for _ in 0..3 {
                seen.push(store.transact(|txn| txn.next_id("t")).await.unwrap());
            }
        }
        assert_eq!(seen, vec![1, 2, 3, 4, 5, 6]);
    }
}

on_each_backend! {
    #[test]
    fn blocking_callers_work_outside_a_runtime(place) {
        let store = place.open();
        store
            .write_blocking(Batch::new().put(Keyspace::Meta, b"m".to_vec(), b"1".to_vec()))
            .unwrap();
        assert!(store.get(Keyspace::Meta, b"m").unwrap().is_some());
    }
}

on_each_backend! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_share_fsyncs(place) {
        let store = place.open();
        let before = store.commit_stats();
        let mut tasks = Vec::new();
        for w in 0..64u64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..10u64 {
                    s.transact(move |txn| -> marque_store::Result<()> {
                        txn.put(Keyspace::Directory, k(w * 100 + n), vec![1]);
                        Ok(())
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let after = store.commit_stats();
        let (txns, groups) = (
            after.transactions - before.transactions,
            after.groups - before.groups,
        );
        assert_eq!(txns, 640);
        println!("640 durable transactions from 64 writers took {groups} group writes (fsyncs)");
        assert!(
            groups < txns / 2,
            "{groups} fsyncs for {txns} transactions: writers did not share them"
        );
    }
}

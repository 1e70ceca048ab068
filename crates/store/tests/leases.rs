//! Leases in the store: taken by one holder at a time, renewed by their holder, free again
//! when they run out; queue entries claimed under them; a restarted node handing back only its
//! own earlier runs' leases; and, on PostgreSQL, two store handles on one database (two
//! processes, as far as the store can tell) that never both hold one lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use marque_store::lease::{self, Holder, NamedLease, Take, scope};
use marque_store::{Store, queue};

#[macro_use]
mod common;

use common::{Engine, Place};

async fn take(store: &Store, name: &'static [u8], h: &Holder, now: u64, ttl: u64) -> Take {
    let h = h.clone();
    store
        .transact(move |t| lease::take(t, scope::TASK, name, &h, now, ttl))
        .await
        .unwrap()
}

on_each_backend! {
    #[tokio::test]
    async fn a_lease_has_one_holder_until_it_runs_out(place) {
        let store = place.open();
        let (a, b) = (Holder::start("node-a"), Holder::start("node-b"));
        let held = take(&store, b"purge", &a, 1_000, 500).await;
        assert_eq!(
            held,
            Take::Held(lease::Lease { holder: a.clone(), expires_ms: 1_500 })
        );
        // Another holder waits while it is live; the holder renews it.
        assert!(matches!(take(&store, b"purge", &b, 1_499, 500).await, Take::Busy(l) if l.holder == a));
        assert!(take(&store, b"purge", &a, 1_400, 500).await.is_held());
        assert!(!take(&store, b"purge", &b, 1_899, 500).await.is_held());
        // Run out: anyone takes it, and the old holder no longer holds it.
        assert!(take(&store, b"purge", &b, 1_900, 500).await.is_held());
        assert!(!lease::holds(&store, scope::TASK, b"purge", &a).unwrap());
        assert!(lease::holds(&store, scope::TASK, b"purge", &b).unwrap());
        // Only the holder releases it.
        let a2 = a.clone();
        assert!(!store
            .transact(move |t| lease::release(t, scope::TASK, b"purge", &a2))
            .await
            .unwrap());
        let b2 = b.clone();
        assert!(store
            .transact(move |t| lease::release(t, scope::TASK, b"purge", &b2))
            .await
            .unwrap());
        assert!(lease::get(&store, scope::TASK, b"purge").unwrap().is_none());
        // `acquire` is exclusive even for the holder itself (a lock two sessions must not share).
        let a3 = a.clone();
        let first = store
            .transact(move |t| lease::acquire(t, scope::POP3, b"7", &a3, 10, 100))
            .await
            .unwrap();
        assert!(first.is_held());
        let a4 = a.clone();
        let second = store
            .transact(move |t| lease::acquire(t, scope::POP3, b"7", &a4, 20, 100))
            .await
            .unwrap();
        assert!(!second.is_held());
        // Scopes are apart: the same name in another scope is another lease.
        assert!(lease::get(&store, scope::TASK, b"7").unwrap().is_none());
    }
}

/// Three entries due at 100; returns their ids.
async fn three_entries(store: &Store) -> Vec<u64> {
    store
        .transact(|t| -> marque_store::Result<Vec<u64>> {
            (0..3).map(|i| queue::enqueue(t, 100, vec![i])).collect()
        })
        .await
        .unwrap()
}

async fn claim(store: &Store, h: &Holder, now: u64, lease_ms: u64) -> Vec<u64> {
    let h = h.clone();
    store
        .transact(move |t| queue::claim_due(t, now, &h, lease_ms, 10))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

on_each_backend! {
    #[tokio::test]
    async fn queue_entries_are_claimed_by_one_holder_and_handed_back_by_their_node(place) {
        let store = place.open();
        let ids = three_entries(&store).await;
        let (a, b) = (Holder::start("node-a"), Holder::start("node-b"));
        assert_eq!(claim(&store, &a, 200, 1_000).await, ids);
        // While A's leases hold, B claims nothing, and A's claims are not due again.
        assert!(claim(&store, &b, 1_199, 1_000).await.is_empty());
        assert!(claim(&store, &a, 1_199, 1_000).await.is_empty());
        assert!(queue::holds(&store, ids[0], &a).unwrap());
        // An administrator's retry makes an entry due, but B still cannot take it from A: it
        // moves to the end of A's lease.
        let first = ids[0];
        store
            .transact(move |t| queue::reschedule(t, first, 300, None))
            .await
            .unwrap();
        assert!(claim(&store, &b, 400, 1_000).await.is_empty());
        assert_eq!(queue::get(&store, first).unwrap().unwrap().due_ms, 1_200);
        // A runs out of time (its process died, say): B takes the entries over, and A holds
        // them no longer, so whatever A would record now is dropped.
        assert_eq!(claim(&store, &b, 1_200, 1_000).await, ids);
        assert!(!queue::holds(&store, ids[0], &a).unwrap());
        assert!(queue::holds(&store, ids[0], &b).unwrap());
        // B finishes one entry: removing it removes its lease.
        let last = ids[2];
        store.transact(move |t| queue::remove(t, last)).await.unwrap();
        assert!(lease::get(&store, scope::QUEUE, &last.to_be_bytes()).unwrap().is_none());

        // B's node restarts: its new run hands back what B held, and only that.
        let other = Holder::start("node-c");
        let c_claims = store
            .transact({
                let other = other.clone();
                move |t| -> marque_store::Result<Vec<u64>> {
                    let id = queue::enqueue(t, 100, b"c".to_vec())?;
                    queue::claim_due(t, 1_300, &other, 60_000, 10)?;
                    Ok(vec![id])
                }
            })
            .await
            .unwrap();
        let b_again = Holder::start("node-b");
        assert_eq!(b_again.node, b.node);
        let released = {
            let b_again = b_again.clone();
            store
                .transact(move |t| queue::release_stale(t, &b_again, None, 100, 6_000))
                .await
                .unwrap()
        };
        assert_eq!(released.1, 2, "B's two entries");
        assert!(queue::holds(&store, c_claims[0], &other).unwrap(), "C's stays C's");
        assert_eq!(queue::get(&store, ids[0]).unwrap().unwrap().due_ms, 6_000);
        // The current run's own leases are not stale.
        assert_eq!(claim(&store, &b_again, 6_000, 1_000).await, ids[..2].to_vec());
        let none = store
            .transact(move |t| queue::release_stale(t, &b_again, None, 100, 6_500))
            .await
            .unwrap();
        assert_eq!(none.1, 0);
    }
}

/// Two store handles on one PostgreSQL database, as two processes have.
fn two_nodes() -> (Place, Store, Store) {
    let place = Place::new(Engine::Postgres);
    let (one, two) = (place.open(), place.open());
    (place, one, two)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_both_hold_a_queue_entry() {
    let (_place, one, two) = two_nodes();
    let ids = three_entries(&one).await;
    let (a, b) = (Holder::start("node-a"), Holder::start("node-b"));
    let now = marque_store::now_ms();
    assert_eq!(claim(&one, &a, now, 600).await, ids);
    assert!(
        claim(&two, &b, marque_store::now_ms(), 600)
            .await
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(claim(&two, &b, marque_store::now_ms(), 60_000).await, ids);
    assert!(!queue::holds(&one, ids[0], &a).unwrap());
    // Both race for one new entry: exactly one of them gets it.
    let id = one
        .transact(|t| queue::enqueue(t, 0, b"raced".to_vec()))
        .await
        .unwrap();
    let (x, y) = tokio::join!(
        claim(&one, &a, marque_store::now_ms(), 60_000),
        claim(&two, &b, marque_store::now_ms(), 60_000)
    );
    assert_eq!(x.len() + y.len(), 1, "{x:?} {y:?}");
    assert!([x, y].concat() == vec![id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_periodic_task_runs_on_one_node_and_fails_over() {
    let (_place, one, two) = two_nodes();
    let ttl = Duration::from_millis(900);
    let nodes = [
        NamedLease::task(&one, "dns-checks", &Holder::start("node-a"), ttl),
        NamedLease::task(&two, "dns-checks", &Holder::start("node-b"), ttl),
    ];
    let rounds: [Arc<AtomicUsize>; 2] = Default::default();
    let both = Arc::new(AtomicUsize::new(0));
    let mut keepers = Vec::new();
    let mut loops = Vec::new();
    for (i, lease) in nodes.iter().enumerate() {
        keepers.push(tokio::spawn(lease.clone().keep(std::future::pending())));
        // The shape of every periodic task: wait to hold the lease, run a round, sleep.
        let (lease, count) = (lease.clone(), rounds[i].clone());
        loops.push(tokio::spawn(async move {
            loop {
                NamedLease::until_held(Some(&lease)).await;
                count.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    let sampler = {
        let (x, y, both) = (nodes[0].clone(), nodes[1].clone(), both.clone());
        tokio::spawn(async move {
            loop {
                if x.is_held() && y.is_held() {
                    both.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let first = rounds.iter().position(|r| r.load(Ordering::SeqCst) > 0);
    let first = first.expect("some node runs the task");
    let other = 1 - first;
    assert_eq!(
        rounds[other].load(Ordering::SeqCst),
        0,
        "one node at a time"
    );
    // The holder dies: its keeper and its task stop, nothing is given back.
    keepers[first].abort();
    loops[first].abort();
    let before = rounds[other].load(Ordering::SeqCst);
    assert_eq!(before, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while rounds[other].load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no take-over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(both.load(Ordering::SeqCst), 0, "never held by both");
    sampler.abort();
    for t in keepers.iter().chain(&loops) {
        t.abort();
    }
    // A live heartbeat lists the node.
    let h = Holder::start("node-z");
    let beat = NamedLease::heartbeat(&one, &h, Duration::from_secs(30));
    assert!(beat.try_take().await.unwrap().is_held());
    let live = lease::live_nodes(&two, marque_store::now_ms()).unwrap();
    assert!(live.contains(&h), "{live:?}");
}

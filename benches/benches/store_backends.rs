//! RocksDB against PostgreSQL, side by side in one run: durable message inserts per second
//! through the store's group commit (8 and 64 concurrent writers, 4 KB messages, fsync on), and
//! the latency of reading one message (record and body) from a single thread. Rounds alternate
//! (RocksDB, PostgreSQL, RocksDB, ...) so that drift on a shared machine hits both alike; the
//! medians and the PostgreSQL/RocksDB ratios are printed, with how many transactions one group
//! commit (one writer-lock acquisition on PostgreSQL) carried.
//!
//! PostgreSQL is a throwaway local cluster on loopback with default settings (fsync and
//! synchronous_commit on), or the server `MARQUE_TEST_POSTGRES_URL` names.
//!
//! Run: `cargo bench -p marque-benches --bench store_backends` (`ROUNDS=`, `SECONDS=`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use marque_store::counters::Owner;
use marque_store::mail::{self, AppendOptions, Charge, PreparedMessage};
use marque_store::{
    AccountId, BackendKind, CommitStats, MailboxId, PostgresOptions, Store, StoreOptions,
};

const MESSAGE_SIZE: usize = 4096;
const WRITERS: [usize; 2] = [8, 64];
const READS: usize = 2000;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn message(writer: usize, n: u64) -> Vec<u8> {
    let mut s = format!(
        "From: w{writer}@bench.example\r\nTo: someone@bench.example\r\nSubject: message {n}\r\n\
         Message-ID: <{writer}.{n}@bench.example>\r\n\r\n"
    );
    let mut x = (writer as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n;
    while s.len() < MESSAGE_SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("word{} ", x % 512));
    }
    s.truncate(MESSAGE_SIZE);
    s.into_bytes()
}

struct Target {
    name: &'static str,
    store: Store,
    inboxes: Vec<MailboxId>,
    written: Arc<AtomicU64>,
}

async fn target(name: &'static str, store: Store) -> Target {
    let mut inboxes = Vec::new();
    for w in 0..*WRITERS.iter().max().unwrap_or(&1) {
        let a = AccountId(w as u64 + 1);
        store
            .transact(move |t| mail::init_account(t, a))
            .await
            .expect("account");
        let s = store.clone();
        let inbox = tokio::task::spawn_blocking(move || {
            mail::mailbox_by_name(&s, a, "INBOX")
                .expect("read")
                .expect("INBOX")
                .id
        })
        .await
        .expect("inbox");
        inboxes.push(inbox);
    }
    Target {
        name,
        store,
        inboxes,
        written: Arc::new(AtomicU64::new(0)),
    }
}

/// Inserts for `secs` with `writers` concurrent writers: messages per second, and the
/// transactions per group commit.
async fn insert_round(t: &Target, writers: usize, secs: f64) -> (f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let before = t.store.commit_stats();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, stop, written) = (t.store.clone(), stop.clone(), t.written.clone());
        let inbox = t.inboxes[w];
        tasks.push(tokio::spawn(async move {
            let account = AccountId(w as u64 + 1);
            let charge = vec![Charge {
                owner: Owner::Account(account),
                limit: Some(i64::MAX),
                name: "quota".into(),
            }];
            while !stop.load(Ordering::Relaxed) {
                let n = written.fetch_add(1, Ordering::Relaxed);
                let msg = PreparedMessage::new(&store, &message(w, n)).expect("prepare");
                let charge = charge.clone();
                store
                    .transact(move |tx| {
                        mail::append(tx, account, inbox, &msg, &AppendOptions::default(), &charge)
                    })
                    .await
                    .expect("append");
            }
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("writer");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let after = t.store.commit_stats();
    let d = |a: CommitStats, b: CommitStats| {
        (
            (a.transactions - b.transactions) as f64,
            (a.groups - b.groups).max(1) as f64,
        )
    };
    let (txns, groups) = d(after, before);
    (txns / elapsed, txns / groups)
}

/// Median latency of reading one random message (record, then body) from one thread, in µs.
fn read_latency(t: &Target) -> f64 {
    let inbox = t.inboxes[0];
    let a = AccountId(1);
    let last = mail::mailbox(&t.store, a, inbox).expect("mailbox").uidnext;
    let mut x = 7u64;
    let mut times = Vec::with_capacity(READS);
    for _ in 0..READS {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let uid = 1 + ((x >> 17) as u32 % (last - 1).max(1));
        let start = Instant::now();
        if let Some(rec) = mail::message(&t.store, a, inbox, uid).expect("read") {
            let body = mail::message_body(&t.store, &rec.blob)
                .expect("body")
                .expect("present");
            assert_eq!(body.len() as u64, rec.size);
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    median(times)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let rounds = env_or("ROUNDS", 3) as usize;
    let secs = env_or("SECONDS", 3) as f64;
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    println!(
        "store backends: {rounds} alternating rounds of {secs} s, 4 KB messages, fsync on, \
         profile {profile}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let rocks = Store::open(dir.path(), StoreOptions::default()).expect("open RocksDB");
    let database = marque_tests::postgres::database();
    let pg_options = StoreOptions {
        backend: BackendKind::Postgres(PostgresOptions {
            url: database.url().to_string(),
            pool_size: 16,
            ca_file: None,
        }),
        ..StoreOptions::default()
    };
    let pg = Store::open(dir.path(), pg_options).expect("open PostgreSQL");
    let targets = [
        target("RocksDB", rocks).await,
        target("PostgreSQL", pg).await,
    ];

    for writers in WRITERS {
        let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut per_group: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for (i, t) in targets.iter().enumerate() {
                let (rate, txg) = insert_round(t, writers, secs).await;
                println!(
                    "  round {round} {:<10} {writers:2} writers: {rate:8.0} inserts/s, \
                     {txg:5.1} per group commit",
                    t.name
                );
                rates[i].push(rate);
                per_group[i].push(txg);
            }
        }
        let (r, p) = (median(rates[0].clone()), median(rates[1].clone()));
        println!(
            "inserts/s, {writers} writers: RocksDB {r:.0}, PostgreSQL {p:.0} \
             (PostgreSQL/RocksDB {:.2}); per group commit {:.1} / {:.1}",
            p / r.max(f64::MIN_POSITIVE),
            median(per_group[0].clone()),
            median(per_group[1].clone())
        );
    }

    let mut lat: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, t) in targets.iter().enumerate() {
            let s = t.store.clone();
            let inboxes = t.inboxes.clone();
            let name = t.name;
            let written = t.written.clone();
            let us = tokio::task::spawn_blocking(move || {
                read_latency(&Target {
                    name,
                    store: s,
                    inboxes,
                    written,
                })
            })
            .await
            .expect("reader");
            lat[i].push(us);
        }
    }
    let (r, p) = (median(lat[0].clone()), median(lat[1].clone()));
    println!(
        "read of one message (record + body), median latency: RocksDB {r:.1} µs, PostgreSQL \
         {p:.1} µs (PostgreSQL/RocksDB {:.1})",
        p / r.max(f64::MIN_POSITIVE)
    );
}

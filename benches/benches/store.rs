//! Store benchmark: durable message inserts per second (4 KB messages; 1, 8 and 64 concurrent
//! writers) with the WAL fsynced before each acknowledgement, and the same with fsync off, run
//! side by side (on, off, on, off...) so that drift on a shared machine hits both alike; then
//! message reads per second. Prints medians and the off/on ratio.
//!
//! An insert here is what delivery does: hash, compress and parse the message, then one
//! transaction that stores the body, the folder entry, the usage counter and the change log.
//!
//! Run: `cargo bench -p marque-benches --bench store` (`ROUNDS=` and `SECONDS=` to change the
//! number and length of rounds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use marque_store::counters::Owner;
use marque_store::mail::{self, AppendOptions, Charge, PreparedMessage};
use marque_store::{AccountId, Durability, MailboxId, Store, StoreOptions};

const MESSAGE_SIZE: usize = 4096;
const WRITERS: [usize; 3] = [1, 8, 64];
const READERS: [usize; 1] = [8];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A 4 KB message of varied words, so compression behaves as on real text.
fn message(writer: usize, n: u64) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "invoice",
        "meeting",
        "tomorrow",
        "quarterly",
        "report",
        "attached",
        "please",
        "review",
        "regards",
        "server",
        "backup",
        "holiday",
        "schedule",
        "customer",
        "domain",
        "mailbox",
    ];
    let mut s = format!(
        "From: writer{writer}@bench.example\r\nTo: someone@bench.example\r\nSubject: message {n}\r\nMessage-ID: <{writer}.{n}@bench.example>\r\n\r\n"
    );
    let mut x = (writer as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n;
    while s.len() < MESSAGE_SIZE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(WORDS[(x % 16) as usize]);
        s.push(if x.is_multiple_of(11) { '\n' } else { ' ' });
    }
    s.truncate(MESSAGE_SIZE);
    s.into_bytes()
}

struct Target {
    store: Store,
    _dir: tempfile::TempDir,
    inboxes: Vec<MailboxId>,
    written: Arc<AtomicU64>,
}

async fn target(durability: Durability, writers: usize) -> Target {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    let store = Store::open(dir.path(), opts).expect("open");
    let mut inboxes = Vec::new();
    for w in 0..writers {
        let a = AccountId(w as u64 + 1);
        store
            .transact(move |t| mail::init_account(t, a))
            .await
            .expect("account");
        inboxes.push(
            mail::mailbox_by_name(&store, a, "INBOX")
                .expect("read")
                .expect("INBOX")
                .id,
        );
    }
    Target {
        store,
        _dir: dir,
        inboxes,
        written: Arc::new(AtomicU64::new(0)),
    }
}

/// Inserts for `secs` with `writers` concurrent writers; returns messages per second.
async fn insert_round(t: &Target, writers: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, stop, done, written) = (
            t.store.clone(),
            stop.clone(),
            done.clone(),
            t.written.clone(),
        );
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
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("writer");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Reads random messages (record and body) for `secs` with `readers` threads.
fn read_round(t: &Target, readers: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut pool = Vec::new();
    for (w, &inbox) in t.inboxes.iter().enumerate() {
        let a = AccountId(w as u64 + 1);
        let last = mail::mailbox(&t.store, a, inbox).expect("mailbox").uidnext;
        if last > 1 {
            pool.push((a, inbox, last - 1));
        }
    }
    let pool = Arc::new(pool);
    let start = Instant::now();
    let threads: Vec<_> = (0..readers)
        .map(|r| {
            let (store, stop, done, pool) =
                (t.store.clone(), stop.clone(), done.clone(), pool.clone());
            std::thread::spawn(move || {
                let mut x = r as u64 + 7;
                while !stop.load(Ordering::Relaxed) {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let (a, inbox, max) = pool[(x >> 33) as usize % pool.len()];
                    let uid = 1 + ((x >> 17) as u32 % max);
                    if let Some(rec) = mail::message(&store, a, inbox, uid).expect("read") {
                        let body = mail::message_body(&store, &rec.blob)
                            .expect("body")
                            .expect("present");
                        assert_eq!(body.len() as u64, rec.size);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().expect("reader");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let rounds = env_or("ROUNDS", 5) as usize;
    let secs = env_or("SECONDS", 2) as f64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "store benchmark: {MESSAGE_SIZE}-byte messages, {rounds} rounds of {secs} s each, fsync on and off alternating"
    );
    println!(
        "{:>8} {:>18} {:>18} {:>10} {:>14}",
        "writers", "fsync on msg/s", "fsync off msg/s", "off/on", "msgs per fsync"
    );
    let mut read_target = None;
    for writers in WRITERS {
        let (on, off, per_fsync) = rt.block_on(async {
            let on_t = target(Durability::Sync, writers).await;
            let off_t = target(Durability::NoSync, writers).await;
            let (mut on, mut off) = (Vec::new(), Vec::new());
            let before = on_t.store.commit_stats();
            for _ in 0..rounds {
                on.push(insert_round(&on_t, writers, secs).await);
                off.push(insert_round(&off_t, writers, secs).await);
            }
            let after = on_t.store.commit_stats();
            let groups = (after.groups - before.groups).max(1);
            let per_fsync = (after.transactions - before.transactions) as f64 / groups as f64;
            if writers == *WRITERS.last().expect("writers") {
                read_target = Some(on_t);
            }
            (median(on), median(off), per_fsync)
        });
        println!(
            "{writers:>8} {on:>18.0} {off:>18.0} {:>10.2} {per_fsync:>14.1}",
            off / on
        );
    }
    if let Some(t) = read_target {
        for readers in READERS {
            let reads: Vec<f64> = (0..rounds).map(|_| read_round(&t, readers, secs)).collect();
            println!(
                "reads: {readers} threads, {} messages stored: median {:.0} reads/s (record + {MESSAGE_SIZE}-byte body)",
                t.written.load(Ordering::Relaxed),
                median(reads)
            );
        }
    }
}

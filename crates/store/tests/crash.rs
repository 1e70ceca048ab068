//! Crash test: a child process writes transactions from several threads and prints each one
//! the store acknowledged; the parent kills it with SIGKILL at a random moment, reopens the
//! store and checks that every acknowledged transaction is there whole and that no transaction
//! is there in part. Many rounds on the same data directory, then the same on a PostgreSQL
//! database (where the killed child may hold the cluster-wide writer lock: the server must roll
//! its transaction back and hand the lock to the next process).
//!
//! Each transaction writes `KEYS` generic keys, bumps a counter, and appends a message to a
//! folder with a quota charge, so the mail model's own invariants (folder counts, usage
//! counter, body reference counts) are checked too.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marque_store::counters::{self, Metric, Owner};
use marque_store::mail::{self, AppendOptions, Charge, PreparedMessage};
use marque_store::{
    AccountId, BackendKind, Direction, Key, Keyspace, PostgresOptions, Range, Reader, Store,
    StoreOptions,
};
use marque_tests::process::Watched;
use rand::Rng;

const KEYS: u8 = 5;
const THREADS: usize = 8;
const ROUNDS: usize = 25;
const ACCOUNT: AccountId = AccountId(7);
const CHILD_ENV: &str = "MARQUE_CRASH_CHILD_DIR";
/// Set for a child writing to PostgreSQL: the database URL.
const CHILD_URL_ENV: &str = "MARQUE_CRASH_CHILD_URL";

/// The store options for the backend under test: RocksDB, or the database at `url`.
fn options(url: Option<&str>) -> StoreOptions {
    let backend = match url {
        None => BackendKind::RocksDb,
        Some(url) => BackendKind::Postgres(PostgresOptions {
            url: url.to_string(),
            pool_size: THREADS + 2,
            ca_file: None,
        }),
    };
    StoreOptions {
        backend,
        ..StoreOptions::default()
    }
}

fn batch_key(batch: u64, i: u8) -> Vec<u8> {
    Key::new().tag(b'c').u64(batch).tag(i).into_bytes()
}

fn total_key() -> Vec<u8> {
    Key::new().tag(b'c').tag(b'T').into_bytes()
}

fn usage_charge() -> Charge {
    Charge {
        owner: Owner::Account(ACCOUNT),
        limit: None,
        name: "crash test usage".into(),
    }
}

fn child(dir: &Path, url: Option<&str>) {
    let store = Store::open(dir, options(url)).expect("child opens the store");
    store
        .transact_blocking(|txn| mail::init_account(txn, ACCOUNT))
        .expect("account");
    let inbox = mail::mailbox_by_name(&store, ACCOUNT, "INBOX")
        .expect("read")
        .expect("INBOX")
        .id;
    let out = Arc::new(Mutex::new(std::io::stdout()));
    println!("ready");
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                for n in 0u64.. {
                    // Bodies repeat across threads so that deduplication is exercised.
                    let raw = format!("Subject: crash {t}\r\n\r\nbody {}\r\n", n % 7)
                        .repeat(1 + (n % 3) as usize * 40);
                    let msg = PreparedMessage::new(&store, raw.as_bytes()).expect("prepare");
                    let batch = store
                        .transact_blocking(move |txn| -> marque_store::Result<u64> {
                            let batch = txn.next_id("crash-batch")?;
                            for i in 0..KEYS {
                                txn.put(
                                    Keyspace::Directory,
                                    batch_key(batch, i),
                                    batch.to_be_bytes().to_vec(),
                                );
                            }
                            txn.add(&total_key(), 1)?;
                            mail::append(
                                txn,
                                ACCOUNT,
                                inbox,
                                &msg,
                                &AppendOptions::default(),
                                &[usage_charge()],
                            )?;
                            Ok(batch)
                        })
                        .expect("transaction");
                    let mut o = out.lock().expect("stdout");
                    writeln!(o, "ack {batch}").expect("write");
                    o.flush().expect("flush");
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}

/// Checks the store; returns the set of whole batches found.
fn verify(dir: &Path, url: Option<&str>, acked: &HashSet<u64>) -> Result<usize, String> {
    let store = Store::open(dir, options(url)).map_err(|e| format!("reopen: {e}"))?;
    let prefix = Key::new().tag(b'c').into_bytes();
    let mut batches: BTreeMap<u64, u8> = BTreeMap::new();
    for (k, v) in store
        .scan(
            Keyspace::Directory,
            &Range::prefix(&prefix),
            Direction::Forward,
            usize::MAX,
        )
        .map_err(|e| e.to_string())?
    {
        let batch = u64::from_be_bytes(k[1..9].try_into().map_err(|_| "key")?);
        if v != batch.to_be_bytes() {
            return Err(format!("batch {batch}: wrong value"));
        }
        *batches.entry(batch).or_default() += 1;
    }
    for (b, n) in &batches {
        if *n != KEYS {
            return Err(format!("batch {b} is partial: {n} of {KEYS} keys"));
        }
    }
    let missing: Vec<_> = acked.iter().filter(|b| !batches.contains_key(b)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} acknowledged batches lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    let total = store.counter(&total_key()).map_err(|e| e.to_string())?;
    if total != batches.len() as i64 {
        return Err(format!(
            "counter says {total} batches, {} found",
            batches.len()
        ));
    }
    // Mail model: one message per batch, folder counters and usage agree with the records.
    if batches.is_empty() {
        return Ok(0);
    }
    let inbox = mail::mailbox_by_name(&store, ACCOUNT, "INBOX")
        .map_err(|e| e.to_string())?
        .ok_or("no INBOX")?;
    let msgs =
        mail::messages(&store, ACCOUNT, inbox.id, 1, usize::MAX).map_err(|e| e.to_string())?;
    if msgs.len() != batches.len() || inbox.messages as usize != msgs.len() {
        return Err(format!(
            "{} batches but {} messages ({} in the folder record)",
            batches.len(),
            msgs.len(),
            inbox.messages
        ));
    }
    let size: u64 = msgs.iter().map(|(_, m)| m.size).sum();
    let used = store
        .counter(&counters::key(Owner::Account(ACCOUNT), Metric::StorageUsed))
        .map_err(|e| e.to_string())?;
    if inbox.size != size || used != size as i64 {
        return Err(format!(
            "sizes disagree: records {size}, folder {}, counter {used}",
            inbox.size
        ));
    }
    let mut refs: BTreeMap<_, i64> = BTreeMap::new();
    for (_, m) in &msgs {
        *refs.entry(m.blob).or_default() += 1;
    }
    for (hash, n) in refs {
        let stored = marque_store::blob::references_in(&store, &hash).map_err(|e| e.to_string())?;
        if stored != n {
            return Err(format!(
                "body {hash:?}: {n} messages but {stored} references"
            ));
        }
        if mail::message_body(&store, &hash)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!("body {hash:?} missing"));
        }
    }
    if inbox.uidnext as usize <= msgs.last().map(|(u, _)| *u as usize).unwrap_or(0) {
        return Err("UIDNEXT not above the last UID".into());
    }
    Ok(batches.len())
}

fn parent(url: Option<&str>) -> Result<(), String> {
    let engine = if url.is_some() {
        "PostgreSQL"
    } else {
        "RocksDB"
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut rng = rand::rng();
    let mut acked_all: HashSet<u64> = HashSet::new();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let mut cmd = Command::new(&exe);
        cmd.env(CHILD_ENV, dir.path()).stderr(Stdio::inherit());
        if let Some(url) = url {
            cmd.env(CHILD_URL_ENV, url);
        }
        let mut child = Watched::spawn(&mut cmd).map_err(|e| e.to_string())?;
        if child.line(Duration::from_secs(60)).as_deref() != Some("ready") {
            return Err(format!("round {round}: child never became ready"));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(20..400)));
        child.kill().map_err(|e| e.to_string())?; // SIGKILL
        let new: Vec<u64> = child
            .rest()
            .iter()
            .filter_map(|line| line.strip_prefix("ack ")?.parse().ok())
            .collect();
        acked_all.extend(new.iter().copied());
        let found =
            verify(dir.path(), url, &acked_all).map_err(|e| format!("round {round}: {e}"))?;
        println!(
            "{engine} round {round:2}: {:5} acknowledged this round, {:6} acknowledged in all, {:6} whole batches on disk, none partial",
            new.len(),
            acked_all.len(),
            found
        );
    }
    if acked_all.is_empty() {
        return Err("no transaction was ever acknowledged: the test proved nothing".into());
    }
    println!(
        "crash test on {engine}: {ROUNDS} SIGKILL rounds in {:.1}s, {} acknowledged transactions all found whole",
        started.elapsed().as_secs_f64(),
        acked_all.len()
    );
    Ok(())
}

fn main() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let url = std::env::var(CHILD_URL_ENV).ok();
        child(Path::new(&dir), url.as_deref());
        return;
    }
    let (mut passed, mut failed) = (0, 0);
    let rocks = parent(None);
    let database = marque_tests::postgres::database();
    let postgres = parent(Some(database.url()));
    for (engine, result) in [("RocksDB", rocks), ("PostgreSQL", postgres)] {
        match result {
            Ok(()) => passed += 1,
            Err(e) => {
                eprintln!("crash test on {engine} FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

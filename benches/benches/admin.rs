//! Admin API benchmark.
//!
//! 1. Bulk creation of mailboxes: `MAILBOXES` (10,000) through `POST /api/v1/mailboxes/bulk`
//!    over HTTP (curl, JSON, batches of `BATCH` = 1,000 rows) side by side with the same number
//!    created in-process through the core (`Core::create_mailbox`, what the endpoint calls per
//!    row), alternating (API, core, API, core...) for `ROUNDS` rounds, each on a fresh domain.
//!    Prints seconds and mailboxes per second, medians, and the API/core ratio. Passwords are
//!    hashed with the cheap test cost (`HashCost::insecure_for_tests`), so the figures are the
//!    platform's own cost; with the production Argon2 cost, hashing dominates bulk creation.
//! 2. Transaction log search: `RECORDS` (1,000,000) transaction records written directly
//!    through the store's log API in transactions of 10,000, then `QUERIES` searches of each
//!    kind (by address, by IP, by message-id, by a one-hour date range; first page of 100, as
//!    `GET /api/v1/logs/transactions` runs them), the kinds interleaved; prints p50 and p99.
//!
//! Run: `cargo bench -p marque-benches --bench admin --profile dev`
//! (`MAILBOXES=`, `BATCH=`, `ROUNDS=`, `RECORDS=`, `QUERIES=` to change the sizes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use marque_admin::{Api, Settings};
use marque_core::{Actor, Core, HashCost, NewMailbox, PROVIDER, TenantId};
use marque_session::{Listener, Shutdown, serve};
use marque_store::logs::{self, LogKind, Query, Term};
use marque_store::{Store, StoreOptions};

const TOKEN: &str = "benchmark-provider-token";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// POSTs a JSON body with curl (through stdin: it is large); returns the answer.
fn post(url: &str, body: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "600", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
            url,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl must be installed (Debian package curl)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("request body");
    let out = child.wait_with_output().expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn domain(core: &Core, name: &str) {
    core.create_domain(
        &Actor::operator(),
        marque_core::NewDomain {
            name: name.into(),
            tenant: PROVIDER,
            ..marque_core::NewDomain::default()
        },
    )
    .await
    .expect("domain");
}

async fn bulk_over_http(core: &Core, base: &str, round: u64, n: u64, batch: u64) -> f64 {
    let d = format!("api{round}.bench.example");
    domain(core, &d).await;
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let rows: Vec<String> = (i..(i + batch).min(n))
            .map(|k| {
                format!(r#"{{"address":"m{k}@{d}","password":"bench password {k}","quota_mb":1}}"#)
            })
            .collect();
        let body = format!(r#"{{"mailboxes":[{}]}}"#, rows.join(","));
        let answer = post(&format!("{base}/api/v1/mailboxes/bulk"), &body);
        let want = format!(r#""created":{}"#, rows.len());
        assert!(answer.contains(&want), "bulk answer: {answer}");
        i += batch;
    }
    started.elapsed().as_secs_f64()
}

async fn direct(core: &Core, round: u64, n: u64) -> f64 {
    let d = format!("core{round}.bench.example");
    domain(core, &d).await;
    let op = Actor::operator();
    let started = Instant::now();
    for k in 0..n {
        core.create_mailbox(
            &op,
            NewMailbox {
                address: format!("m{k}@{d}"),
                password: format!("bench password {k}"),
                quota_mb: Some(1),
                ..NewMailbox::default()
            },
        )
        .await
        .expect("mailbox");
    }
    started.elapsed().as_secs_f64()
}

async fn bulk_creation() {
    let n = env_or("MAILBOXES", 10_000);
    let batch = env_or("BATCH", 1_000).max(1);
    let rounds = env_or("ROUNDS", 1).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let hosting = marque_hosting::Hosting::new(
        Core::open_with(store, HashCost::insecure_for_tests()).expect("core"),
    );
    let core = hosting.core().clone();
    core.bootstrap(Some(TOKEN.into())).await.expect("bootstrap");
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", tcp.local_addr().expect("address"));
    let shutdown = Shutdown::new();
    let settings = Settings {
        burst: 1_000_000,
        per_second: 1_000_000.0,
        ..Settings::default()
    };
    tokio::spawn(serve(
        Listener::new("http", tcp),
        Arc::new(Api::new(&hosting, "bench.example", settings)),
        shutdown.signal(),
        Duration::from_secs(1),
    ));
    println!("bulk creation: {n} mailboxes per run, batches of {batch}, {rounds} round(s)");
    let (mut api, mut own) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let a = bulk_over_http(&core, &base, round, n, batch).await;
        println!(
            "  round {round}: API  {a:7.2} s  {:8.0} mailboxes/s",
            n as f64 / a
        );
        let c = direct(&core, round, n).await;
        println!(
            "  round {round}: core {c:7.2} s  {:8.0} mailboxes/s",
            n as f64 / c
        );
        api.push(a);
        own.push(c);
    }
    let (a, c) = (median(&mut api), median(&mut own));
    println!(
        "  median: API {a:.2} s ({:.0}/s), core {c:.2} s ({:.0}/s), API/core time ratio {:.2}",
        n as f64 / a,
        n as f64 / c,
        a / c
    );
    shutdown.trigger();
}

/// The record's address, IP and message-id (1,000 addresses, 250 client IPs).
fn terms(i: u64) -> (String, String, String) {
    (
        format!("user{}@logs.bench.example", i % 1000),
        format!("192.0.2.{}", 1 + i % 250),
        format!("<{i}@sender.bench.example>"),
    )
}

async fn log_search() {
    let records = env_or("RECORDS", 1_000_000);
    let queries = env_or("QUERIES", 1_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
    let owner = TenantId(7);
    // One record a second, starting 2023-11-14.
    let t0: u64 = 1_700_000_000_000;
    let started = Instant::now();
    const TXN: u64 = 10_000;
    let mut i = 0;
    while i < records {
        let end = (i + TXN).min(records);
        store
            .transact(move |txn| -> marque_store::Result<()> {
                for k in i..end {
                    let (a, ip, mid) = terms(k);
                    let body = format!(
                        r#"{{"when":{},"direction":"inbound","client_ip":"{ip}","sender":"{a}","recipients":[{{"address":"{a}","outcome":"delivered"}}],"message_id":"{mid}","size":4096,"conversation":["C: EHLO x","S: 250 ok"]}}"#,
                        t0 + k * 1000
                    );
                    let terms = [
                        (Term::Address, a.as_str()),
                        (Term::Ip, ip.as_str()),
                        (Term::MessageId, mid.as_str()),
                    ];
                    logs::append(
                        txn,
                        &[owner],
                        LogKind::Transaction,
                        t0 + k * 1000,
                        &terms,
                        body.as_bytes(),
                    )?;
                }
                Ok(())
            })
            .await
            .expect("log batch");
        i = end;
    }
    println!(
        "transaction log: {records} records written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let kinds = ["address", "ip", "message-id", "date range"];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    let mut found = [0usize; 4];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..queries {
        // The kinds take turns so that drift hits all alike.
        for (kind, slot) in times.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % records;
            let (a, ip, mid) = terms(k);
            let (term, from, to) = match kind {
                0 => (Some((Term::Address, a)), 0, u64::MAX),
                1 => (Some((Term::Ip, ip)), 0, u64::MAX),
                2 => (Some((Term::MessageId, mid)), 0, u64::MAX),
                _ => (None, t0 + k * 1000, t0 + k * 1000 + 3_600_000),
            };
            let q = Query {
                owner,
                kind: LogKind::Transaction,
                term,
                from_ms: from,
                to_ms: to,
                after: None,
                limit: 100,
            };
            let s = store.clone();
            let t = Instant::now();
            let page = tokio::task::spawn_blocking(move || logs::search(&s, &q))
                .await
                .expect("task")
                .expect("search");
            slot.push(t.elapsed());
            found[kind] += page.entries.len();
        }
    }
    println!("log search: {queries} queries of each kind, first page of up to 100");
    for (kind, v) in times.iter_mut().enumerate() {
        let (p50, p99) = (percentile(v, 0.50), percentile(v, 0.99));
        println!(
            "  by {:<11} p50 {:8.3} ms  p99 {:8.3} ms  ({:.0} records a page on average)",
            kinds[kind],
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            found[kind] as f64 / queries as f64
        );
    }
}

#[tokio::main]
async fn main() {
    bulk_creation().await;
    log_search().await;
}

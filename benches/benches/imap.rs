//! IMAP benchmark: Marque against Debian's Dovecot, side by side in one run.
//!
//! Both servers get the same users and the same INBOX of realistic 2-20 KB messages, loaded
//! through APPEND. Then rounds alternate Marque, Dovecot, Marque, Dovecot... for 10 and 50
//! clients: every command alone for a while, all clients together, then the mix (see
//! `imap/load.rs`, which signs in again on a new connection once per cycle); the medians of
//! each command's operations per second are printed with the Marque/Dovecot ratio. Last,
//! thousands of connections sign in, select INBOX and IDLE against each server in turn; the
//! growth of the server's resident memory (Dovecot: the sum over its `imap` processes) divided
//! by the number of connections is the memory per idle connection.
//!
//! Needs `dovecot-imapd` (deploy/scripts/setup.sh `ensure_bench_tools`) and the `marque`
//! binary built in the same target directory:
//!
//! ```sh
//! cargo build -p marque --profile dev
//! cargo bench -p marque-benches --bench imap --profile dev
//! ```
//!
//! Knobs (environment): `USERS` (10), `MESSAGES` per user (1000), `CLIENTS` ("10,50"),
//! `ROUNDS` per server (2), `SECONDS` per phase (5), `IDLE` connections (5000), `IDLE_BATCH`
//! connections signing in at once (32), `IDLE_WARMUP` connections opened and closed before
//! the memory is measured (300), `DOVECOT_AUTH`: `fastest` (the default: Dovecot with
//! plain-text passwords and its authentication cache, so its sign-ins cost no hashing, while
//! Marque keeps argon2id and its cache of recent checks) or `argon2id` (Dovecot with Marque's
//! argon2id hashes and no cache).

#[path = "imap/client.rs"]
mod client;
#[path = "imap/load.rs"]
mod load;
#[path = "imap/servers.rs"]
mod servers;

use std::io;
use std::time::{Duration, Instant};

use load::Round;
use servers::Server;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sessions per user Marque admits (`MAX_SESSIONS_PER_USER` is 20); idle connections are
/// spread so that no user reaches it.
const IDLE_PER_USER: u64 = 16;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The soft limit on open files: every idle connection is one file here and one in the server.
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Opens `n` connections that sign in, select INBOX and IDLE; a few at a time, as clients
/// coming online do.
async fn idle_connections(port: u16, n: u64, users: u64) -> io::Result<Vec<client::Client>> {
    let at_once = env_or("IDLE_BATCH", 32).max(1);
    let mut out = Vec::with_capacity(n as usize);
    let mut next = 0u64;
    while next < n {
        let batch: Vec<_> = (next..n.min(next + at_once))
            .map(|i| {
                tokio::spawn(async move {
                    let mut c = load::session(port, (i % users) as usize).await?;
                    c.idle_start().await?;
                    Ok::<_, io::Error>(c)
                })
            })
            .collect();
        for t in batch {
            out.push(t.await.map_err(io::Error::other)??);
        }
        next = n.min(next + at_once);
    }
    Ok(out)
}

async fn idle_memory(s: &Server, n: u64, users: u64) -> io::Result<f64> {
    // A first wave of sign-ins, closed again, so that what the allocator keeps after password
    // hashing once per process is not counted per connection (it is printed apart).
    let start = s.rss_kib();
    let warmup = env_or("IDLE_WARMUP", 300).min(n);
    drop(idle_connections(s.port, warmup, users).await?);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = s.rss_kib();
    let pss_before = s.pss_kib();
    println!(
        "  {:<8} RSS {start} KiB before and {before} KiB after a warm-up of {warmup} \
         connections opened and closed",
        s.name
    );
    let started = Instant::now();
    let conns = idle_connections(s.port, n, users).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = s.rss_kib();
    let pss_after = s.pss_kib();
    let per = (after.saturating_sub(before)) as f64 / n as f64;
    let pss_per = (pss_after.saturating_sub(pss_before)) as f64 / n as f64;
    println!(
        "  {:<8} {n} idle connections in {:.0?}: RSS {before} KiB -> {after} KiB over {} \
         process(es): {per:.1} KiB per idle connection (PSS {pss_before} -> {pss_after} KiB: \
         {pss_per:.1} KiB)",
        s.name,
        started.elapsed(),
        s.processes()
    );
    tokio::time::sleep(Duration::from_secs(env_or("IDLE_HOLD", 0))).await;
    drop(conns);
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(per)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn print_table(clients: usize, phase: Duration, m: &[Round], d: &[Round]) {
    let secs = phase.as_secs_f64();
    println!(
        "\n{clients} clients, ops/s per command run alone for {secs:.0} s (median of {} rounds):",
        m.len()
    );
    println!(
        "  {:<11} {:>10} {:>10} {:>8}",
        "command", "marque", "dovecot", "ratio"
    );
    let alone = |r: &[Round], cmd: &str| {
        median(
            r.iter()
                .map(|x| x.alone.get(cmd).copied().unwrap_or(0.0))
                .collect(),
        )
    };
    for cmd in load::selected() {
        let (a, b) = (alone(m, cmd), alone(d, cmd));
        println!("  {cmd:<11} {a:>10.1} {b:>10.1} {:>7.2}x", ratio(a, b));
    }
    let total = |r: &[Round]| median(r.iter().map(|x| x.mix.total() as f64 / secs).collect());
    let (a, b) = (total(m), total(d));
    println!(
        "  {:<11} {a:>10.1} {b:>10.1} {:>7.2}x   (the mix, all commands per second)",
        "mix",
        ratio(a, b)
    );
}

async fn run() -> io::Result<()> {
    let users = env_or("USERS", 10);
    let messages = env_or("MESSAGES", 1000);
    let rounds = env_or("ROUNDS", 2);
    let phase = Duration::from_secs(env_or("SECONDS", 5));
    let idle = env_or("IDLE", 5000);
    let clients: Vec<usize> = std::env::var("CLIENTS")
        .unwrap_or_else(|_| "10,50".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let limit = open_files_limit();
    if limit < idle + 1000 {
        return Err(io::Error::other(format!(
            "open files limit {limit} is too low for {idle} idle connections: raise it \
             (ulimit -n {}) or lower IDLE",
            idle * 2 + 1000
        )));
    }
    let all_users = users.max(idle.div_ceil(IDLE_PER_USER));
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let marque = servers::marque(dir.path(), all_users as usize).await?;
    let auth = servers::DovecotAuth::from_env()?;
    let dovecot = servers::dovecot(dir.path(), all_users as usize, auth).await?;
    println!(
        "servers up with {all_users} users in {:.0?}: marque on {}, dovecot on {} \
         (dovecot passwords: {auth:?})",
        t.elapsed(),
        marque.port,
        dovecot.port
    );
    for s in [&marque, &dovecot] {
        let t = Instant::now();
        load::preload(s.port, users as usize, messages).await?;
        println!(
            "  {:<8} preloaded {users} x {messages} messages by APPEND in {:.1?}",
            s.name,
            t.elapsed()
        );
    }
    for &n in &clients {
        let mut m = Vec::new();
        let mut d = Vec::new();
        for r in 0..rounds {
            for s in [&marque, &dovecot] {
                let round = load::round(s.port, n, users as usize, messages, phase).await?;
                println!(
                    "  round {} {n} clients {:<8} {} ops alone, {} in the mix",
                    r + 1,
                    s.name,
                    round.done.values().sum::<u64>(),
                    round.mix.total()
                );
                if s.dovecot {
                    d.push(round);
                } else {
                    m.push(round);
                }
            }
        }
        print_table(n, phase, &m, &d);
    }
    if idle > 0 {
        println!("\nmemory per idle connection ({idle} connections in IDLE):");
        let a = idle_memory(&marque, idle, all_users).await?;
        let b = idle_memory(&dovecot, idle, all_users).await?;
        println!(
            "  marque {a:.1} KiB, dovecot {b:.1} KiB, ratio {:.2}x (goal: marque <= 32 KiB)",
            if b > 0.0 { a / b } else { 0.0 }
        );
    }
    marque.stop().await;
    dovecot.stop().await;
    Ok(())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run()) {
        eprintln!("imap benchmark failed: {e}");
        std::process::exit(1);
    }
}

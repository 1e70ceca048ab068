//! Sieve bulk benchmark: one filter set and activated on 10,000 mailboxes of a domain through
//! `marque_hosting::sieve::bulk_set` (one transaction per mailbox, fsynced), three runs; prints
//! each run's seconds and mailboxes per second, and the median.
//!
//! Run: `cargo bench -p marque-benches --bench sieve_bulk --profile dev` (`MAILBOXES=` and
//! `ROUNDS=` to change the size and the number of runs).

use std::time::Instant;

use marque_core::{Actor, Core, HashCost, NewDomain, NewMailbox, NewTenant};
use marque_hosting::sieve::{Selection, bulk_set};
use marque_store::{Store, StoreOptions};
use tokio::task::JoinSet;

const FILTER: &str = "require [\"fileinto\"];\r\n\
    if header :contains \"x-spam-flag\" \"yes\" {\r\n  fileinto \"Junk\";\r\n  stop;\r\n}\r\n";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn setup(core: &Core, mailboxes: u64) {
    let op = Actor::operator();
    let t = core
        .create_tenant(
            &op,
            NewTenant {
                name: "Bench".into(),
                ..NewTenant::default()
            },
        )
        .await
        .expect("tenant")
        .tenant
        .id;
    core.create_domain(
        &op,
        NewDomain {
            name: "bulk.example".into(),
            tenant: t,
            ..NewDomain::default()
        },
    )
    .await
    .expect("domain");
    let mut set = JoinSet::new();
    for i in 0..mailboxes {
        let (core, op) = (core.clone(), op.clone());
        set.spawn(async move {
            core.create_mailbox(
                &op,
                NewMailbox {
                    address: format!("m{i}@bulk.example"),
                    password: "bench password".into(),
                    quota_mb: Some(1),
                    ..NewMailbox::default()
                },
            )
            .await
            .expect("mailbox");
        });
        if set.len() >= 256 {
            set.join_next().await;
        }
    }
    while set.join_next().await.is_some() {}
}

fn main() {
    let mailboxes = env_or("MAILBOXES", 10_000);
    let rounds = env_or("ROUNDS", 3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path(), StoreOptions::default()).expect("store");
        let core = Core::open_with(store, HashCost::insecure_for_tests()).expect("core");
        core.bootstrap(None).await.expect("bootstrap");
        let started = Instant::now();
        setup(&core, mailboxes).await;
        let hosting = marque_hosting::Hosting::new(core);
        let core = hosting.core().clone();
        println!(
            "set-up: {mailboxes} mailboxes in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let mut secs = Vec::new();
        for round in 0..rounds {
            let name = format!("provider-{round}");
            let started = Instant::now();
            let results = bulk_set(
                &hosting,
                &Actor::operator(),
                Selection::Domain("bulk.example".into()),
                &name,
                FILTER,
                true,
            )
            .await
            .expect("bulk_set");
            let s = started.elapsed().as_secs_f64();
            let ok = results.iter().filter(|r| r.result.is_ok()).count();
            assert_eq!(ok as u64, mailboxes, "every mailbox gets the filter");
            println!(
                "round {}: {mailboxes} mailboxes in {s:.2} s ({:.0} mailboxes/s)",
                round + 1,
                mailboxes as f64 / s
            );
            secs.push(s);
        }
        secs.sort_by(f64::total_cmp);
        let median = secs[secs.len() / 2];
        let stats = core.store().commit_stats();
        println!(
            "sieve bulk: median {median:.2} s for {mailboxes} mailboxes ({:.0} mailboxes/s); \
             store commits {:?}",
            mailboxes as f64 / median,
            stats
        );
    });
}

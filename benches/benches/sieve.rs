//! Sieve benchmark: deliveries per second through `marque_delivery::deliver()` for a mailbox
//! with a 20-rule script (header, address and body tests, fileinto, flags) against a mailbox
//! without a script, in alternating rounds (A B A B...) so that drift on a shared machine hits
//! both alike. Prints each round, the medians and the ratio.
//!
//! The store runs without fsync here: the point is what running the script costs, which an
//! fsync per batch would hide. Eight deliveries run at once, as from eight SMTP sessions.
//!
//! Run: `cargo bench -p marque-benches --bench sieve --profile dev` (`ROUNDS=` and `SECONDS=`
//! to change the number and length of rounds).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use marque_core::{
    Actor, Core, HashCost, NewDomain, NewMailbox, NewTenant, PROVIDER, Recipient, TenantKind,
};
use marque_delivery::{Delivery, Environment, LocalRecipient, TransactionRecord};
use marque_store::{Durability, Store, StoreOptions};

const CONCURRENCY: usize = 8;

/// Twenty rules of the kinds users write; the benchmark message matches none until the last.
const SCRIPT: &str = r#"require ["fileinto", "mailbox", "imap4flags", "body", "envelope"];
if header :contains "List-Id" "announce.example" { fileinto :create "Lists/Announce"; stop; }
if header :contains "List-Id" "dev.example" { fileinto :create "Lists/Dev"; stop; }
if address :is "from" "boss@corp.example" { addflag "\\Flagged"; }
if address :domain :is "from" "bank.example" { fileinto :create "Bank"; stop; }
if header :matches "subject" "*[SPAM]*" { fileinto :create "Junk"; stop; }
if header :contains "X-Spam-Flag" "YES" { fileinto :create "Junk"; stop; }
if envelope :is "from" "alerts@monitor.example" { fileinto :create "Alerts"; stop; }
if header :contains "subject" "invoice" { addflag "$Invoice"; }
if header :contains "subject" "newsletter" { fileinto :create "News"; stop; }
if address :localpart :is "to" "sales" { fileinto :create "Sales"; stop; }
if body :contains "unsubscribe here" { fileinto :create "Promotions"; stop; }
if header :contains "from" "github.example" { fileinto :create "Code"; stop; }
if header :contains "from" "jira.example" { fileinto :create "Tickets"; stop; }
if exists "X-Mailer-Campaign" { fileinto :create "Promotions"; stop; }
if header :is "Precedence" "bulk" { fileinto :create "Bulk"; stop; }
if size :over 5M { fileinto :create "Large"; stop; }
if header :contains "subject" "urgent" { addflag "\\Flagged"; }
if address :domain :is "to" "family.example" { fileinto :create "Family"; stop; }
if body :contains "lottery winner" { fileinto :create "Junk"; stop; }
if header :contains "subject" "message" { addflag "$Bench"; fileinto :create "Bench"; }
"#;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn message(n: u64) -> Vec<u8> {
    let mut m = format!(
        "From: Someone <someone@remote.example>\r\nTo: user@bench.example\r\nSubject: message {n}\r\nMessage-ID: <{n}@remote.example>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n"
    );
    while m.len() < 4096 {
        m.push_str("The quarterly report is attached; please review it before the meeting.\r\n");
    }
    m.into_bytes()
}

async fn setup() -> (Core, tempfile::TempDir, LocalRecipient, LocalRecipient) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(
        dir.path(),
        StoreOptions {
            durability: Durability::NoSync,
            ..StoreOptions::default()
        },
    )
    .expect("open store");
    let core = Core::open_with(store, HashCost::insecure_for_tests()).expect("open core");
    core.bootstrap(None).await.expect("bootstrap");
    let op = Actor::operator();
    let tenant = core
        .create_tenant(
            &op,
            NewTenant {
                name: "Bench".into(),
                kind: TenantKind::Customer,
                parent: PROVIDER,
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
            name: "bench.example".into(),
            tenant,
            ..NewDomain::default()
        },
    )
    .await
    .expect("domain");
    let mut locals = Vec::new();
    for address in ["plain@bench.example", "filtered@bench.example"] {
        core.create_mailbox(
            &op,
            NewMailbox {
                address: address.into(),
                password: "correct horse battery".into(),
                quota_mb: Some(100_000),
                tier: None,
                postmaster: false,
            },
        )
        .await
        .expect("mailbox");
        let Some(Recipient::Mailbox {
            account, tenant, ..
        }) = core.resolve_address(address).await.expect("resolve")
        else {
            panic!("{address} is not a mailbox");
        };
        locals.push(LocalRecipient {
            address: address.into(),
            account,
            tenant,
        });
    }
    let filtered = locals.pop().expect("filtered");
    let plain = locals.pop().expect("plain");
    core.store()
        .transact({
            let account = filtered.account;
            move |txn| -> marque_store::Result<()> {
                marque_store::sieve::put(txn, account, "rules", SCRIPT.as_bytes())?;
                marque_store::sieve::set_active(txn, account, Some("rules"))
            }
        })
        .await
        .expect("script");
    (core, dir, plain, filtered)
}

/// Deliveries per second to `to` for `length`, `CONCURRENCY` at a time.
async fn round(core: &Core, env: &Environment, to: &LocalRecipient, length: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let (core, env, to) = (core.clone(), env.clone(), to.clone());
        let (stop, count) = (stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = w as u64 * 1_000_000_000;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (res, _) = marque_delivery::deliver(
                    &core,
                    &env,
                    Delivery {
                        raw: message(n),
                        sender: "someone@remote.example".into(),
                        recipients: vec![to.clone()],
                        record: TransactionRecord::default(),
                        extra_owners: vec![],
                    },
                )
                .await
                .expect("delivery");
                assert!(res[0].is_accepted(), "{res:?}");
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("deliverer");
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
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
    let rounds = env_or("ROUNDS", 4);
    let length = Duration::from_secs(env_or("SECONDS", 3));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (core, _dir, plain, filtered) = setup().await;
        let env = Environment::default();
        println!(
            "sieve: deliveries/s of a 4 KB message, {CONCURRENCY} at a time, store without fsync, {rounds} rounds of {}s each",
            length.as_secs()
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let x = round(&core, &env, &plain, length).await;
            let y = round(&core, &env, &filtered, length).await;
            println!("round {r}: no script {x:.0}/s, 20-rule script {y:.0}/s");
            a.push(x);
            b.push(y);
        }
        let (ma, mb) = (median(a), median(b));
        println!("median: no script {ma:.0}/s, 20-rule script {mb:.0}/s, ratio script/none {:.2}", mb / ma);
    });
}

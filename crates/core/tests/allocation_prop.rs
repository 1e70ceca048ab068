//! Property: whatever sequence of mailbox creations, resizes and deletions is tried across a
//! tree, the sum of allocations never exceeds any domain's total or any ancestor's pool, and the
//! stored counters always equal a recount from the records.

use proptest::prelude::*;

use marque_core::quota::{recount, recount_domain};
use marque_core::*;
use marque_store::Reader;
use marque_store::counters::{self, Metric, Owner};
use marque_tests::Platform;

#[derive(Debug, Clone)]
enum Op {
    Create {
        domain: usize,
        quota_mb: u64,
        tier: Tier,
    },
    Resize {
        mailbox: usize,
        quota_mb: u64,
    },
    Retier {
        mailbox: usize,
        tier: Tier,
    },
    Delete {
        mailbox: usize,
    },
}

fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![Just(Tier::Light), Just(Tier::Standard), Just(Tier::Premium)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 1..300u64, tier()).prop_map(|(domain, quota_mb, tier)| Op::Create { domain, quota_mb, tier }),
        2 => (0..16usize, 1..300u64).prop_map(|(mailbox, quota_mb)| Op::Resize { mailbox, quota_mb }),
        1 => (0..16usize, tier()).prop_map(|(mailbox, tier)| Op::Retier { mailbox, tier }),
        2 => (0..16usize).prop_map(|mailbox| Op::Delete { mailbox }),
    ]
}

struct World {
    core: Core,
    _dir: tempfile::TempDir,
    tenants: Vec<Tenant>,
    domains: Vec<Domain>,
}

fn limits(storage_mb: Option<u64>, standard: Option<u64>) -> Limits {
    let mut l = Limits {
        storage_mb,
        ..Limits::default()
    };
    if let Some(n) = standard {
        l.mailboxes.insert(Tier::Standard, n);
    }
    l
}

/// provider → reseller (pool 1000, 6 standard) → sub-reseller (pool 700) → customer A (pool 500)
/// with domains a1 (total 300) and a2; reseller → customer B (no pool) with b1 (total 400), b2.
async fn world() -> World {
    let Platform { core, dir, .. } = Platform::builder().build().await;
    let op = Actor::operator();
    let mk = |name: &str, kind, parent, l: Limits| NewTenant {
        name: name.into(),
        kind,
        parent,
        limits: l,
        ..NewTenant::default()
    };
    let r = core
        .create_tenant(
            &op,
            mk(
                "R",
                TenantKind::Reseller,
                PROVIDER,
                limits(Some(1000), Some(6)),
            ),
        )
        .await
        .unwrap()
        .tenant;
    let s = core
        .create_tenant(
            &op,
            mk("S", TenantKind::Reseller, r.id, limits(Some(700), None)),
        )
        .await
        .unwrap()
        .tenant;
    let a = core
        .create_tenant(
            &op,
            mk("A", TenantKind::Customer, s.id, limits(Some(500), None)),
        )
        .await
        .unwrap()
        .tenant;
    let b = core
        .create_tenant(&op, mk("B", TenantKind::Customer, r.id, Limits::default()))
        .await
        .unwrap()
        .tenant;
    let mut domains = Vec::new();
    for (name, t, total) in [
        ("a1.example", &a, Some(300)),
        ("a2.example", &a, None),
        ("b1.example", &b, Some(400)),
        ("b2.example", &b, None),
    ] {
        let d = core
            .create_domain(
                &op,
                NewDomain {
                    name: name.into(),
                    tenant: t.id,
                    limits: limits(total, None),
                },
            )
            .await
            .unwrap();
        domains.push(d);
    }
    let provider = core.get_tenant(&op, PROVIDER).await.unwrap();
    World {
        core,
        _dir: dir,
        tenants: vec![provider, r, s, a, b],
        domains,
    }
}

fn check_invariants(w: &World) -> Result<(), TestCaseError> {
    let store = w.core.store();
    let counter = |o, m| store.counter(&counters::key(o, m)).unwrap();
    for t in &w.tenants {
        let stored = counter(Owner::Tenant(t.id), Metric::StorageAllocated);
        let counted = recount(store, t.id).unwrap();
        prop_assert_eq!(
            stored,
            counted.storage_allocated,
            "tenant {} counter vs records",
            t.name
        );
        if let Some(pool) = t.limits.storage_mb {
            prop_assert!(
                stored <= (pool as i64) << 20,
                "tenant {} allocated {} over its pool",
                t.name,
                stored
            );
        }
        for tier in Tier::ALL {
            let n = counter(Owner::Tenant(t.id), Metric::Mailboxes(tier.code()));
            prop_assert_eq!(
                n,
                counted.mailboxes.get(&tier).copied().unwrap_or(0),
                "tenant {} {:?} count",
                t.name,
                tier
            );
            if let Some(max) = t.limits.mailboxes.get(&tier) {
                prop_assert!(n <= *max as i64);
            }
        }
    }
    for d in &w.domains {
        let stored = counter(Owner::Domain(d.id), Metric::StorageAllocated);
        let counted = recount_domain(store, d.tenant, d).unwrap();
        prop_assert_eq!(
            stored,
            counted.storage_allocated,
            "domain {} counter vs records",
            d.name
        );
        if let Some(total) = d.limits.storage_mb {
            prop_assert!(
                stored <= (total as i64) << 20,
                "domain {} over its total",
                d.name
            );
        }
    }
    Ok(())
}

/// One case: run `ops` on a fresh tree, checking the invariants after every step. Returns how
/// many operations were accepted and how many refused for a limit.
fn run_case(ops: Vec<Op>) -> Result<(usize, usize), TestCaseError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let w = world().await;
        let op = Actor::operator();
        let mut live: Vec<String> = Vec::new();
        let (mut accepted, mut refused, mut next) = (0, 0, 0);
        for o in ops {
            let r = match o {
                Op::Create {
                    domain,
                    quota_mb,
                    tier,
                } => {
                    next += 1;
                    let address = format!("m{next}@{}", w.domains[domain].name);
                    let new = NewMailbox {
                        address: address.clone(),
                        password: "a password".into(),
                        quota_mb: Some(quota_mb),
                        tier: Some(tier),
                        postmaster: false,
                    };
                    let r = w.core.create_mailbox(&op, new).await;
                    if r.is_ok() {
                        live.push(address);
                    }
                    r.map(drop)
                }
                Op::Resize { mailbox, quota_mb } if !live.is_empty() => {
                    let a = live[mailbox % live.len()].clone();
                    let changes = MailboxChanges {
                        quota_mb: Some(quota_mb),
                        ..MailboxChanges::default()
                    };
                    w.core.update_mailbox(&op, &a, changes).await.map(drop)
                }
                Op::Retier { mailbox, tier } if !live.is_empty() => {
                    let a = live[mailbox % live.len()].clone();
                    let changes = MailboxChanges {
                        tier: Some(tier),
                        ..MailboxChanges::default()
                    };
                    w.core.update_mailbox(&op, &a, changes).await.map(drop)
                }
                Op::Delete { mailbox } if !live.is_empty() => {
                    let a = live.remove(mailbox % live.len());
                    w.core.delete_mailbox(&op, &a).await
                }
                _ => continue,
            };
            match r {
                Ok(()) => accepted += 1,
                Err(CoreError::LimitExceeded { .. }) => refused += 1,
                Err(e) => return Err(TestCaseError::fail(format!("unexpected error: {e}"))),
            }
            check_invariants(&w)?;
        }
        Ok((accepted, refused))
    })
}

#[test]
fn allocations_never_exceed_any_pool() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let (a, r) = run_case(ops)?;
        accepted.fetch_add(a, Ordering::Relaxed);
        refused.fetch_add(r, Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (a, r) = (accepted.into_inner(), refused.into_inner());
    println!(
        "24 random sequences: {a} operations accepted, {r} refused for a limit, invariants held after each"
    );
    assert!(a > 0 && r > 0, "the sequences exercised both outcomes");
}

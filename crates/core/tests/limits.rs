//! Limits: only ancestors change them; over-limit creations fail with a clear error and write
//! nothing; usage charges reach all the way up.

use marque_core::*;
use marque_store::Reader;
use marque_store::counters::{self, Metric, Owner};
use marque_tests::{Platform, staff};

struct Tree {
    reseller: TenantId,
    customer: TenantId,
    reseller_admin: Actor,
    customer_admin: Actor,
}

/// Provider → reseller R → customer C, with an administrator each.
async fn tree() -> (Core, tempfile::TempDir, Tree) {
    let p = Platform::builder()
        .reseller("R")
        .customer_of("C", "R")
        .build()
        .await;
    let (reseller, customer) = (p.tenant("R"), p.tenant("C"));
    let reseller_admin = staff(&p.core, reseller, "r-admin", StaffKind::Admin).await;
    let customer_admin = staff(&p.core, customer, "c-admin", StaffKind::Admin).await;
    let Platform { core, dir, .. } = p;
    let tree = Tree {
        reseller,
        customer,
        reseller_admin,
        customer_admin,
    };
    (core, dir, tree)
}

fn snapshot(core: &Core, owners: &[Owner]) -> Vec<i64> {
    let metrics = [
        Metric::StorageAllocated,
        Metric::Domains,
        Metric::Mailboxes(Tier::Standard.code()),
        Metric::Aliases,
        Metric::Lists,
    ];
    owners
        .iter()
        .flat_map(|o| metrics.iter().map(move |m| counters::key(*o, *m)))
        .map(|k| core.store().counter(&k).unwrap())
        .collect()
}

fn new_domain(name: &str, tenant: TenantId) -> NewDomain {
    NewDomain {
        name: name.into(),
        tenant,
        ..NewDomain::default()
    }
}

/// Limits with only a storage allocation, in MiB.
fn storage(mb: u64) -> Limits {
    Limits {
        storage_mb: Some(mb),
        ..Limits::default()
    }
}

fn mailbox(address: &str, quota_mb: u64) -> NewMailbox {
    NewMailbox {
        address: address.into(),
        password: "a password".into(),
        quota_mb: Some(quota_mb),
        ..NewMailbox::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_ancestors_change_limits() {
    let (core, _dir, t) = tree().await;
    let raise = Limits {
        storage_mb: Some(1_000_000),
        ..Limits::default()
    };
    // Nobody raises their own limits, nor their parent's, which they cannot even see.
    for (actor, target, refused) in [
        (
            &t.reseller_admin,
            t.reseller,
            CoreError::is_forbidden as fn(&CoreError) -> bool,
        ),
        (&t.customer_admin, t.customer, CoreError::is_forbidden),
        (&t.customer_admin, t.reseller, CoreError::is_not_found),
    ] {
        let e = core
            .set_limits(actor, LimitsOf::Tenant(target), raise.clone())
            .await
            .unwrap_err();
        assert!(refused(&e), "{e}");
    }
    // Ancestors do.
    let op = Actor::operator();
    for (actor, target) in [(&t.reseller_admin, t.customer), (&op, t.reseller)] {
        core.set_limits(actor, LimitsOf::Tenant(target), raise.clone())
            .await
            .unwrap();
    }
    assert_eq!(
        core.get_tenant(&t.customer_admin, t.customer)
            .await
            .unwrap()
            .limits,
        raise
    );
    // A postmaster cannot change its domain's limits.
    core.create_domain(&op, new_domain("c.example", t.customer))
        .await
        .unwrap();
    let pm = core
        .create_mailbox(
            &op,
            NewMailbox {
                postmaster: true,
                ..mailbox("pm@c.example", 10)
            },
        )
        .await
        .unwrap();
    let pm = marque_tests::actor(&core, PrincipalId::Mailbox(pm.id)).await;
    let e = core
        .set_limits(&pm, LimitsOf::Domain("c.example".into()), Limits::default())
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_limit_creations_fail_and_write_nothing() {
    let (core, _dir, t) = tree().await;
    let op = Actor::operator();
    core.set_limits(
        &op,
        LimitsOf::Tenant(t.reseller),
        Limits {
            domains: Some(1),
            storage_mb: Some(100),
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let mut per_tier = std::collections::BTreeMap::new();
    per_tier.insert(Tier::Standard, 2);
    core.set_limits(
        &t.reseller_admin,
        LimitsOf::Tenant(t.customer),
        Limits {
            mailboxes: per_tier,
            aliases: Some(1),
            max_mailbox_mb: Some(60),
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let d = core
        .create_domain(&t.customer_admin, new_domain("one.example", t.customer))
        .await
        .unwrap();
    core.set_limits(
        &t.customer_admin,
        LimitsOf::Domain("one.example".into()),
        Limits {
            storage_mb: Some(80),
            lists: Some(0),
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let owners = [
        Owner::Tenant(PROVIDER),
        Owner::Tenant(t.reseller),
        Owner::Tenant(t.customer),
        Owner::Domain(d.id),
    ];

    // Domains: the reseller allows one in its whole subtree.
    let before = snapshot(&core, &owners);
    let e = core
        .create_domain(&op, new_domain("two.example", t.customer))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains("domains of tenant R")),
        "{e}"
    );
    assert_eq!(snapshot(&core, &owners), before);
    assert!(
        core.get_domain(&op, "two.example")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Mailbox size, domain total, pool, count per tier.
    core.create_mailbox(&op, mailbox("a@one.example", 50))
        .await
        .unwrap();
    let before = snapshot(&core, &owners);
    for (address, quota, expect) in [
        ("b@one.example", 61, "largest mailbox"),
        ("b@one.example", 40, "storage of domain one.example"),
    ] {
        let e = core
            .create_mailbox(&op, mailbox(address, quota))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains(expect)),
            "{e}"
        );
        assert_eq!(
            snapshot(&core, &owners),
            before,
            "nothing written by a refused creation"
        );
        assert!(
            core.get_mailbox(&op, address)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
    core.set_limits(
        &t.customer_admin,
        LimitsOf::Domain("one.example".into()),
        Limits::default(),
    )
    .await
    .unwrap();
    let e = core
        .create_mailbox(&op, mailbox("b@one.example", 51))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains("storage of tenant R")),
        "{e}"
    );
    core.create_mailbox(&op, mailbox("b@one.example", 10))
        .await
        .unwrap();
    let before = snapshot(&core, &owners);
    let e = core
        .create_mailbox(&op, mailbox("c@one.example", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains("Standard mailboxes of tenant C")),
        "{e}"
    );
    // Growing a mailbox past the pool fails the same way.
    let e = core
        .update_mailbox(
            &op,
            "b@one.example",
            MailboxChanges {
                quota_mb: Some(55),
                ..MailboxChanges::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::LimitExceeded { .. }), "{e}");
    assert_eq!(snapshot(&core, &owners), before);
    // Aliases.
    core.create_alias(&op, "x@one.example", &["a@one.example".into()])
        .await
        .unwrap();
    let e = core
        .create_alias(&op, "y@one.example", &["a@one.example".into()])
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::LimitExceeded { .. }), "{e}");

    // Deleting gives the allocation back everywhere.
    core.delete_mailbox(&op, "a@one.example").await.unwrap();
    let allocated = |o| {
        core.store()
            .counter(&counters::key(o, Metric::StorageAllocated))
            .unwrap()
    };
    assert_eq!(allocated(Owner::Tenant(PROVIDER)), 10 << 20);
    assert_eq!(allocated(Owner::Domain(d.id)), 10 << 20);
    let usage = core.usage(&t.reseller_admin, t.customer).await.unwrap();
    assert_eq!(usage.tenant.counts.storage_allocated, 10 << 20);
    assert_eq!(
        usage.domains[0].counts.mailboxes.get(&Tier::Standard),
        Some(&1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_charges_reach_every_ancestor() {
    let (core, _dir, t) = tree().await;
    let op = Actor::operator();
    core.set_limits(&op, LimitsOf::Tenant(t.reseller), storage(100))
        .await
        .unwrap();
    core.create_domain(&op, new_domain("c.example", t.customer))
        .await
        .unwrap();
    let m = core
        .create_mailbox(&op, mailbox("u@c.example", 20))
        .await
        .unwrap();
    let charges = core.usage_charges(m.id).await.unwrap();
    let limits: Vec<Option<i64>> = charges.iter().map(|c| c.limit).collect();
    assert_eq!(
        limits,
        vec![Some(20 << 20), None, None, Some(100 << 20), None],
        "mailbox, domain, customer, reseller, provider"
    );
    assert_eq!(charges[0].owner, Owner::Account(m.id));
    assert_eq!(charges[4].owner, Owner::Tenant(PROVIDER));
    match core.resolve_address("U@C.example").await.unwrap() {
        Some(Recipient::Mailbox {
            account, active, ..
        }) => assert!(account == m.id && active),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        core.resolve_address("nobody@c.example").await.unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_is_validated() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    for name in ["", "localhost", "bad_name.example", "-x.example"] {
        let e = core
            .create_domain(&op, new_domain(name, PROVIDER))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                CoreError::Invalid {
                    field: "domain name",
                    ..
                }
            ),
            "{name:?}: {e}"
        );
    }
    core.create_domain(&op, new_domain("Ok.Example", PROVIDER))
        .await
        .unwrap();
    for (new, field) in [
        (mailbox("not an address", 1), "address"),
        (
            NewMailbox {
                password: "short".into(),
                ..mailbox("a@ok.example", 1)
            },
            "password",
        ),
    ] {
        let e = core.create_mailbox(&op, new).await.unwrap_err();
        assert!(
            matches!(e, CoreError::Invalid { field: f, .. } if f == field),
            "{field}: {e}"
        );
    }
    let e = core
        .create_tenant(
            &op,
            NewTenant {
                name: "  ".into(),
                ..NewTenant::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::Invalid { field: "name", .. }), "{e}");
    core.create_mailbox(&op, mailbox("A@OK.example", 1))
        .await
        .unwrap();
    let e = core
        .create_mailbox(&op, mailbox("a@ok.example", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, CoreError::AlreadyExists { .. }), "{e}");
    let e = core.delete_domain(&op, "ok.example").await.unwrap_err();
    assert!(matches!(e, CoreError::NotEmpty { .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_is_held_to_the_charges() {
    use marque_store::mail::{self, AppendOptions, PreparedMessage};
    let (core, _dir, t) = tree().await;
    let op = Actor::operator();
    core.set_limits(&op, LimitsOf::Tenant(t.customer), storage(3))
        .await
        .unwrap();
    core.create_domain(&op, new_domain("c.example", t.customer))
        .await
        .unwrap();
    let a = core
        .create_mailbox(&op, mailbox("a@c.example", 1))
        .await
        .unwrap();
    let b = core
        .create_mailbox(&op, mailbox("b@c.example", 2))
        .await
        .unwrap();

    let body = format!("Subject: hello\r\n\r\n{}\r\n", "x".repeat(600 * 1024));
    let msg = PreparedMessage::new(core.store(), body.as_bytes()).unwrap();
    let deliver = |account: AccountId| {
        let (core, msg) = (core.clone(), msg.clone());
        async move {
            let charges = core.usage_charges(account).await?;
            core.store()
                .transact(move |txn| {
                    let inbox = mail::mailbox_by_name(txn, account, "INBOX")?
                        .expect("INBOX made with the mailbox");
                    mail::append(
                        txn,
                        account,
                        inbox.id,
                        &msg,
                        &AppendOptions::default(),
                        &charges,
                    )
                })
                .await
                .map_err(CoreError::from)
        }
    };
    deliver(a.id).await.unwrap();
    let e = deliver(a.id).await.unwrap_err();
    assert!(
        matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains("mailbox quota of a@c.example")),
        "{e}"
    );
    deliver(b.id).await.unwrap();
    deliver(b.id).await.unwrap();
    let used = |o| {
        core.store()
            .counter(&counters::key(o, Metric::StorageUsed))
            .unwrap()
    };
    let size = msg.size() as i64;
    assert_eq!(used(Owner::Tenant(t.customer)), 3 * size);
    assert_eq!(
        used(Owner::Tenant(PROVIDER)),
        3 * size,
        "usage is counted all the way up"
    );
    // A pool lowered below what is stored refuses the next message, though b's quota has room.
    let lowered = storage(1);
    core.set_limits(&t.reseller_admin, LimitsOf::Tenant(t.customer), lowered)
        .await
        .unwrap();
    let e = deliver(b.id).await.unwrap_err();
    assert!(
        matches!(&e, CoreError::LimitExceeded { limit, .. } if limit.contains("storage pool of tenant C")),
        "{e}"
    );
    let usage = core.usage(&t.reseller_admin, t.customer).await.unwrap();
    assert_eq!(usage.tenant.counts.storage_used, 3 * size);
    assert_eq!(
        usage.tenant.counts.messages, 3,
        "messages are counted up the tree too"
    );
    // Deleting a mailbox takes its usage off every counter above it.
    core.delete_mailbox(&op, "b@c.example").await.unwrap();
    assert_eq!(used(Owner::Tenant(t.customer)), size);
    assert_eq!(used(Owner::Tenant(PROVIDER)), size);
    assert_eq!(used(Owner::Account(b.id)), 0);
    let usage = core.usage(&t.reseller_admin, t.customer).await.unwrap();
    assert_eq!(usage.tenant.counts.messages, 1);
    // ...and its mail goes with it: folders, messages, and the bodies only it held.
    let store = core.store();
    assert!(!marque_store::mail::account_exists(store, b.id).unwrap());
    assert!(marque_store::mail::list(store, b.id).unwrap().is_empty());
}

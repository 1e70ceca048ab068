//! No level grants more than the level above it: plans within their owner's own plan and
//! limits, limits within the parent's, mailboxes within every plan on the way up, numbers
//! within their ranges, and the postmaster flag given only by those the policy allows.

use marque_core::limits::{MAX_COUNT, MAX_CREDITS, MAX_MB};
use marque_core::*;
use marque_tests::{Platform, staff};

fn terms(owner: TenantId, name: &str, max_mailbox_mb: u64, features: Features) -> NewPlan {
    NewPlan {
        owner,
        name: name.into(),
        tier: Tier::Standard,
        default_mailbox_mb: 10.min(max_mailbox_mb),
        max_mailbox_mb,
        features,
        price_credits: 0,
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

async fn admin_of(core: &Core, tenant: TenantId, login: &str) -> Actor {
    staff(core, tenant, login, StaffKind::Admin).await
}

/// The field an `Invalid` error names, or the error itself.
fn invalid_field(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(CoreError::Invalid { field, .. }) => field.to_string(),
        other => format!("not an Invalid error: {other:?}"),
    }
}

/// provider → reseller R on the provider's plan "Provider 2000" (largest mailbox 2,000 MiB,
/// custom branding only) with its administrator.
async fn reseller(core: &Core) -> (TenantId, PlanId, Actor) {
    let op = Actor::operator();
    let q = core
        .create_plan(
            &op,
            terms(
                PROVIDER,
                "Provider 2000",
                2000,
                Features {
                    custom_branding: true,
                    ..Features::default()
                },
            ),
        )
        .await
        .unwrap();
    let r = core
        .create_tenant(
            &op,
            NewTenant {
                name: "R".into(),
                kind: TenantKind::Reseller,
                plan: Some(q.id),
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let admin = admin_of(core, r, "r-admin").await;
    (r, q.id, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_grants_no_more_than_its_owners_own_plan() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let (r, _, admin) = reseller(&core).await;
    let branding = Features {
        custom_branding: true,
        ..Features::default()
    };
    let tls = Features {
        tls: true,
        ..Features::default()
    };
    // (largest mailbox, features, the field refused or "" when accepted)
    let cases: &[(u64, Features, &str)] = &[
        (9_999_999, Features::default(), "max_mailbox_mb"),
        (2001, Features::default(), "max_mailbox_mb"),
        (2000, Features::default(), ""),
        (500, branding, ""),
        (500, tls, "features.tls"),
        (
            500,
            Features {
                api_access: true,
                ..Features::default()
            },
            "features.api_access",
        ),
    ];
    for (i, (max, features, refused)) in cases.iter().enumerate() {
        let r = core
            .create_plan(&admin, terms(r, &format!("p{i}"), *max, *features))
            .await;
        if refused.is_empty() {
            r.unwrap_or_else(|e| panic!("case {i}: {e}"));
        } else {
            assert_eq!(invalid_field(r), *refused, "case {i}");
        }
    }
    // Raising an existing plan past the owner's is refused the same way.
    let p = core
        .create_plan(&admin, terms(r, "small", 100, Features::default()))
        .await
        .unwrap();
    let raised = core
        .update_plan(
            &admin,
            p.id,
            terms(r, "small", 9_999_999, Features::default()),
        )
        .await;
    assert_eq!(invalid_field(raised), "max_mailbox_mb");
    // The owner's limits count as well as its plan.
    core.set_limits(
        &Actor::operator(),
        LimitsOf::Tenant(r),
        Limits {
            max_mailbox_mb: Some(1000),
            ..Limits::default()
        },
    )
    .await
    .unwrap();
    let over = core
        .create_plan(&admin, terms(r, "over", 1500, Features::default()))
        .await;
    assert_eq!(invalid_field(over), "max_mailbox_mb");
    // The provider's own plans are bounded by the range only.
    core.create_plan(
        &Actor::operator(),
        terms(PROVIDER, "huge", MAX_MB, Features::default()),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_stays_within_every_plan_above_it() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    let (r, q, admin) = reseller(&core).await;
    let p = core
        .create_plan(&admin, terms(r, "R's 2000", 2000, Features::default()))
        .await
        .unwrap();
    let c = core
        .create_tenant(
            &admin,
            NewTenant {
                name: "C".into(),
                parent: r,
                plan: Some(p.id),
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    core.create_domain(
        &admin,
        NewDomain {
            name: "c.example".into(),
            tenant: c,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    // The provider then lowers the reseller's own plan: C's plan still says 2000, but no
    // mailbox below R may pass 500 any more.
    core.update_plan(
        &op,
        q,
        NewPlan {
            default_mailbox_mb: 10,
            ..terms(PROVIDER, "Provider 500", 500, Features::default())
        },
    )
    .await
    .unwrap();
    for (quota, ok) in [(999_999, false), (501, false), (500, true)] {
        let r = core
            .create_mailbox(&admin, mailbox(&format!("m{quota}@c.example"), quota))
            .await;
        match (ok, r) {
            (true, Ok(_)) => {}
            (false, Err(CoreError::LimitExceeded { max, .. })) => assert_eq!(max, 500),
            (_, other) => panic!("quota {quota}: {other:?}"),
        }
    }
    let grown = core
        .update_mailbox(
            &admin,
            "m500@c.example",
            MailboxChanges {
                quota_mb: Some(2000),
                ..MailboxChanges::default()
            },
        )
        .await;
    assert!(
        matches!(grown, Err(CoreError::LimitExceeded { .. })),
        "{grown:?}"
    );
    // Beyond the range altogether: refused as invalid before any limit is looked at.
    let huge = core
        .create_mailbox(&op, mailbox("huge@c.example", u64::MAX))
        .await;
    assert_eq!(invalid_field(huge), "quota_mb");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_grant_no_more_than_the_parent() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    let (r, _, admin) = reseller(&core).await;
    let mut per_tier = std::collections::BTreeMap::new();
    per_tier.insert(Tier::Standard, 10);
    let parent = Limits {
        domains: Some(5),
        mailboxes: per_tier,
        aliases: Some(20),
        lists: Some(3),
        max_mailbox_mb: Some(500),
        storage_mb: Some(1000),
    };
    core.set_limits(&op, LimitsOf::Tenant(r), parent.clone())
        .await
        .unwrap();
    let c = core
        .create_tenant(
            &admin,
            NewTenant {
                name: "C".into(),
                parent: r,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    core.create_domain(
        &admin,
        NewDomain {
            name: "c.example".into(),
            tenant: c,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    type Set = fn(&mut Limits, u64);
    let fields: &[(&str, Set, u64)] = &[
        ("limits.domains", |l, v| l.domains = Some(v), 5),
        (
            "limits.mailboxes",
            |l, v| {
                l.mailboxes.insert(Tier::Standard, v);
            },
            10,
        ),
        ("limits.aliases", |l, v| l.aliases = Some(v), 20),
        ("limits.lists", |l, v| l.lists = Some(v), 3),
        (
            "limits.max_mailbox_mb",
            |l, v| l.max_mailbox_mb = Some(v),
            500,
        ),
        ("limits.storage_mb", |l, v| l.storage_mb = Some(v), 1000),
    ];
    for (field, set, granted) in fields {
        let mut over = Limits::default();
        set(&mut over, granted + 1);
        let mut equal = Limits::default();
        set(&mut equal, *granted);
        // A child tenant, set by the reseller's administrator or by the provider alike.
        for who in [&admin, &op] {
            let e = core
                .set_limits(who, LimitsOf::Tenant(c), over.clone())
                .await;
            assert_eq!(invalid_field(e), *field, "tenant, over");
        }
        core.set_limits(&admin, LimitsOf::Tenant(c), equal.clone())
            .await
            .unwrap_or_else(|e| panic!("{field} equal: {e}"));
        core.set_limits(&admin, LimitsOf::Tenant(c), Limits::default())
            .await
            .unwrap();
        // A domain below it.
        if *field != "limits.domains" {
            let e = core
                .set_limits(&admin, LimitsOf::Domain("c.example".into()), over.clone())
                .await;
            assert_eq!(invalid_field(e), *field, "domain, over");
            core.set_limits(&admin, LimitsOf::Domain("c.example".into()), equal.clone())
                .await
                .unwrap_or_else(|e| panic!("{field} domain equal: {e}"));
        }
        // A new tenant or domain with its limits.
        let e = core
            .create_tenant(
                &admin,
                NewTenant {
                    name: "New".into(),
                    parent: r,
                    limits: over.clone(),
                    ..NewTenant::default()
                },
            )
            .await;
        assert_eq!(invalid_field(e), *field, "new tenant");
        if *field != "limits.domains" {
            let e = core
                .create_domain(
                    &admin,
                    NewDomain {
                        name: "new.example".into(),
                        tenant: c,
                        limits: over.clone(),
                    },
                )
                .await;
            assert_eq!(invalid_field(e), *field, "new domain");
        }
    }
    // No limit at a level is always allowed: the levels above still apply.
    core.set_limits(&admin, LimitsOf::Tenant(c), Limits::default())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_beyond_their_range_are_refused() {
    let p = Platform::builder().reseller("R").build().await;
    let (core, r) = (&p.core, p.tenant("R"));
    let op = Actor::operator();
    type Set = fn(&mut Limits, u64);
    let fields: &[(&str, Set, u64)] = &[
        ("limits.domains", |l, v| l.domains = Some(v), MAX_COUNT),
        (
            "limits.mailboxes",
            |l, v| {
                l.mailboxes.insert(Tier::Premium, v);
            },
            MAX_COUNT,
        ),
        ("limits.aliases", |l, v| l.aliases = Some(v), MAX_COUNT),
        ("limits.lists", |l, v| l.lists = Some(v), MAX_COUNT),
        (
            "limits.max_mailbox_mb",
            |l, v| l.max_mailbox_mb = Some(v),
            MAX_MB,
        ),
        ("limits.storage_mb", |l, v| l.storage_mb = Some(v), MAX_MB),
    ];
    for (field, set, max) in fields {
        for bad in [u64::MAX, max + 1] {
            let mut l = Limits::default();
            set(&mut l, bad);
            let e = core.set_limits(&op, LimitsOf::Tenant(r), l).await;
            assert_eq!(invalid_field(e), *field, "{bad}");
        }
        let mut l = Limits::default();
        set(&mut l, *max);
        core.set_limits(&op, LimitsOf::Tenant(r), l)
            .await
            .unwrap_or_else(|e| panic!("{field} at its maximum: {e}"));
    }
    let plan = |max_mailbox_mb, price_credits| NewPlan {
        price_credits,
        ..terms(r, "p", max_mailbox_mb, Features::default())
    };
    for (p, field) in [
        (plan(u64::MAX, 0), "max_mailbox_mb"),
        (plan(MAX_MB + 1, 0), "max_mailbox_mb"),
        (plan(10, u64::MAX), "price_credits"),
        (plan(10, MAX_CREDITS + 1), "price_credits"),
    ] {
        assert_eq!(invalid_field(core.create_plan(&op, p).await), field);
    }
    core.create_plan(&op, plan(MAX_MB, MAX_CREDITS))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_make_postmasters() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    let (r, _, admin) = reseller(&core).await;
    let d = core
        .create_domain(
            &op,
            NewDomain {
                name: "r.example".into(),
                tenant: r,
                ..NewDomain::default()
            },
        )
        .await
        .unwrap();
    let helpdesk = staff(
        &core,
        r,
        "help",
        StaffKind::Helpdesk {
            domains: vec![d.id],
        },
    )
    .await;
    let pm = core
        .create_mailbox(
            &op,
            NewMailbox {
                postmaster: true,
                ..mailbox("pm@r.example", 10)
            },
        )
        .await
        .unwrap();
    let pm_actor = marque_tests::actor(&core, PrincipalId::Mailbox(pm.id)).await;
    core.create_mailbox(&op, mailbox("u@r.example", 10))
        .await
        .unwrap();
    let flag = |on| MailboxChanges {
        postmaster: Some(on),
        ..MailboxChanges::default()
    };

    // The help desk creates and changes mailboxes, but makes no postmaster, takes over none
    // (password, token), and takes the flag from none.
    let e = core
        .create_mailbox(
            &helpdesk,
            NewMailbox {
                postmaster: true,
                ..mailbox("h@r.example", 10)
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    core.create_mailbox(&helpdesk, mailbox("h@r.example", 10))
        .await
        .unwrap();
    for (address, on) in [("u@r.example", true), ("pm@r.example", false)] {
        let e = core
            .update_mailbox(&helpdesk, address, flag(on))
            .await
            .unwrap_err();
        assert!(e.is_forbidden(), "{address}: {e}");
    }
    // Saving a form that leaves the flag as it is stays allowed.
    core.update_mailbox(&helpdesk, "u@r.example", flag(false))
        .await
        .unwrap();
    let e = core
        .set_password(&helpdesk, "pm@r.example", "taken over")
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    core.set_password(&helpdesk, "u@r.example", "reset by help desk")
        .await
        .unwrap();
    let e = core
        .create_token(
            &helpdesk,
            NewToken {
                name: "pm".into(),
                principal: Some(PrincipalId::Mailbox(pm.id)),
                ..NewToken::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");

    // A postmaster may make another postmaster of its domain (it holds no right the first
    // does not) and reset its own password; the reseller's administrator may do all of it.
    core.update_mailbox(&pm_actor, "u@r.example", flag(true))
        .await
        .unwrap();
    core.set_password(&pm_actor, "pm@r.example", "my own new one")
        .await
        .unwrap();
    core.update_mailbox(&admin, "u@r.example", flag(false))
        .await
        .unwrap();
    core.create_mailbox(
        &admin,
        NewMailbox {
            postmaster: true,
            ..mailbox("pm2@r.example", 10)
        },
    )
    .await
    .unwrap();
    core.set_password(&admin, "pm@r.example", "reset by admin")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_define_no_plans() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let (r, _, r_admin) = reseller(&core).await;
    let c = core
        .create_tenant(
            &r_admin,
            NewTenant {
                name: "C".into(),
                parent: r,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let c_admin = admin_of(&core, c, "c-admin").await;
    for who in [&c_admin, &r_admin, &Actor::operator()] {
        let e = core
            .create_plan(who, terms(c, "mine", 10, Features::default()))
            .await
            .unwrap_err();
        assert!(e.is_forbidden(), "{e}");
    }
    let e = core
        .create_plan(&c_admin, terms(r, "parent's", 10, Features::default()))
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

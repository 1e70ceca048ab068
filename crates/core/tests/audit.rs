//! The audit trail: every change recorded with who, what, when, from where and the outcome,
//! readable by every administrator above the target and by nobody outside.

use marque_core::*;
use marque_tests::Platform;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_refusals_are_audited() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    let r = core
        .create_tenant(
            &op,
            NewTenant {
                name: "R".into(),
                kind: TenantKind::Reseller,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let c = core
        .create_tenant(
            &op,
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
    let s = core
        .create_staff(
            &op,
            NewStaff {
                tenant: r,
                login: "radmin".into(),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    let admin = marque_tests::actor(&core, PrincipalId::Staff(s.id))
        .await
        .with_source("203.0.113.7");
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
    core.create_mailbox(
        &admin,
        NewMailbox {
            address: "u@c.example".into(),
            password: "a password".into(),
            quota_mb: Some(5),
            ..NewMailbox::default()
        },
    )
    .await
    .unwrap();

    // The customer's trail, as its reseller reads it: newest first, with who, what and where.
    let page = core
        .audit(&admin, AuditScope::Tenant(c), None, 50)
        .await
        .unwrap();
    let whats: Vec<&str> = page.records.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats, ["mailbox.create", "domain.create", "tenant.create"]);
    let m = &page.records[0];
    assert_eq!(
        (m.who.as_str(), m.from.as_str(), m.outcome.as_str()),
        ("radmin", "203.0.113.7", "ok")
    );
    assert_eq!(m.target, "mailbox:u@c.example");
    assert!(m.when > 0);
    assert!(
        !serde_json::to_string(&m.detail).unwrap().contains("argon2"),
        "no password hash in the trail"
    );

    // The domain's view holds only what touched the domain.
    let d = core
        .audit(&admin, AuditScope::Domain("c.example".into()), None, 50)
        .await
        .unwrap();
    assert_eq!(
        d.records
            .iter()
            .map(|r| r.what.as_str())
            .collect::<Vec<_>>(),
        ["mailbox.create", "domain.create"]
    );

    // The provider sees everything below it; the operator's source is "cli".
    let all = core
        .audit(&op, AuditScope::Tenant(PROVIDER), None, 100)
        .await
        .unwrap();
    assert!(
        all.records
            .iter()
            .any(|r| r.what == "mailbox.create" && r.from == "203.0.113.7")
    );
    assert!(
        all.records
            .iter()
            .any(|r| r.what == "tenant.create" && r.from == "cli")
    );

    // A refused change is recorded too, in the actor's own trail.
    let e = core
        .set_limits(&admin, LimitsOf::Tenant(r), Limits::default())
        .await
        .unwrap_err();
    assert!(e.is_forbidden());
    let trail = core
        .audit(&op, AuditScope::Tenant(r), None, 10)
        .await
        .unwrap();
    let denied = &trail.records[0];
    assert_eq!(
        (
            denied.outcome.as_str(),
            denied.what.as_str(),
            denied.who.as_str()
        ),
        ("denied", "LimitsSet", "radmin")
    );

    // A customer's administrator cannot read its reseller's trail.
    let cs = core
        .create_staff(
            &op,
            NewStaff {
                tenant: c,
                login: "cadmin".into(),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    let cadmin = marque_tests::actor(&core, PrincipalId::Staff(cs.id)).await;
    assert!(
        core.audit(&cadmin, AuditScope::Tenant(r), None, 10)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        !core
            .audit(&cadmin, AuditScope::Tenant(c), None, 10)
            .await
            .unwrap()
            .records
            .is_empty()
    );
}

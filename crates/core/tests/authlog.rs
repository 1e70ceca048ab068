//! Sign-in through `Core::sign_in` and the authentication log it writes.

use marque_core::authlog::Attempt;
use marque_core::{Actor, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantKind};
use marque_store::logs::Term;
use marque_tests::Platform;

fn attempt<'a>(login: &'a str, remote: &'a str) -> Attempt<'a> {
    Attempt {
        protocol: "imap",
        login,
        remote,
        mechanism: "PLAIN",
    }
}

#[tokio::test]
async fn every_attempt_is_logged_for_the_right_tenants_without_the_secret() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    let reseller = core
        .create_tenant(
            &op,
            NewTenant {
                name: "R".into(),
                kind: TenantKind::Reseller,
                parent: PROVIDER,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let customer = core
        .create_tenant(
            &op,
            NewTenant {
                name: "C".into(),
                kind: TenantKind::Customer,
                parent: reseller,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    core.create_domain(
        &op,
        NewDomain {
            name: "c.example".into(),
            tenant: customer,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    core.create_mailbox(
        &op,
        NewMailbox {
            address: "ann@c.example".into(),
            password: "correct horse battery".into(),
            quota_mb: Some(100),
            tier: None,
            postmaster: false,
        },
    )
    .await
    .unwrap();

    let ok = core
        .sign_in(
            attempt("Ann@C.example", "192.0.2.1"),
            "correct horse battery",
        )
        .await
        .unwrap();
    assert_eq!(ok.principal.name, "ann@c.example");
    let bad = core
        .sign_in(attempt("ann@c.example", "192.0.2.2"), "wrong secret")
        .await
        .unwrap_err();
    assert!(bad.to_string().to_lowercase().contains("auth"), "{bad}");
    core.sign_in(attempt("nobody@c.example", "192.0.2.3"), "x")
        .await
        .unwrap_err();
    core.sign_in(attempt("nobody@elsewhere.example", "192.0.2.4"), "x")
        .await
        .unwrap_err();

    // The customer sees its three records, newest first; the reseller sees the same three.
    for tenant in [customer, reseller] {
        let page = core
            .auth_log(tenant, None, 0, u64::MAX, None, 50)
            .await
            .unwrap();
        let seen: Vec<_> = page
            .records
            .iter()
            .map(|r| (r.remote.as_str(), r.outcome.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("192.0.2.3", "failure"),
                ("192.0.2.2", "failure"),
                ("192.0.2.1", "success")
            ],
            "tenant {tenant}"
        );
    }
    // A login of a domain that is not ours is only the provider's business.
    let provider = core
        .auth_log(PROVIDER, None, 0, u64::MAX, None, 50)
        .await
        .unwrap();
    assert_eq!(provider.records.len(), 4);
    assert_eq!(provider.records[0].login, "nobody@elsewhere.example");
    // Search by login and by IP.
    let by_login = core
        .auth_log(
            customer,
            Some((Term::Address, "ann@c.example".into())),
            0,
            u64::MAX,
            None,
            50,
        )
        .await
        .unwrap();
    assert_eq!(by_login.records.len(), 2);
    let by_ip = core
        .auth_log(
            reseller,
            Some((Term::Ip, "192.0.2.2".into())),
            0,
            u64::MAX,
            None,
            50,
        )
        .await
        .unwrap();
    assert_eq!(by_ip.records.len(), 1);
    assert!(!by_ip.records[0].reason.is_empty());
    // No secret in any record.
    for r in &provider.records {
        let json = serde_json::to_string(r).unwrap();
        assert!(
            !json.contains("correct horse") && !json.contains("wrong secret"),
            "{json}"
        );
    }
}

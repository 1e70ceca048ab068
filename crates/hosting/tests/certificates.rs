//! Certificates per hostname in the store: upload checks (parses, key matches, covers the
//! name, not expired), who may upload, order and delete (the provider's staff for any name,
//! a tenant's administrators for its own names and only with `features.tls`), and the
//! records the ACME client keeps.

use marque_core::plan::{Features, NewPlan, Tier};
use marque_core::*;
use marque_hosting::Hosting;
use marque_hosting::cert::{self, CertSource};
use marque_tests::Platform;

fn pem(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let c = rcgen::generate_simple_self_signed(names).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

async fn customer(core: &Core, name: &str, tls: bool) -> (TenantId, Actor) {
    let op = Actor::operator();
    let plan = core
        .create_plan(
            &op,
            NewPlan {
                owner: PROVIDER,
                name: format!("plan {name}"),
                tier: Tier::Standard,
                default_mailbox_mb: 10,
                max_mailbox_mb: 10,
                features: Features {
                    tls,
                    ..Features::default()
                },
                price_credits: 0,
            },
        )
        .await
        .unwrap();
    let t = core
        .create_tenant(
            &op,
            NewTenant {
                name: name.into(),
                kind: TenantKind::Customer,
                parent: PROVIDER,
                plan: Some(plan.id),
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
            name: format!("{name}.test"),
            tenant: t,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    let staff = core
        .create_staff(
            &op,
            NewStaff {
                tenant: t,
                login: format!("admin-{name}"),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    (
        t,
        marque_tests::actor(core, PrincipalId::Staff(staff.id)).await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_checked_before_they_are_stored() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let hosting = Hosting::new(core);
    let op = Actor::operator();
    let (chain, key) = pem(&["mail.example.test"]);
    let (_, other_key) = pem(&["mail.example.test"]);
    let changes = hosting.certificate_changes();

    let invalid = |r: Result<cert::CertificateInfo>| match r {
        Err(CoreError::Invalid { field, reason }) => {
            assert_eq!(field, "certificate");
            reason
        }
        other => panic!("expected a refusal, got {other:?}"),
    };
    let why = invalid(
        hosting
            .upload_certificate(&op, "mail.example.test", "junk", &key)
            .await,
    );
    assert!(why.contains("no certificate"), "{why}");
    let why = invalid(
        hosting
            .upload_certificate(&op, "mail.example.test", &chain, &other_key)
            .await,
    );
    assert!(why.contains("does not match"), "{why}");
    let why = invalid(
        hosting
            .upload_certificate(&op, "imap.example.test", &chain, &key)
            .await,
    );
    assert!(why.contains("does not cover imap.example.test"), "{why}");
    assert!(hosting.all_certificates().await.unwrap().is_empty());
    assert!(!changes.has_changed().unwrap());

    let info = hosting
        .upload_certificate(&op, "Mail.Example.Test", &chain, &key)
        .await
        .unwrap();
    assert_eq!(info.hostname, "mail.example.test");
    assert_eq!(info.source, CertSource::Upload);
    assert_eq!(info.owner, PROVIDER);
    assert!(info.issued && info.not_after_ms > 0);
    assert!(changes.has_changed().unwrap());
    let stored = hosting.all_certificates().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].key_pem(), Some(key.as_str()));
    stored[0].parsed().unwrap().unwrap();

    hosting
        .delete_certificate(&op, "mail.example.test")
        .await
        .unwrap();
    assert!(hosting.all_certificates().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_manage_only_their_own_names_and_only_with_the_tls_feature() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let (alpha, alpha_admin) = customer(&core, "alpha", true).await;
    let (_, beta_admin) = customer(&core, "beta", false).await;
    let (chain, key) = pem(&["mail.alpha.test"]);

    // Alpha's plan includes TLS: its own name is accepted, the owner is alpha.
    let info = hosting
        .upload_certificate(&alpha_admin, "mail.alpha.test", &chain, &key)
        .await
        .unwrap();
    assert_eq!(info.owner, alpha);
    // Beta neither sees nor changes alpha's certificate.
    assert!(hosting.certificates(&beta_admin).await.unwrap().is_empty());
    assert!(matches!(
        hosting
            .delete_certificate(&beta_admin, "mail.alpha.test")
            .await,
        Err(CoreError::NotFound { .. })
    ));
    // A name of the platform (no tenant's domain) is the provider's: refused, saying why.
    let (pchain, pkey) = pem(&["mail.platform.test"]);
    assert!(matches!(
        hosting
            .upload_certificate(&alpha_admin, "mail.platform.test", &pchain, &pkey)
            .await,
        Err(CoreError::HostnameNotOwned { .. })
    ));
    // Beta's plan has no TLS: even its own name is refused.
    let (bchain, bkey) = pem(&["mail.beta.test"]);
    assert!(matches!(
        hosting
            .upload_certificate(&beta_admin, "mail.beta.test", &bchain, &bkey)
            .await,
        Err(CoreError::Forbidden { .. })
    ));
    assert!(matches!(
        hosting
            .request_certificate(&beta_admin, "mail.beta.test")
            .await,
        Err(CoreError::Forbidden { .. })
    ));
    // The provider's staff may act on any name.
    hosting
        .request_certificate(&Actor::operator(), "mail.beta.test")
        .await
        .unwrap();
    let listed = hosting.certificates(&alpha_admin).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        hosting
            .certificates(&Actor::operator())
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acme_outcomes_are_kept_on_the_record() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let hosting = Hosting::new(core);
    hosting.set_http01_answer("tok", "tok.thumb").await.unwrap();
    assert_eq!(
        hosting.http01_answer("tok").await.unwrap().as_deref(),
        Some("tok.thumb")
    );
    hosting.remove_http01_answer("tok").await.unwrap();
    assert_eq!(hosting.http01_answer("tok").await.unwrap(), None);

    assert_eq!(hosting.acme_account().await.unwrap(), None);
    hosting
        .set_acme_account("{\"id\":\"x\"}".into())
        .await
        .unwrap();
    assert_eq!(
        hosting.acme_account().await.unwrap().as_deref(),
        Some("{\"id\":\"x\"}")
    );

    hosting
        .record_certificate_failure("mail.example.test", "rejected: unauthorized")
        .await
        .unwrap();
    let c = &hosting.all_certificates().await.unwrap()[0];
    assert_eq!(c.last_error.as_deref(), Some("rejected: unauthorized"));
    assert!(c.chain_pem.is_none());

    let (chain, key) = pem(&["mail.example.test"]);
    hosting
        .store_issued_certificate("mail.example.test", &chain, &key)
        .await
        .unwrap();
    let c = &hosting.all_certificates().await.unwrap()[0];
    assert_eq!(c.last_error, None);
    assert_eq!(c.source, CertSource::Acme);
    assert!(c.chain_pem.is_some());
}

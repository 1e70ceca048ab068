//! Global scripts per tenant and per domain: who may set them, and their place around the
//! user's script at delivery.

mod sieve_support;

use marque_core::principal::{Principal, PrincipalId, Role, Scope, Via};
use marque_core::{Actor, CoreError, PROVIDER};
use marque_delivery::RecipientResult;
use marque_hosting::sieve_global::{GlobalTarget, Phase};
use sieve_support::{message, world};

const SPAM_TO_JUNK: &str = r#"require ["fileinto"];
if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; }"#;

#[tokio::test]
async fn a_provider_rule_files_spam_to_junk_before_the_users_script() {
    let w = world().await;
    let op = Actor::operator();
    w.hosting
        .set_global_sieve(
            &op,
            GlobalTarget::Tenant(PROVIDER),
            Phase::Before,
            SPAM_TO_JUNK.into(),
        )
        .await
        .unwrap();
    // The user's own rule would file everything to "Mine": it does not run for spam.
    w.script(
        "ann@c.example",
        r#"require ["fileinto", "mailbox"]; fileinto :create "Mine";"#,
    )
    .await;
    let mut spam = b"X-Spam-Flag: YES\r\n".to_vec();
    spam.extend(message("x@remote.example", "ann@c.example", "buy", "b"));
    w.deliver(&spam, "x@remote.example", &["ann@c.example"])
        .await;
    assert_eq!(w.folder("ann@c.example", "Junk").await.len(), 1);
    assert!(w.folder("ann@c.example", "Mine").await.is_empty());

    // Ham passes the global rule with its implicit keep; the user's script decides.
    let ham = message("x@remote.example", "ann@c.example", "hi", "b");
    w.deliver(&ham, "x@remote.example", &["ann@c.example"])
        .await;
    assert_eq!(w.folder("ann@c.example", "Mine").await.len(), 1);
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());
}

#[tokio::test]
async fn domain_before_and_after_scripts_run_in_order() {
    let w = world().await;
    let op = Actor::operator();
    let domain = GlobalTarget::Domain("c.example".into());
    w.hosting
        .set_global_sieve(
            &op,
            domain.clone(),
            Phase::Before,
            br#"require "imap4flags"; addflag "$domain-before";"#.to_vec(),
        )
        .await
        .unwrap();
    w.hosting
        .set_global_sieve(
            &op,
            domain.clone(),
            Phase::After,
            br#"require ["fileinto", "mailbox"]; fileinto :create "After";"#.to_vec(),
        )
        .await
        .unwrap();
    let m = message("x@remote.example", "ann@c.example", "x", "b");
    w.deliver(&m, "x@remote.example", &["ann@c.example"]).await;
    // Before flagged the keep; after filed the message: the keep ended with the after script.
    assert!(w.folder("ann@c.example", "INBOX").await.is_empty());
    assert_eq!(w.folder("ann@c.example", "After").await.len(), 1);

    // A user script that cancels the keep ends the chain: the after script does not run.
    w.script("bob@c.example", "discard;").await;
    let (res, _) = w.deliver(&m, "x@remote.example", &["bob@c.example"]).await;
    assert_eq!(res[0], RecipientResult::Discarded);
    assert!(w.folder("bob@c.example", "After").await.is_empty());

    // A flag set by a script before the user's survives the user's keep.
    w.hosting
        .clear_global_sieve(&op, domain.clone(), Phase::After)
        .await
        .unwrap();
    w.script("bob@c.example", "keep;").await;
    w.deliver(&m, "x@remote.example", &["bob@c.example"]).await;
    let inbox = w.folder("bob@c.example", "INBOX").await;
    assert_eq!(inbox[0].0.keywords, vec!["$domain-before".to_string()]);
}

#[tokio::test]
async fn a_broken_global_script_still_delivers() {
    let w = world().await;
    w.hosting
        .set_global_sieve(
            &Actor::operator(),
            GlobalTarget::Domain("c.example".into()),
            Phase::Before,
            b"if true {".to_vec(),
        )
        .await
        .unwrap();
    let (res, record) = w
        .deliver(
            &message("x@remote.example", "ann@c.example", "x", "b"),
            "x@remote.example",
            &["ann@c.example"],
        )
        .await;
    assert!(matches!(res[0], RecipientResult::Delivered { .. }));
    assert!(
        record.recipients[0]
            .reason
            .contains("global script of domain")
    );
}

#[tokio::test]
async fn the_postmaster_may_not_set_a_global_script_and_the_admin_may() {
    let w = world().await;
    let op = Actor::operator();
    let domain = w.core.get_domain(&op, "c.example").await.unwrap();
    let ann = w.account("ann@c.example").await;
    let postmaster = Actor {
        principal: Principal {
            id: PrincipalId::Mailbox(ann),
            name: "ann@c.example".into(),
            path: vec![PROVIDER, w.customer],
            role: Role::Postmaster {
                domain: domain.id,
                account: ann,
            },
        },
        source: "192.0.2.1".into(),
        via: Via::Password,
        scope: Scope::default(),
    };
    for target in [
        GlobalTarget::Domain("c.example".into()),
        GlobalTarget::Tenant(w.customer),
    ] {
        let e = w
            .hosting
            .set_global_sieve(
                &postmaster,
                target.clone(),
                Phase::Before,
                b"keep;".to_vec(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, CoreError::Forbidden { .. } | CoreError::NotFound { .. }),
            "{e:?}"
        );
    }
    // The customer's own administrator may.
    let admin = Actor {
        principal: Principal {
            id: PrincipalId::Operator,
            name: "admin@c".into(),
            path: vec![PROVIDER, w.customer],
            role: Role::Admin,
        },
        source: "192.0.2.1".into(),
        via: Via::Password,
        scope: Scope::default(),
    };
    w.hosting
        .set_global_sieve(
            &admin,
            GlobalTarget::Tenant(w.customer),
            Phase::After,
            b"keep;".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(
        w.hosting
            .get_global_sieve(&admin, GlobalTarget::Tenant(w.customer), Phase::After)
            .await
            .unwrap(),
        Some(b"keep;".to_vec())
    );
    // But not the provider's.
    assert!(
        w.hosting
            .set_global_sieve(
                &admin,
                GlobalTarget::Tenant(PROVIDER),
                Phase::After,
                b"keep;".to_vec()
            )
            .await
            .is_err()
    );
    // Too large or not UTF-8: refused.
    assert!(matches!(
        w.hosting
            .set_global_sieve(
                &admin,
                GlobalTarget::Tenant(w.customer),
                Phase::After,
                vec![0xff]
            )
            .await,
        Err(CoreError::Invalid { .. })
    ));
}

//! Tokens and passwords: what authenticates and what does not; what is stored.

use marque_core::*;
use marque_store::{Direction, Keyspace, Range, Store, StoreOptions};
use marque_tests::Platform;

fn stored_anywhere(store: &Store, needle: &[u8]) -> bool {
    [
        Keyspace::Directory,
        Keyspace::Names,
        Keyspace::Logs,
        Keyspace::LogIndex,
    ]
    .iter()
    .any(|ks| {
        store
            .scan(
                *ks,
                &Range {
                    start: vec![],
                    end: None,
                },
                Direction::Forward,
                usize::MAX,
            )
            .unwrap()
            .iter()
            .any(|(k, v)| {
                k.windows(needle.len()).any(|w| w == needle)
                    || v.windows(needle.len()).any(|w| w == needle)
            })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_token_and_idempotence() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let core = Core::open_with(store, HashCost::insecure_for_tests()).unwrap();
    assert!(matches!(
        core.bootstrap(Some("short".into())).await,
        Err(CoreError::Invalid { .. })
    ));
    let secret = "a-configured-admin-token-0123456789";
    let b = core.bootstrap(Some(secret.into())).await.unwrap();
    assert_eq!(
        b,
        Bootstrap {
            provider: PROVIDER,
            token: Some(secret.into())
        }
    );
    let again = core.bootstrap(None).await.unwrap();
    assert_eq!(
        again,
        Bootstrap {
            provider: PROVIDER,
            token: None
        }
    );

    let admin = core.authenticate_token(secret).await.unwrap();
    assert_eq!(admin.principal.role, Role::Admin);
    assert_eq!(admin.principal.tenant(), PROVIDER);
    assert!(matches!(
        core.authenticate_token("a-configured-admin-token-0123456788")
            .await,
        Err(CoreError::AuthFailed)
    ));
    assert!(
        !stored_anywhere(core.store(), secret.as_bytes()),
        "the secret itself is never stored"
    );
    let tokens = core.list_tokens(&admin).await.unwrap();
    assert_eq!(tokens[0].hash, hex::encode(token::hash(secret)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_revoke_and_narrow() {
    let p = Platform::builder().reseller("R").build().await;
    let (core, r) = (&p.core, p.tenant("R"));
    let op = Actor::operator();
    let s = core
        .create_staff(
            &op,
            NewStaff {
                tenant: r,
                login: "r".into(),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    let whom = Some(PrincipalId::Staff(s.id));

    let (tok, secret) = core
        .create_token(
            &op,
            NewToken {
                name: "t".into(),
                principal: whom,
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    assert!(secret.starts_with(token::PREFIX));
    assert!(!stored_anywhere(core.store(), secret.as_bytes()));
    let actor = core.authenticate_token(&secret).await.unwrap();
    assert_eq!(actor.via, Via::Token(tok.id));
    core.revoke_token(&actor, tok.id).await.unwrap();
    assert!(matches!(
        core.authenticate_token(&secret).await,
        Err(CoreError::AuthFailed)
    ));

    let (_, expired) = core
        .create_token(
            &op,
            NewToken {
                name: "old".into(),
                principal: whom,
                expires_ms: Some(1),
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        core.authenticate_token(&expired).await,
        Err(CoreError::AuthFailed)
    ));

    // A read-only token reads but changes nothing, and cannot mint a wider token.
    let (_, ro) = core
        .create_token(
            &op,
            NewToken {
                name: "ro".into(),
                principal: whom,
                scope: Scope {
                    read_only: true,
                    subtree: None,
                },
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    let ro = core.authenticate_token(&ro).await.unwrap();
    core.get_tenant(&ro, r).await.unwrap();
    let e = core
        .create_tenant(
            &ro,
            NewTenant {
                name: "C".into(),
                parent: r,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");
    let e = core
        .create_token(
            &ro,
            NewToken {
                name: "wider".into(),
                ..NewToken::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_forbidden(), "{e}");

    // A token narrowed to one customer reaches nothing else of its principal's subtree.
    let c1 = core
        .create_tenant(
            &op,
            NewTenant {
                name: "C1".into(),
                parent: r,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let c2 = core
        .create_tenant(
            &op,
            NewTenant {
                name: "C2".into(),
                parent: r,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let (_, narrow) = core
        .create_token(
            &op,
            NewToken {
                name: "c1".into(),
                principal: whom,
                scope: Scope {
                    read_only: false,
                    subtree: Some(c1),
                },
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    let narrow = core.authenticate_token(&narrow).await.unwrap();
    core.get_tenant(&narrow, c1).await.unwrap();
    core.create_domain(
        &narrow,
        NewDomain {
            name: "c1.example".into(),
            tenant: c1,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    assert!(
        core.get_tenant(&narrow, c2)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        core.get_tenant(&narrow, r)
            .await
            .unwrap_err()
            .is_not_found()
    );
    // ...not even its own principal's record, so it cannot mint a token wider than itself.
    let e = core
        .create_token(
            &narrow,
            NewToken {
                name: "wide".into(),
                scope: Scope {
                    read_only: false,
                    subtree: Some(r),
                },
                ..NewToken::default()
            },
        )
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");

    // Deleting the principal kills its tokens.
    let (_, live) = core
        .create_token(
            &op,
            NewToken {
                name: "live".into(),
                principal: whom,
                ..NewToken::default()
            },
        )
        .await
        .unwrap();
    core.delete_staff(&op, s.id).await.unwrap();
    assert!(matches!(
        core.authenticate_token(&live).await,
        Err(CoreError::AuthFailed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_argon2_and_verify() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let op = Actor::operator();
    core.create_domain(
        &op,
        NewDomain {
            name: "p.example".into(),
            tenant: PROVIDER,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    let m = core
        .create_mailbox(
            &op,
            NewMailbox {
                address: "u@p.example".into(),
                password: "first password".into(),
                quota_mb: Some(1),
                ..NewMailbox::default()
            },
        )
        .await
        .unwrap();
    assert!(!stored_anywhere(core.store(), b"first password"));
    assert!(stored_anywhere(core.store(), b"$argon2id$"));

    let user = core
        .authenticate_password("U@p.example", "first password")
        .await
        .unwrap();
    assert_eq!(
        user.principal.role,
        Role::User {
            domain: m.domain,
            account: m.id
        }
    );
    assert_eq!(user.via, Via::Password);
    for (name, pw) in [
        ("u@p.example", "wrong password"),
        ("nobody@p.example", "first password"),
        ("nobody", "first password"),
    ] {
        assert!(
            matches!(
                core.authenticate_password(name, pw).await,
                Err(CoreError::AuthFailed)
            ),
            "{name}"
        );
    }
    core.set_password(&user, "u@p.example", "second password")
        .await
        .unwrap();
    assert!(
        core.authenticate_password("u@p.example", "first password")
            .await
            .is_err()
    );
    core.authenticate_password("u@p.example", "second password")
        .await
        .unwrap();
    core.update_mailbox(
        &op,
        "u@p.example",
        MailboxChanges {
            enabled: Some(false),
            ..MailboxChanges::default()
        },
    )
    .await
    .unwrap();
    assert!(
        core.authenticate_password("u@p.example", "second password")
            .await
            .is_err(),
        "disabled"
    );

    let s = core
        .create_staff(
            &op,
            NewStaff {
                tenant: PROVIDER,
                login: "Ops".into(),
                password: Some("staff password".into()),
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    let staff = core
        .authenticate_password("ops", "staff password")
        .await
        .unwrap();
    assert_eq!(staff.principal.id, PrincipalId::Staff(s.id));
    assert!(
        core.authenticate_password("ops", "staff passworD")
            .await
            .is_err()
    );
}

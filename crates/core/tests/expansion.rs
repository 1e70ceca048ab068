//! Aliases and mailing lists: the shared create/read/update/delete path with its limits,
//! counters, address collisions, resolution for delivery, and tenant scoping.

use marque_core::lookup::Recipient;
use marque_core::{Actor, Limits, LimitsOf, PROVIDER};
use marque_tests::Platform;

#[tokio::test]
async fn aliases_and_lists_share_limits_counters_and_scope() {
    // Resellers are created in order: R1 is tenant 2, R2 tenant 3.
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder()
        .reseller("R1")
        .domain("one.example")
        .reseller("R2")
        .domain("two.example")
        .mailbox_with("ann@one.example", "long enough", 10)
        .build()
        .await;
    let op = Actor::operator();
    core.set_limits(
        &op,
        LimitsOf::Domain("one.example".into()),
        Limits {
            aliases: Some(1),
            lists: Some(1),
            ..Limits::default()
        },
    )
    .await
    .unwrap();

    // Targets are validated, sorted and de-duplicated; an alias needs one.
    let to = vec![
        "Zed@elsewhere.example".to_string(),
        "ann@one.example".into(),
        "ann@one.example".into(),
    ];
    let a = core
        .create_alias(&op, "sales@one.example", &to)
        .await
        .unwrap();
    assert_eq!(
        a.targets,
        vec![
            "ann@one.example".to_string(),
            "zed@elsewhere.example".into()
        ]
    );
    assert!(
        core.create_alias(&op, "x@one.example", &[])
            .await
            .unwrap_err()
            .to_string()
            .contains("target")
    );
    assert!(
        core.create_alias(&op, "y@one.example", &["not an address".into()])
            .await
            .is_err()
    );
    // An address has one owner: mailbox, alias or list.
    assert!(
        core.create_alias(&op, "ann@one.example", &to)
            .await
            .is_err()
    );
    assert!(
        core.create_list(&op, "sales@one.example", "Sales", &[])
            .await
            .is_err()
    );
    // The domain allows one alias: the second is refused and counts nothing.
    let over = core
        .create_alias(&op, "info@one.example", &to)
        .await
        .unwrap_err();
    assert!(over.to_string().contains("alias"), "{over}");
    let l = core
        .create_list(&op, "team@one.example", "Team", &["ann@one.example".into()])
        .await
        .unwrap();
    assert_eq!(l.members.len(), 1);
    let usage = core.domain_usage(&op, "one.example").await.unwrap();
    assert_eq!((usage.counts.aliases, usage.counts.lists), (1, 1));

    // Resolution for delivery follows updates.
    core.set_alias_targets(&op, "sales@one.example", &["bob@two.example".into()])
        .await
        .unwrap();
    core.set_list_members(
        &op,
        "team@one.example",
        &["a@x.example".into(), "b@x.example".into()],
    )
    .await
    .unwrap();
    match core.resolve_address("SALES@one.example").await.unwrap() {
        Some(Recipient::Alias { targets }) => {
            assert_eq!(targets, vec!["bob@two.example".to_string()])
        }
        other => panic!("{other:?}"),
    }
    match core.resolve_address("team@one.example").await.unwrap() {
        Some(Recipient::List { members }) => assert_eq!(members.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        core.list_aliases(&op, "one.example").await.unwrap().len(),
        1
    );
    assert_eq!(core.list_lists(&op, "one.example").await.unwrap().len(), 1);

    // The other reseller's admin sees none of it: not found, never forbidden.
    let r2 = marque_core::TenantId(3);
    let provider_admin = core.list_staff(&op, PROVIDER).await.unwrap()[0].id;
    let (_, secret) = core
        .create_token(
            &op,
            marque_core::NewToken {
                name: "r2 only".into(),
                principal: Some(marque_core::PrincipalId::Staff(provider_admin)),
                scope: marque_core::Scope {
                    read_only: false,
                    subtree: Some(r2),
                },
                ..marque_core::NewToken::default()
            },
        )
        .await
        .unwrap();
    let r2_admin = core.authenticate_token(&secret).await.unwrap();
    assert_eq!(
        core.list_aliases(&r2_admin, "two.example")
            .await
            .unwrap()
            .len(),
        0,
        "its own domain is visible"
    );
    assert!(
        core.get_alias(&r2_admin, "sales@one.example")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        core.list_lists(&r2_admin, "one.example")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        core.delete_list(&r2_admin, "team@one.example")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Deleting gives the allocation back and frees the address.
    core.delete_alias(&op, "sales@one.example").await.unwrap();
    core.delete_list(&op, "team@one.example").await.unwrap();
    let usage = core.domain_usage(&op, "one.example").await.unwrap();
    assert_eq!((usage.counts.aliases, usage.counts.lists), (0, 0));
    assert!(
        core.resolve_address("sales@one.example")
            .await
            .unwrap()
            .is_none()
    );
    core.create_alias(&op, "info@one.example", &to)
        .await
        .unwrap();
}

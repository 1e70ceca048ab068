//! The outbound queue in the core: entries enqueued inside a transaction hold a reference on
//! their body; listing, showing, retrying and deleting are scoped by the permission function
//! (the provider sees everything, a tenant admin its subtree, nobody else anything); identities
//! resolve domain → tenant chain.

mod common;

use marque_core::outbound::{
    self, IdentityOf, Kind, OutboundIdentity, QueuedMessage, QueuedRecipient,
};
use marque_core::*;
use marque_store::blob::{self, BlobHash, PreparedBlob};

async fn tenant(core: &Core, name: &str, kind: TenantKind, parent: TenantId) -> TenantId {
    core.create_tenant(
        &Actor::operator(),
        NewTenant {
            name: name.into(),
            kind,
            parent,
            ..NewTenant::default()
        },
    )
    .await
    .unwrap()
    .tenant
    .id
}

async fn admin(core: &Core, t: TenantId, login: &str) -> Actor {
    let s = core
        .create_staff(
            &Actor::operator(),
            NewStaff {
                tenant: t,
                login: login.into(),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    common::actor(core, PrincipalId::Staff(s.id)).await
}

async fn enqueue(core: &Core, owner: TenantId, body: &[u8]) -> (u64, BlobHash) {
    let blob = PreparedBlob::with(body, 1 << 20, 3).unwrap();
    let hash = blob.hash;
    let m = QueuedMessage::new(
        Kind::Relay,
        "a@c.example",
        vec![QueuedRecipient::new("z@remote.example")],
        owner,
    );
    let id = core
        .store()
        .transact(move |txn| outbound::queue_message(txn, m, &blob))
        .await
        .unwrap();
    (id, hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_scoped_to_the_callers_subtree() {
    let (core, _dir) = common::core().await;
    let r1 = tenant(&core, "R1", TenantKind::Reseller, PROVIDER).await;
    let c1 = tenant(&core, "C1", TenantKind::Customer, r1).await;
    let r2 = tenant(&core, "R2", TenantKind::Reseller, PROVIDER).await;
    let (in_c1, hash) = enqueue(&core, c1, b"Subject: one\r\n\r\nx\r\n").await;
    let (in_r2, _) = enqueue(&core, r2, b"Subject: two\r\n\r\ny\r\n").await;
    assert_eq!(blob::references_in(core.store(), &hash).unwrap(), 1);

    let op = Actor::operator();
    let all: Vec<u64> = core
        .queue_list(&op, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(all, vec![in_c1, in_r2]);

    let a1 = admin(&core, r1, "r1admin").await;
    let seen: Vec<u64> = core
        .queue_list(&a1, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        seen,
        vec![in_c1],
        "R1's admin sees its customer's entry only"
    );
    assert!(core.queue_get(&a1, in_r2).await.unwrap_err().is_not_found());
    assert!(
        core.queue_delete(&a1, in_r2)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        core.queue_retry(&a1, in_r2)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // A customer's admin sees its own entry; another reseller's admin sees nothing of R1's.
    let a_c1 = admin(&core, c1, "c1admin").await;
    assert_eq!(core.queue_list(&a_c1, 0, 10).await.unwrap().len(), 1);
    let a2 = admin(&core, r2, "r2admin").await;
    assert!(core.queue_get(&a2, in_c1).await.unwrap_err().is_not_found());

    // Retry makes it due now; delete drops it and its body reference, with an audit record.
    let item = core.queue_retry(&a1, in_c1).await.unwrap();
    assert!(item.next_attempt_ms > 0);
    core.queue_delete(&a1, in_c1).await.unwrap();
    assert!(core.queue_get(&op, in_c1).await.unwrap_err().is_not_found());
    assert_eq!(blob::references_in(core.store(), &hash).unwrap(), 0);
    let trail = core
        .audit(&a1, AuditScope::Tenant(r1), None, 10)
        .await
        .unwrap();
    let whats: Vec<String> = trail.records.iter().map(|r| r.what.clone()).collect();
    assert!(whats.contains(&"queue.delete".to_string()), "{whats:?}");
    assert!(whats.contains(&"queue.retry".to_string()), "{whats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claimed_entries_are_leased_and_delivered_recipients_stay_delivered() {
    let (core, _dir) = common::core().await;
    let c = tenant(&core, "C", TenantKind::Customer, PROVIDER).await;
    let (id, _) = enqueue(&core, c, b"Subject: x\r\n\r\nx\r\n").await;
    let now = u64::MAX / 4;
    let claimed = core
        .store()
        .transact(move |txn| outbound::claim_due(txn, now, 60_000, 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // Leased: not due again until the lease runs out.
    let again = core
        .store()
        .transact(move |txn| outbound::claim_due(txn, now, 60_000, 10))
        .await
        .unwrap();
    assert!(again.is_empty());
    let m = core
        .store()
        .transact(move |txn| {
            outbound::mark_delivered(txn, id, &["z@remote.example".into()], "250 ok", "mx")
        })
        .await
        .unwrap();
    assert!(m.is_done());
    core.store()
        .transact(move |txn| outbound::finish_attempt(txn, id, &m, now))
        .await
        .unwrap();
    assert!(
        core.queue_list(&Actor::operator(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_resolve_from_the_domain_up_the_tenant_chain() {
    let (core, _dir) = common::core().await;
    let op = Actor::operator();
    let r = tenant(&core, "R", TenantKind::Reseller, PROVIDER).await;
    let c = tenant(&core, "C", TenantKind::Customer, r).await;
    core.create_domain(
        &op,
        NewDomain {
            name: "c.example".into(),
            tenant: c,
            ..NewDomain::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        core.outbound_identity(c, Some("c.example".into()))
            .await
            .unwrap(),
        OutboundIdentity::default()
    );
    let reseller_ip = OutboundIdentity {
        source_ip: Some("192.0.2.1".parse().unwrap()),
        ehlo: Some("out.reseller.example".into()),
    };
    core.set_outbound_identity(&op, IdentityOf::Tenant(r), reseller_ip.clone())
        .await
        .unwrap();
    assert_eq!(
        core.outbound_identity(c, Some("c.example".into()))
            .await
            .unwrap(),
        reseller_ip
    );
    core.set_outbound_identity(
        &op,
        IdentityOf::Domain("c.example".into()),
        OutboundIdentity {
            source_ip: Some("192.0.2.9".parse().unwrap()),
            ehlo: None,
        },
    )
    .await
    .unwrap();
    let got = core
        .outbound_identity(c, Some("c.example".into()))
        .await
        .unwrap();
    assert_eq!(got.source_ip, Some("192.0.2.9".parse().unwrap()));
    assert_eq!(got.ehlo.as_deref(), Some("out.reseller.example"));
    // A tenant's own admin may not give itself an address; an invalid name is refused.
    let a = admin(&core, r, "radmin").await;
    assert!(
        core.set_outbound_identity(&a, IdentityOf::Tenant(r), OutboundIdentity::default())
            .await
            .unwrap_err()
            .is_forbidden()
    );
    assert!(
        core.set_outbound_identity(
            &op,
            IdentityOf::Tenant(c),
            OutboundIdentity {
                source_ip: None,
                ehlo: Some("bad name".into()),
            }
        )
        .await
        .is_err()
    );
}

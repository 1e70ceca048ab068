//! The outbound queue of the hosting features: entries enqueued inside a transaction hold a reference on
//! their body; listing, showing, retrying and deleting are scoped by the permission function
//! (the provider sees everything, a tenant admin its subtree, nobody else anything); identities
//! resolve domain → tenant chain.

use marque_core::*;
use marque_hosting::Hosting;
use marque_hosting::outbound::{
    self, IdentityOf, Kind, OutboundIdentity, QueuedMessage, QueuedRecipient,
};
use marque_store::blob::{self, BlobHash, PreparedBlob};
use marque_store::lease::Holder;
use marque_tests::{Platform, staff};

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
    let p = Platform::builder()
        .reseller("R1")
        .customer_of("C1", "R1")
        .reseller("R2")
        .build()
        .await;
    let (r1, c1, r2) = (p.tenant("R1"), p.tenant("C1"), p.tenant("R2"));
    let Platform {
        core, dir: _dir, ..
    } = p;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let (in_c1, hash) = enqueue(&core, c1, b"Subject: one\r\n\r\nx\r\n").await;
    let (in_r2, _) = enqueue(&core, r2, b"Subject: two\r\n\r\ny\r\n").await;
    assert_eq!(blob::references_in(core.store(), &hash).unwrap(), 1);

    let op = Actor::operator();
    let all: Vec<u64> = hosting
        .queue_list(&op, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(all, vec![in_c1, in_r2]);

    let a1 = staff(&core, r1, "r1admin", StaffKind::Admin).await;
    let seen: Vec<u64> = hosting
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
    assert!(
        hosting
            .queue_get(&a1, in_r2)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        hosting
            .queue_delete(&a1, in_r2)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        hosting
            .queue_retry(&a1, in_r2)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // A customer's admin sees its own entry; another reseller's admin sees nothing of R1's.
    let a_c1 = staff(&core, c1, "c1admin", StaffKind::Admin).await;
    assert_eq!(hosting.queue_list(&a_c1, 0, 10).await.unwrap().len(), 1);
    let a2 = staff(&core, r2, "r2admin", StaffKind::Admin).await;
    assert!(
        hosting
            .queue_get(&a2, in_c1)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Retry makes it due now; delete drops it and its body reference, with an audit record.
    let item = hosting.queue_retry(&a1, in_c1).await.unwrap();
    assert!(item.next_attempt_ms > 0);
    hosting.queue_delete(&a1, in_c1).await.unwrap();
    assert!(
        hosting
            .queue_get(&op, in_c1)
            .await
            .unwrap_err()
            .is_not_found()
    );
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
    let p = Platform::builder().customer("C").build().await;
    let c = p.tenant("C");
    let Platform {
        core, dir: _dir, ..
    } = p;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let (id, _) = enqueue(&core, c, b"Subject: x\r\n\r\nx\r\n").await;
    let now = u64::MAX / 4;
    let (me, other) = (Holder::start("a"), Holder::start("b"));
    let claim = |node: &Holder| {
        let node = node.clone();
        move |txn: &mut marque_store::Txn<'_>| outbound::claim_due(txn, now, &node, 60_000, 10)
    };
    let claimed = core.store().transact(claim(&me)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // Leased: not due again, for anyone, until the lease runs out.
    assert!(
        core.store()
            .transact(claim(&other))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(core.store().transact(claim(&me)).await.unwrap().is_empty());
    // Only the holder records a delivery.
    let o = other.clone();
    let lost = core
        .store()
        .transact(move |txn| {
            outbound::mark_delivered(txn, id, &o, &["z@remote.example".into()], "250 ok", "mx")
        })
        .await
        .unwrap();
    assert!(lost.is_none());
    let m2 = me.clone();
    let m = core
        .store()
        .transact(move |txn| {
            outbound::mark_delivered(txn, id, &m2, &["z@remote.example".into()], "250 ok", "mx")
        })
        .await
        .unwrap()
        .expect("held");
    assert!(m.is_done());
    let (o, m_) = (other.clone(), m.clone());
    assert_eq!(
        core.store()
            .transact(move |txn| outbound::finish_attempt(txn, id, &o, &m_, now))
            .await
            .unwrap(),
        outbound::Finished::LeaseLost
    );
    assert_eq!(
        core.store()
            .transact(move |txn| outbound::finish_attempt(txn, id, &me, &m, now))
            .await
            .unwrap(),
        outbound::Finished::Saved
    );
    assert!(
        hosting
            .queue_list(&Actor::operator(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_resolve_from_the_domain_up_the_tenant_chain() {
    let p = Platform::builder()
        .reseller("R")
        .customer_of("C", "R")
        .build()
        .await;
    let (r, c) = (p.tenant("R"), p.tenant("C"));
    let Platform {
        core, dir: _dir, ..
    } = p;
    let hosting = Hosting::new(core);
    let core = hosting.core().clone();
    let op = Actor::operator();
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
        outbound::outbound_identity(&core, c, Some("c.example".into()))
            .await
            .unwrap(),
        OutboundIdentity::default()
    );
    let reseller_ip = OutboundIdentity {
        source_ip: Some("192.0.2.1".parse().unwrap()),
        ehlo: Some("out.reseller.example".into()),
    };
    hosting
        .set_outbound_identity(&op, IdentityOf::Tenant(r), reseller_ip.clone())
        .await
        .unwrap();
    assert_eq!(
        outbound::outbound_identity(&core, c, Some("c.example".into()))
            .await
            .unwrap(),
        reseller_ip
    );
    hosting
        .set_outbound_identity(
            &op,
            IdentityOf::Domain("c.example".into()),
            OutboundIdentity {
                source_ip: Some("192.0.2.9".parse().unwrap()),
                ehlo: None,
            },
        )
        .await
        .unwrap();
    let got = outbound::outbound_identity(&core, c, Some("c.example".into()))
        .await
        .unwrap();
    assert_eq!(got.source_ip, Some("192.0.2.9".parse().unwrap()));
    assert_eq!(got.ehlo.as_deref(), Some("out.reseller.example"));
    // A tenant's own admin may not give itself an address; an invalid name is refused.
    let a = staff(&core, r, "radmin", StaffKind::Admin).await;
    assert!(
        hosting
            .set_outbound_identity(&a, IdentityOf::Tenant(r), OutboundIdentity::default())
            .await
            .unwrap_err()
            .is_forbidden()
    );
    assert!(
        hosting
            .set_outbound_identity(
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

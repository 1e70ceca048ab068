//! The core's hook as the hosting features register it: a tenancy change that is a webhook
//! event lands in the webhook outbox in the change's own transaction, a mailbox over quota is
//! reported once per interval, a deleted domain's DKIM keys go with it, a domain that takes a
//! platform host name is refused, and a core without the hook does none of this.

use marque_core::{Actor, Core, NewDomain, NewMailbox, NewTenant, PROVIDER, StaffKind, TenantKind};
use marque_hosting::webhook_target::TargetPolicy;
use marque_hosting::{Hosting, NewWebhook};
use marque_store::{Direction, Key, Keyspace, Range};
use marque_tests::{Platform, staff};

/// Hosting over `core` whose webhooks may reach loopback (a literal address: nothing to resolve).
fn hosting(core: Core) -> Hosting {
    Hosting::new(core).with_webhook_targets(TargetPolicy {
        allow: vec!["127.0.0.0/8".parse().expect("range")],
        own: Vec::new(),
    })
}

/// A provider webhook for `events`.
async fn webhook(h: &Hosting, events: &[&str]) {
    h.create_webhook(
        &Actor::operator(),
        NewWebhook {
            tenant: Some(PROVIDER),
            url: "http://127.0.0.1:9/hook".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            enabled: true,
        },
    )
    .await
    .expect("webhook");
}

/// A customer with a domain and a mailbox in it, made through `core`.
async fn mailbox(core: &Core) -> marque_core::Mailbox {
    let op = Actor::operator();
    let customer = core
        .create_tenant(
            &op,
            NewTenant {
                name: "C".into(),
                kind: TenantKind::Customer,
                parent: PROVIDER,
                ..NewTenant::default()
            },
        )
        .await
        .expect("customer")
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
    .expect("domain");
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
    .expect("mailbox")
}

async fn due_events(h: &Hosting) -> Vec<String> {
    h.due_webhook_deliveries(u64::MAX, 100)
        .await
        .expect("outbox")
        .into_iter()
        .map(|d| d.event)
        .collect()
}

#[tokio::test]
async fn an_audited_change_that_is_an_event_reaches_the_outbox() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let h = hosting(core);
    webhook(&h, &["mailbox.created", "mailbox.deleted"]).await;
    mailbox(h.core()).await;
    assert_eq!(due_events(&h).await, ["mailbox.created"]);
    h.core()
        .delete_mailbox(&Actor::operator(), "ann@c.example")
        .await
        .expect("delete");
    assert_eq!(due_events(&h).await, ["mailbox.created", "mailbox.deleted"]);
}

#[tokio::test]
async fn over_quota_is_reported_once_per_interval() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let h = hosting(core);
    webhook(&h, &["mailbox.over_quota"]).await;
    let m = mailbox(h.core()).await;
    h.core().report_over_quota(m.id, "smtp").await;
    h.core().report_over_quota(m.id, "imap").await;
    assert_eq!(due_events(&h).await, ["mailbox.over_quota"]);
}

#[tokio::test]
async fn a_core_without_the_hook_writes_no_event() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let h = hosting(core.clone());
    webhook(&h, &["mailbox.created"]).await;
    // `core` is the clone taken before the hook was registered: the tenancy core alone.
    mailbox(&core).await;
    assert!(due_events(&h).await.is_empty());
}

/// How many DKIM key records tenant `t` holds (`tenant · 'K' · domain`).
async fn dkim_records_of(core: &Core, t: marque_core::TenantId) -> usize {
    let prefix = Key::new().u64(t.0).tag(b'K').into_bytes();
    core.read(move |s| {
        Ok(s.scan(
            Keyspace::Directory,
            &Range::prefix(&prefix),
            Direction::Forward,
            10,
        )?)
    })
    .await
    .expect("scan")
    .len()
}

/// Deletes `c.example` (its mailbox first) through `core`.
async fn delete_domain(core: &Core) {
    let op = Actor::operator();
    core.delete_mailbox(&op, "ann@c.example")
        .await
        .expect("delete mailbox");
    core.delete_domain(&op, "c.example")
        .await
        .expect("delete domain");
}

#[tokio::test]
async fn a_deleted_domain_takes_its_dkim_keys_along() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let h = Hosting::new(core);
    mailbox(h.core()).await;
    marque_hosting::dkim::dkim_keys(h.core(), "c.example")
        .await
        .expect("keys");
    let tenant = h
        .core()
        .get_domain(&Actor::operator(), "c.example")
        .await
        .expect("domain")
        .tenant;
    assert_eq!(dkim_records_of(h.core(), tenant).await, 1);
    delete_domain(h.core()).await;
    assert_eq!(dkim_records_of(h.core(), tenant).await, 0);
}

#[tokio::test]
async fn without_the_hook_a_deleted_domain_leaves_its_dkim_keys() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    mailbox(&core).await;
    marque_hosting::dkim::dkim_keys(&core, "c.example")
        .await
        .expect("keys");
    let tenant = core
        .get_domain(&Actor::operator(), "c.example")
        .await
        .expect("domain")
        .tenant;
    delete_domain(&core).await;
    assert_eq!(dkim_records_of(&core, tenant).await, 1);
}

#[tokio::test]
async fn a_domain_that_takes_a_platform_host_name_is_refused() {
    let p = Platform::builder().reseller("R").build().await;
    let r = p.tenant("R");
    let bare = p.core.clone();
    let h = Hosting::new(p.core.clone()).with_server_hostname("mx.platform.example");
    let admin = staff(h.core(), r, "r-admin", StaffKind::Admin).await;
    let new = |name: &str| NewDomain {
        name: name.into(),
        tenant: r,
        ..NewDomain::default()
    };
    for name in [
        "platform.example",
        "mx.platform.example",
        "a.mx.platform.example",
    ] {
        let e = h.core().create_domain(&admin, new(name)).await.unwrap_err();
        assert!(
            matches!(e, marque_core::CoreError::HostnameNotOwned { .. }),
            "{name}: {e:?}"
        );
    }
    h.core()
        .create_domain(&admin, new("r.example"))
        .await
        .expect("own domain");
    // The tenancy core alone knows no platform names.
    bare.create_domain(&admin, new("platform.example"))
        .await
        .expect("bare core");
}

#[tokio::test]
async fn a_claimed_delivery_is_sent_by_its_claimant_only() {
    use marque_hosting::webhook_outbox::AttemptResult;
    use marque_store::lease::Holder;
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let h = hosting(core);
    webhook(&h, &["mailbox.created"]).await;
    mailbox(h.core()).await;
    let (a, b) = (Holder::start("node-a"), Holder::start("node-b"));
    let now = marque_store::now_ms();
    let got_a = h
        .claim_webhook_deliveries(now, &a, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(got_a.len(), 1);
    // Claimed: no one sees it due while the lease holds.
    assert!(
        h.claim_webhook_deliveries(now + 59_999, &b, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        h.claim_webhook_deliveries(now + 59_999, &a, 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A's lease runs out (its node died): B claims the same delivery.
    let got_b = h
        .claim_webhook_deliveries(now + 60_000, &b, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(got_b.len(), 1);
    assert_eq!(got_b[0].delivery, got_a[0].delivery);
    let ok = AttemptResult {
        status: Some(200),
        ..AttemptResult::default()
    };
    // A's late outcome is dropped; B's is recorded and the delivery leaves the outbox.
    assert!(
        !h.finish_webhook_attempt(&got_a[0], ok.clone())
            .await
            .unwrap()
    );
    assert_eq!(due_events(&h).await, ["mailbox.created"]);
    assert!(h.finish_webhook_attempt(&got_b[0], ok).await.unwrap());
    assert!(due_events(&h).await.is_empty());
    let log = h
        .webhook_deliveries(&Actor::operator(), got_b[0].webhook, None, 10)
        .await
        .unwrap();
    assert_eq!(log.0.len(), 1, "one attempt recorded: {log:?}");
}

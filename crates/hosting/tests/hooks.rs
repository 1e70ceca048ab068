//! The core's hook as the hosting features register it: a tenancy change that is a webhook
//! event lands in the webhook outbox in the change's own transaction, a mailbox over quota is
//! reported once per interval, and a core without the hook writes no event at all.

use marque_core::{Actor, Core, HashCost, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantKind};
use marque_hosting::webhook_target::TargetPolicy;
use marque_hosting::{Hosting, NewWebhook};
use marque_store::{Store, StoreOptions};

/// A bootstrapped core over a fresh store; keep the directory alive as long as the core.
async fn core() -> (Core, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), StoreOptions::default()).expect("open store");
    let core = Core::open_with(store, HashCost::insecure_for_tests()).expect("open core");
    core.bootstrap(None).await.expect("bootstrap");
    (core, dir)
}

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
    let (core, _dir) = core().await;
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
    let (core, _dir) = core().await;
    let h = hosting(core);
    webhook(&h, &["mailbox.over_quota"]).await;
    let m = mailbox(h.core()).await;
    h.core().report_over_quota(m.id, "smtp").await;
    h.core().report_over_quota(m.id, "imap").await;
    assert_eq!(due_events(&h).await, ["mailbox.over_quota"]);
}

#[tokio::test]
async fn a_core_without_the_hook_writes_no_event() {
    let (core, _dir) = core().await;
    let h = hosting(core.clone());
    webhook(&h, &["mailbox.created"]).await;
    // `core` is the clone taken before the hook was registered: the tenancy core alone.
    mailbox(&core).await;
    assert!(due_events(&h).await.is_empty());
}

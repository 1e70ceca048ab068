//! Activation policies and prepaid credit: concurrent activations never overdraw, a request
//! the credit does not cover waits, approval follows the policy, events are counted monthly.

use marque_core::*;
use marque_tests::Platform;

struct Setup {
    reseller: TenantId,
    plan: PlanId,
    admin: Actor,
}

async fn setup(core: &Core, price: u64) -> Setup {
    let op = Actor::operator();
    let reseller = core
        .create_tenant(
            &op,
            NewTenant {
                name: "Reseller".into(),
                kind: TenantKind::Reseller,
                ..NewTenant::default()
            },
        )
        .await
        .unwrap()
        .tenant
        .id;
    let plan = core
        .create_plan(
            &op,
            NewPlan {
                owner: reseller,
                name: "Standard".into(),
                tier: Tier::Standard,
                default_mailbox_mb: 100,
                max_mailbox_mb: 1000,
                features: Features::default(),
                price_credits: price,
            },
        )
        .await
        .unwrap()
        .id;
    let admin = core
        .create_staff(
            &op,
            NewStaff {
                tenant: reseller,
                login: "radmin".into(),
                password: None,
                kind: StaffKind::Admin,
            },
        )
        .await
        .unwrap();
    let admin = marque_tests::actor(core, PrincipalId::Staff(admin.id)).await;
    Setup {
        reseller,
        plan,
        admin,
    }
}

async fn manager(core: &Core, s: &Setup, login: &str, policy: ActivationPolicy) -> Actor {
    let m = core
        .create_staff(
            &Actor::operator(),
            NewStaff {
                tenant: s.reseller,
                login: login.into(),
                password: None,
                kind: StaffKind::ResellerManager {
                    plans: vec![s.plan],
                    policy,
                },
            },
        )
        .await
        .unwrap();
    marque_tests::actor(core, PrincipalId::Staff(m.id)).await
}

fn customer(s: &Setup, name: String) -> NewTenant {
    NewTenant {
        name,
        parent: s.reseller,
        plan: Some(s.plan),
        ..NewTenant::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_activations_never_overdraw() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let s = setup(&core, 10).await;
    let m = manager(&core, &s, "mgr", ActivationPolicy::Immediate).await;
    core.top_up(&Actor::operator(), s.reseller, 100, "ten activations")
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..50 {
        let (core, m, new) = (
            core.clone(),
            m.clone(),
            customer(&s, format!("Customer {i}")),
        );
        tasks.push(tokio::spawn(
            async move { core.create_tenant(&m, new).await },
        ));
    }
    let mut active = 0;
    let mut waiting = 0;
    for t in tasks {
        let created = t.await.unwrap().unwrap();
        let a = created.activation.unwrap();
        match a.state {
            ActivationState::Active => {
                assert_eq!(created.tenant.state, TenantState::Active);
                active += 1;
            }
            ActivationState::AwaitingCredit => {
                assert_eq!(created.tenant.state, TenantState::Pending);
                waiting += 1;
            }
            other => panic!("unexpected state {other:?}"),
        }
    }
    println!("50 concurrent requests on credit for 10: {active} active, {waiting} waiting");
    assert_eq!((active, waiting), (10, 40));
    assert_eq!(core.credit(&s.admin, s.reseller).await.unwrap(), 0);
    let ledger = core.ledger(&s.admin, s.reseller).await.unwrap();
    assert!(
        ledger.iter().all(|e| e.balance >= 0),
        "the balance never went below zero"
    );
    assert_eq!(ledger.iter().filter(|e| e.delta == -10).count(), 10);

    // The stored activations agree, and the customers with them.
    let acts = core.list_activations(&s.admin, s.reseller).await.unwrap();
    assert_eq!(
        acts.iter()
            .filter(|a| a.state == ActivationState::Active)
            .count(),
        10
    );
    let month = activation::month_of(acts[0].requested_ms);
    let counts = core
        .monthly_counts(&s.admin, s.reseller, month)
        .await
        .unwrap();
    assert_eq!(counts.activations, 10);
    let provider_counts = core
        .monthly_counts(&Actor::operator(), PROVIDER, month)
        .await
        .unwrap();
    assert_eq!(
        provider_counts.activations, 10,
        "every tenant above counts its subtree"
    );

    // More credit lets the oldest waiting requests through, as far as it goes.
    assert_eq!(
        core.top_up(&Actor::operator(), s.reseller, 55, "more")
            .await
            .unwrap(),
        5
    );
    let acts = core.list_activations(&s.admin, s.reseller).await.unwrap();
    let now_active: Vec<_> = acts
        .iter()
        .filter(|a| a.state == ActivationState::Active)
        .collect();
    assert_eq!(now_active.len(), 15);
    let first_waiting = acts
        .iter()
        .find(|a| a.state == ActivationState::AwaitingCredit)
        .unwrap();
    assert!(
        now_active.iter().all(|a| a.id < first_waiting.id),
        "oldest first"
    );

    // A manager cannot top up its own tenant's credit, nor can the reseller's admin.
    assert!(
        core.top_up(&m, s.reseller, 1000, "")
            .await
            .unwrap_err()
            .is_forbidden()
    );
    assert!(
        core.top_up(&s.admin, s.reseller, 1000, "")
            .await
            .unwrap_err()
            .is_forbidden()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_and_api_policies_wait_for_the_parent() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let s = setup(&core, 10).await;
    core.top_up(&Actor::operator(), s.reseller, 25, "")
        .await
        .unwrap();
    let q = manager(&core, &s, "queue", ActivationPolicy::Queue).await;
    let api = manager(&core, &s, "api", ActivationPolicy::Api).await;

    let c = core
        .create_tenant(&q, customer(&s, "Queued".into()))
        .await
        .unwrap();
    let a = c.activation.unwrap();
    assert_eq!(
        (a.state, c.tenant.state),
        (ActivationState::AwaitingApproval, TenantState::Pending)
    );
    assert_eq!(
        core.credit(&s.admin, s.reseller).await.unwrap(),
        25,
        "nothing debited while waiting"
    );
    // The manager cannot approve its own request; the parent's admin can.
    assert!(
        core.approve_activation(&q, a.id)
            .await
            .unwrap_err()
            .is_forbidden()
    );
    let a = core.approve_activation(&s.admin, a.id).await.unwrap();
    assert_eq!(a.state, ActivationState::Active);
    assert_eq!(
        core.get_tenant(&s.admin, c.tenant.id).await.unwrap().state,
        TenantState::Active
    );
    assert_eq!(core.credit(&s.admin, s.reseller).await.unwrap(), 15);

    // Under the api policy only an API token approves; a person at the console does not.
    let c = core
        .create_tenant(&api, customer(&s, "Via API".into()))
        .await
        .unwrap();
    let a = c.activation.unwrap();
    assert!(matches!(
        core.approve_activation(&Actor::operator(), a.id).await,
        Err(CoreError::State { .. })
    ));
    let a = core.approve_activation(&s.admin, a.id).await.unwrap();
    assert_eq!(a.state, ActivationState::Active);

    // Approved but not covered: it waits for credit.
    let c = core
        .create_tenant(&q, customer(&s, "Short".into()))
        .await
        .unwrap();
    let a = core
        .approve_activation(&s.admin, c.activation.unwrap().id)
        .await
        .unwrap();
    assert_eq!(a.state, ActivationState::AwaitingCredit);
    assert_eq!(core.credit(&s.admin, s.reseller).await.unwrap(), 5);

    // Rejection leaves the customer inactive; deactivation is counted.
    let c = core
        .create_tenant(&q, customer(&s, "Rejected".into()))
        .await
        .unwrap();
    let a = core
        .reject_activation(&s.admin, c.activation.unwrap().id)
        .await
        .unwrap();
    assert_eq!(a.state, ActivationState::Rejected);
    assert_eq!(
        core.get_tenant(&s.admin, c.tenant.id).await.unwrap().state,
        TenantState::Rejected
    );

    let active = core.list_tenants(&s.admin, s.reseller).await.unwrap();
    let first = active.iter().find(|t| t.name == "Queued").unwrap();
    core.deactivate_tenant(&s.admin, first.id).await.unwrap();
    let month = activation::month_of(a.requested_ms);
    let counts = core
        .monthly_counts(&s.admin, s.reseller, month)
        .await
        .unwrap();
    assert_eq!((counts.activations, counts.deactivations), (2, 1));
    let events = core
        .activation_events(&s.admin, s.reseller, 0, u64::MAX - 1)
        .await
        .unwrap();
    assert_eq!(events.len(), 3);

    // The month's export agrees with the counts, in JSON and in CSV.
    let export = core
        .usage_export(&s.admin, s.reseller, month)
        .await
        .unwrap();
    assert_eq!(export.counts, counts);
    assert_eq!(export.events.len(), 3);
    let csv = export.to_csv();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("time,event,customer,customer_name,plan,manager\r\n"));
    assert!(csv.contains(",deactivation,") && csv.contains(",Queued,"));
    assert!(
        serde_json::to_string(&export)
            .unwrap()
            .contains("\"deactivation\"")
    );
    assert!(
        core.usage_export(&s.admin, s.reseller, 202413)
            .await
            .is_err()
    );

    // A manager sees only its own requests.
    let mine = core.list_activations(&api, s.reseller).await.unwrap();
    assert_eq!(mine.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_is_held_to_its_plans() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let s = setup(&core, 0).await;
    let m = manager(&core, &s, "mgr", ActivationPolicy::Immediate).await;
    let other = core
        .create_plan(
            &Actor::operator(),
            NewPlan {
                owner: s.reseller,
                name: "Premium".into(),
                tier: Tier::Premium,
                default_mailbox_mb: 100,
                max_mailbox_mb: 1000,
                features: Features::default(),
                price_credits: 0,
            },
        )
        .await
        .unwrap();
    let mut new = customer(&s, "Other plan".into());
    new.plan = Some(other.id);
    assert!(
        core.create_tenant(&m, new)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let mut new = customer(&s, "No plan".into());
    new.plan = None;
    assert!(matches!(
        core.create_tenant(&m, new).await,
        Err(CoreError::Invalid { .. })
    ));
    // A free plan activates without credit.
    let c = core
        .create_tenant(&m, customer(&s, "Free".into()))
        .await
        .unwrap();
    assert_eq!(c.activation.unwrap().state, ActivationState::Active);
    assert_eq!(
        core.list_plans(&m, s.reseller).await.unwrap().len(),
        1,
        "only its own plans are visible"
    );
}

/// A tenant's global Sieve scripts and its activations are different records in the same
/// range; listing the activations must find only activations (they once shared a key tag, and
/// the listing failed to decode the scripts).
#[tokio::test]
async fn activations_are_listed_beside_global_sieve_scripts() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let s = setup(&core, 0).await;
    let reseller = s.reseller;
    core.store()
        .transact(move |txn| {
            use marque_store::sieve_global::{Phase, Scope, put};
            put(txn, Scope::Tenant(reseller), Phase::Before, b"keep;");
            put(txn, Scope::Tenant(reseller), Phase::After, b"keep;");
            Ok::<_, marque_store::Error>(())
        })
        .await
        .unwrap();
    let m = manager(&core, &s, "mgr", ActivationPolicy::Immediate).await;
    core.create_tenant(&m, customer(&s, "Customer".into()))
        .await
        .unwrap();
    let listed = core.list_activations(&s.admin, s.reseller).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].state, ActivationState::Active);
}

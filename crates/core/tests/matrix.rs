//! The role × action × tenant matrix: every principal of two reseller subtrees against every
//! action, on its own objects, on a sibling's in the same subtree, and on the other subtree's.
//! Expected outcomes are a table; the test prints the observed matrix and lists every cell that
//! differs.

use std::fmt::Write as _;

use marque_core::*;
use marque_tests::{Platform, staff};

/// One column of the matrix: a set of objects to act on.
#[derive(Debug, Clone)]
struct Side {
    reseller: TenantId,
    customer: TenantId,
    domain: String,
    user: String,
    /// The plan a new customer asks for.
    plan: PlanId,
    /// A manager of the queue policy in this subtree (makes pending activations).
    queue_manager: Actor,
}

/// One reseller subtree.
struct Subtree {
    own: Side,
    sibling: Side,
    principals: Vec<(&'static str, Actor)>,
}

const ACTIONS: &[&str] = &[
    "tenant.read",
    "tenant.create",
    "limits.customer",
    "limits.reseller",
    "limits.domain",
    "domain.create",
    "domain.read",
    "mailbox.create",
    "mailbox.password",
    "mailbox.delete",
    "alias.create",
    "usage.tenant",
    "usage.domain",
    "audit.domain",
    "staff.create",
    "plan.create",
    "credit.top_up",
    "activation.approve",
    "plan.customer",
    "mailbox.postmaster",
];

/// Expected outcomes per role, one string per column (own, sibling, other subtree), one
/// character per action in [`ACTIONS`] order: `A` allowed, `F` forbidden (visible, refused),
/// `N` not found (out of scope, indistinguishable from missing).
const EXPECTED: &[(&str, [&str; 3])] = &[
    //                  tenant.read ... activation.approve
    (
        "provider",
        [
            "AAAAAAAAAAAAAAAAAAFA",
            "AAAAAAAAAAAAAAAAAAFA",
            "AAAAAAAAAAAAAAAAAAFA",
        ],
    ),
    (
        "admin",
        [
            "AAAFAAAAAAAAAAAAFAFA",
            "AAAFAAAAAAAAAAAAFAFA",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
    (
        "helpdesk",
        [
            "NNNNFNAAAFANAANNNNNF",
            "NNNNNNNNNNNNNNNNNNNN",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
    (
        "manager",
        [
            "AAFFFAAAFFFAAFFFFFFF",
            "NNNFNNNNNNNNNNFFFFNN",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
    (
        "postmaster",
        [
            "NNNNFNAAAAANAANNNNNA",
            "NNNNNNNNNNNNNNNNNNNN",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
    (
        "user",
        [
            "NNNNNNNNANNNNNNNNNNF",
            "NNNNNNNNNNNNNNNNNNNN",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
    (
        "customer-admin",
        [
            "ANFNAAAAAAAAAANNNNFA",
            "NNNNNNNNNNNNNNNNNNNN",
            "NNNNNNNNNNNNNNNNNNNN",
        ],
    ),
];

fn outcome(r: Result<()>) -> (char, Option<String>) {
    match r {
        Ok(()) => ('A', None),
        Err(CoreError::Forbidden { .. }) => ('F', None),
        Err(CoreError::NotFound { .. }) => ('N', None),
        Err(e) => ('E', Some(e.to_string())),
    }
}

async fn mailbox(core: &Core, address: &str, postmaster: bool) -> Mailbox {
    let op = Actor::operator();
    core.create_mailbox(
        &op,
        NewMailbox {
            address: address.into(),
            password: "a password".into(),
            quota_mb: Some(10),
            postmaster,
            ..NewMailbox::default()
        },
    )
    .await
    .expect("mailbox")
}

fn plan(owner: TenantId, name: &str) -> NewPlan {
    NewPlan {
        owner,
        name: name.into(),
        tier: Tier::Standard,
        default_mailbox_mb: 100,
        max_mailbox_mb: 1000,
        features: Features::default(),
        price_credits: 5,
    }
}

async fn subtree(core: &Core, x: &str) -> Subtree {
    let op = Actor::operator();
    let reseller = core
        .create_tenant(
            &op,
            NewTenant {
                name: format!("Reseller {x}"),
                kind: TenantKind::Reseller,
                ..NewTenant::default()
            },
        )
        .await
        .expect("reseller")
        .tenant
        .id;
    let p = core
        .create_plan(&op, plan(reseller, "assigned"))
        .await
        .expect("plan")
        .id;
    let p_other = core
        .create_plan(&op, plan(reseller, "not assigned"))
        .await
        .expect("plan")
        .id;
    core.top_up(&op, reseller, 1_000_000, "test")
        .await
        .expect("top up");

    let admin = staff(core, reseller, &format!("admin-{x}"), StaffKind::Admin).await;
    let manager_kind = |policy| StaffKind::ResellerManager {
        plans: vec![p],
        policy,
    };
    let manager = staff(
        core,
        reseller,
        &format!("manager-{x}"),
        manager_kind(ActivationPolicy::Immediate),
    )
    .await;
    let queue_manager = staff(
        core,
        reseller,
        &format!("queue-{x}"),
        manager_kind(ActivationPolicy::Queue),
    )
    .await;

    // The manager's own customer, activated at once against the credit.
    let customer = core
        .create_tenant(
            &manager,
            NewTenant {
                name: format!("Customer {x}"),
                parent: reseller,
                plan: Some(p),
                ..NewTenant::default()
            },
        )
        .await
        .expect("managed customer");
    assert_eq!(customer.tenant.state, TenantState::Active);
    let customer = customer.tenant.id;
    let domain = format!("c-{x}.example");
    let d = core
        .create_domain(
            &op,
            NewDomain {
                name: domain.clone(),
                tenant: customer,
                ..NewDomain::default()
            },
        )
        .await
        .expect("domain");
    let pm = mailbox(core, &format!("pm@{domain}"), true).await;
    let user = mailbox(core, &format!("user@{domain}"), false).await;
    let helpdesk = staff(
        core,
        reseller,
        &format!("helpdesk-{x}"),
        StaffKind::Helpdesk {
            domains: vec![d.id],
        },
    )
    .await;
    let customer_admin = staff(core, customer, &format!("c-admin-{x}"), StaffKind::Admin).await;

    // A sibling customer nobody but the reseller's admins looks after.
    let sibling = core
        .create_tenant(
            &op,
            NewTenant {
                name: format!("Sibling {x}"),
                parent: reseller,
                ..NewTenant::default()
            },
        )
        .await
        .expect("sibling")
        .tenant
        .id;
    let sibling_domain = format!("s-{x}.example");
    core.create_domain(
        &op,
        NewDomain {
            name: sibling_domain.clone(),
            tenant: sibling,
            ..NewDomain::default()
        },
    )
    .await
    .expect("sibling domain");
    let sibling_user = mailbox(core, &format!("v@{sibling_domain}"), false).await;

    Subtree {
        own: Side {
            reseller,
            customer,
            domain: domain.clone(),
            user: user.address.clone(),
            plan: p,
            queue_manager: queue_manager.clone(),
        },
        sibling: Side {
            reseller,
            customer: sibling,
            domain: sibling_domain,
            user: sibling_user.address,
            plan: p_other,
            queue_manager,
        },
        principals: vec![
            ("admin", admin),
            ("customer-admin", customer_admin),
            ("helpdesk", helpdesk),
            ("manager", manager),
            (
                "postmaster",
                marque_tests::actor(core, PrincipalId::Mailbox(pm.id)).await,
            ),
            (
                "user",
                marque_tests::actor(core, PrincipalId::Mailbox(user.id)).await,
            ),
        ],
    }
}

async fn act(core: &Core, actor: &Actor, action: &str, s: &Side, cell: usize) -> Result<()> {
    let op = Actor::operator();
    match action {
        "tenant.read" => core.get_tenant(actor, s.customer).await.map(drop),
        "tenant.create" => core
            .create_tenant(
                actor,
                NewTenant {
                    name: format!("New {cell}"),
                    parent: s.reseller,
                    plan: Some(s.plan),
                    ..NewTenant::default()
                },
            )
            .await
            .map(drop),
        "limits.customer" => core
            .set_limits(actor, LimitsOf::Tenant(s.customer), Limits::default())
            .await
            .map(drop),
        "limits.reseller" => core
            .set_limits(actor, LimitsOf::Tenant(s.reseller), Limits::default())
            .await
            .map(drop),
        "limits.domain" => core
            .set_limits(actor, LimitsOf::Domain(s.domain.clone()), Limits::default())
            .await
            .map(drop),
        "domain.create" => core
            .create_domain(
                actor,
                NewDomain {
                    name: format!("n{cell}.example"),
                    tenant: s.customer,
                    ..NewDomain::default()
                },
            )
            .await
            .map(drop),
        "domain.read" => core.get_domain(actor, &s.domain).await.map(drop),
        "mailbox.create" => core
            .create_mailbox(
                actor,
                NewMailbox {
                    address: format!("n{cell}@{}", s.domain),
                    password: "a password".into(),
                    quota_mb: Some(5),
                    ..NewMailbox::default()
                },
            )
            .await
            .map(drop),
        "mailbox.password" => core.set_password(actor, &s.user, "another password").await,
        "mailbox.delete" => {
            let address = format!("t{cell}@{}", s.domain);
            core.create_mailbox(
                &op,
                NewMailbox {
                    address: address.clone(),
                    password: "a password".into(),
                    quota_mb: Some(5),
                    ..NewMailbox::default()
                },
            )
            .await
            .expect("throwaway mailbox");
            core.delete_mailbox(actor, &address).await
        }
        "alias.create" => core
            .create_alias(
                actor,
                &format!("a{cell}@{}", s.domain),
                &["someone@elsewhere.example".into()],
            )
            .await
            .map(drop),
        "usage.tenant" => core.usage(actor, s.customer).await.map(drop),
        "usage.domain" => core.domain_usage(actor, &s.domain).await.map(drop),
        "audit.domain" => core
            .audit(actor, AuditScope::Domain(s.domain.clone()), None, 10)
            .await
            .map(drop),
        "staff.create" => core
            .create_staff(
                actor,
                NewStaff {
                    tenant: s.reseller,
                    login: format!("s{cell}"),
                    password: None,
                    kind: StaffKind::Helpdesk { domains: vec![] },
                },
            )
            .await
            .map(drop),
        "plan.create" => core
            .create_plan(actor, plan(s.reseller, &format!("plan {cell}")))
            .await
            .map(drop),
        "credit.top_up" => core.top_up(actor, s.reseller, 1, "matrix").await.map(drop),
        "activation.approve" => {
            let pending = s.queue_manager.clone();
            let created = core
                .create_tenant(
                    &pending,
                    NewTenant {
                        name: format!("Queued {cell}"),
                        parent: s.reseller,
                        plan: Some(own_plan(&pending)),
                        ..NewTenant::default()
                    },
                )
                .await
                .expect("queued activation");
            let a = created.activation.expect("an activation");
            assert_eq!(a.state, ActivationState::AwaitingApproval);
            core.approve_activation(actor, a.id).await.map(drop)
        }
        "plan.customer" => core
            .create_plan(actor, plan(s.customer, &format!("plan {cell}")))
            .await
            .map(drop),
        "mailbox.postmaster" => {
            let flag = |on| MailboxChanges {
                postmaster: Some(on),
                ..MailboxChanges::default()
            };
            let r = core.update_mailbox(actor, &s.user, flag(true)).await;
            if r.is_ok() {
                core.update_mailbox(&op, &s.user, flag(false))
                    .await
                    .expect("flag taken back");
            }
            r.map(drop)
        }
        other => panic!("unknown action {other}"),
    }
}

fn own_plan(manager: &Actor) -> PlanId {
    match &manager.principal.role {
        Role::ResellerManager { plans, .. } => plans[0],
        _ => panic!("not a manager"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_action_tenant_matrix() {
    let Platform {
        core, dir: _dir, ..
    } = Platform::builder().build().await;
    let a = subtree(&core, "a").await;
    let b = subtree(&core, "b").await;

    let mut rows: Vec<(String, &'static str, Actor, [Side; 3])> = vec![(
        "provider".into(),
        "provider",
        Actor::operator(),
        [a.own.clone(), a.sibling.clone(), b.own.clone()],
    )];
    for (x, me, other) in [("a", &a, &b), ("b", &b, &a)] {
        for (role, actor) in &me.principals {
            rows.push((
                format!("{role}-{x}"),
                role,
                actor.clone(),
                [me.own.clone(), me.sibling.clone(), other.own.clone()],
            ));
        }
    }

    let mut report = String::new();
    let mut mismatches = Vec::new();
    let mut cell = 0usize;
    let mut cells = 0usize;
    writeln!(
        report,
        "{:<14} {:<20} {:<20} {:<20}",
        "principal", "own", "sibling", "other subtree"
    )
    .ok();
    for (label, role, actor, sides) in &rows {
        let expected = EXPECTED
            .iter()
            .find(|(r, _)| r == role)
            .expect("expected row")
            .1;
        let mut line = format!("{label:<14}");
        for (col, side) in sides.iter().enumerate() {
            let want: Vec<char> = expected[col].chars().collect();
            assert_eq!(
                want.len(),
                ACTIONS.len(),
                "expected row {role} column {col} has the wrong length"
            );
            let mut got = String::new();
            for (i, action) in ACTIONS.iter().enumerate() {
                cell += 1;
                cells += 1;
                let (c, err) = outcome(act(&core, actor, action, side, cell).await);
                got.push(c);
                if c != want[i] {
                    let column = ["own", "sibling", "other"][col];
                    mismatches.push(format!(
                        "{label} × {action} × {column}: expected {}, got {c}{}",
                        want[i],
                        err.map(|e| format!(" ({e})")).unwrap_or_default()
                    ));
                }
            }
            line.push(' ');
            write!(line, "{got:<20}").ok();
        }
        writeln!(report, "{line}").ok();
    }
    println!(
        "actions: {}\n{report}{cells} cells, {} mismatches",
        ACTIONS.join(", "),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "permission matrix mismatches:\n{}",
        mismatches.join("\n")
    );
}

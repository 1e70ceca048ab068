//! Limits that hold up the tree, over HTTP: plans within the owner's own plan, mailboxes within
//! the plans above, no plans in customers, no postmaster made by the help desk, numbers beyond
//! their range refused with a `422` naming the field, and the panel rendering every page for a
//! tenant whose values are at the largest allowed.

mod common;

use common::panel::PanelClient;
use common::{ADMIN, Server, start};
use marque_core::limits::{MAX_COUNT, MAX_MB};
use serde_json::{Value, json};

/// 2^64-1, the largest number a JSON body can carry into a `u64`.
const U64_MAX: u64 = u64::MAX;

/// A token for a manager (staff id), made by `tok`.
async fn token_for(s: &Server, tok: &str, manager: &Value) -> String {
    s.create(
        "/api/v1/tokens",
        tok,
        json!({"name": "t", "manager": manager["id"]}),
    )
    .await["token"]
        .as_str()
        .expect("secret")
        .to_string()
}

/// Creates the customer `tenant` with `tok` (a reseller's token) and its domain `c.example`;
/// the customer's id.
async fn customer_with_domain(s: &Server, tok: &str, tenant: Value) -> u64 {
    let c = s.create("/api/v1/tenants", tok, tenant).await["id"]
        .as_u64()
        .expect("tenant id");
    s.create(
        "/api/v1/domains",
        tok,
        json!({"name": "c.example", "tenant": c}),
    )
    .await;
    c
}

/// Asserts a `422` problem naming `field`.
fn assert_field(r: &common::Reply, field: &str, what: &str) {
    assert_eq!(r.status, 422, "{what}: {}", r.body);
    let p = r.assert_problem(422);
    assert_eq!(p["field"], field, "{what}: {p}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_mailboxes_and_postmasters_stay_within_what_is_granted() {
    let s = start().await;
    let q = s
        .create(
            "/api/v1/plans",
            ADMIN,
            json!({"name": "Provider 2000", "tier": "STANDARD", "default_mailbox_mb": 100,
                   "max_mailbox_mb": 2000}),
        )
        .await;
    let r = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "R", "kind": "reseller", "plan": q["id"]}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let rtok = s
        .create("/api/v1/tokens", ADMIN, json!({"name": "r", "tenant": r}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    // A reseller's plan above its own plan: refused, naming the field.
    let plan = |max: u64| {
        json!({"name": format!("R {max}"), "tier": "STANDARD", "default_mailbox_mb": 10,
               "max_mailbox_mb": max})
    };
    for max in [9_999_999, 2001] {
        let reply = s.post("/api/v1/plans", &rtok, &plan(max)).await;
        assert_field(&reply, "max_mailbox_mb", &format!("plan of {max}"));
    }
    let p = s.create("/api/v1/plans", &rtok, plan(2000)).await;
    let raised = s
        .call(
            "PUT",
            &format!("/api/v1/plans/{}", p["id"]),
            Some(&rtok),
            Some(&plan(9_999_999).to_string()),
            &[],
        )
        .await;
    assert_field(&raised, "max_mailbox_mb", "raised plan");

    // A mailbox above the largest the plans allow: refused.
    let c = customer_with_domain(
        &s,
        &rtok,
        json!({"name": "C", "kind": "customer", "plan": p["id"]}),
    )
    .await;
    let mb = |address: &str, quota: u64, postmaster: bool| {
        json!({"address": address, "password": "correct horse battery", "quota_mb": quota,
               "postmaster": postmaster})
    };
    let big = s
        .post(
            "/api/v1/mailboxes",
            &rtok,
            &mb("big@c.example", 999_999, false),
        )
        .await;
    let problem = big.assert_problem(409);
    assert_eq!(problem["max"], 2000, "{problem}");
    s.create("/api/v1/mailboxes", &rtok, mb("u@c.example", 100, false))
        .await;

    // A customer's administrator defines no plans.
    let c_admin = s
        .create(
            "/api/v1/managers",
            &rtok,
            json!({"tenant": c, "login": "c-admin", "kind": "admin"}),
        )
        .await;
    let ctok = token_for(&s, &rtok, &c_admin).await;
    s.post("/api/v1/plans", &ctok, &plan(10))
        .await
        .assert_problem(403);

    // The help desk neither makes postmasters nor creates one.
    let help = s
        .create(
            "/api/v1/managers",
            &rtok,
            json!({"login": "help", "kind": "helpdesk", "domains": ["c.example"], "tenant": r}),
        )
        .await;
    let htok = token_for(&s, &rtok, &help).await;
    s.patch(
        "/api/v1/mailboxes/u@c.example",
        &htok,
        &json!({"postmaster": true}),
    )
    .await
    .assert_problem(403);
    s.post("/api/v1/mailboxes", &htok, &mb("pm@c.example", 10, true))
        .await
        .assert_problem(403);
    let ok = s
        .patch(
            "/api/v1/mailboxes/u@c.example",
            &htok,
            &json!({"quota_mb": 200}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        s.get("/api/v1/mailboxes/u@c.example", ADMIN).await.json()["postmaster"],
        false
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_beyond_their_range_get_a_problem_naming_the_field() {
    let s = start().await;
    let (r, rtok) = s.reseller("R").await;
    let c = customer_with_domain(&s, &rtok, json!({"name": "C", "kind": "customer"})).await;
    s.create(
        "/api/v1/mailboxes",
        &rtok,
        json!({"address": "u@c.example", "password": "correct horse battery", "quota_mb": 10}),
    )
    .await;
    // Every limit, at 2^64-1 and one past its maximum, on a tenant and on a domain; at its
    // maximum it is taken.
    let fields: &[(&str, u64)] = &[
        ("domains", MAX_COUNT),
        ("aliases", MAX_COUNT),
        ("lists", MAX_COUNT),
        ("max_mailbox_mb", MAX_MB),
        ("storage_mb", MAX_MB),
        ("mailboxes", MAX_COUNT),
    ];
    let body = |field: &str, v: u64| {
        let value = if field == "mailboxes" {
            json!({"STANDARD": v})
        } else {
            json!(v)
        };
        json!({"limits": {field: value}})
    };
    for (field, max) in fields {
        for bad in [U64_MAX, max + 1] {
            let reply = s
                .patch(&format!("/api/v1/tenants/{c}"), &rtok, &body(field, bad))
                .await;
            assert_field(&reply, &format!("limits.{field}"), &format!("tenant {bad}"));
            if *field != "domains" {
                let reply = s
                    .patch("/api/v1/domains/c.example", &rtok, &body(field, bad))
                    .await;
                assert_field(&reply, &format!("limits.{field}"), &format!("domain {bad}"));
            }
        }
        let reply = s
            .patch(&format!("/api/v1/tenants/{r}"), ADMIN, &body(field, *max))
            .await;
        assert_eq!(reply.status, 200, "{field} at its maximum: {}", reply.body);
    }
    // A number past 2^64-1 does not even parse: still a 422 problem.
    let reply = s
        .call(
            "PATCH",
            &format!("/api/v1/tenants/{c}"),
            Some(&rtok),
            Some(r#"{"limits": {"storage_mb": 18446744073709551616}}"#),
            &[],
        )
        .await;
    reply.assert_problem(422);
    // Plans and mailboxes.
    let plan = |default: u64, max: u64, price: u64| {
        json!({"name": "P", "tier": "STANDARD", "default_mailbox_mb": default,
               "max_mailbox_mb": max, "price_credits": price})
    };
    for (terms, field) in [
        (plan(10, U64_MAX, 0), "max_mailbox_mb"),
        (plan(U64_MAX, U64_MAX, 0), "default_mailbox_mb"),
        (plan(10, 100, U64_MAX), "price_credits"),
    ] {
        let reply = s.post("/api/v1/plans", &rtok, &terms).await;
        assert_field(&reply, field, &terms.to_string());
    }
    let reply = s
        .post(
            "/api/v1/mailboxes",
            &rtok,
            &json!({"address": "big@c.example", "password": "correct horse battery",
                    "quota_mb": U64_MAX}),
        )
        .await;
    assert_field(&reply, "quota_mb", "new mailbox");
    let reply = s
        .patch(
            "/api/v1/mailboxes/u@c.example",
            &rtok,
            &json!({"quota_mb": U64_MAX}),
        )
        .await;
    assert_field(&reply, "quota_mb", "changed mailbox");
}

// curl runs synchronously in the panel client: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_renders_a_tenant_at_the_largest_values() {
    let s = start().await;
    let max_limits = json!({"domains": MAX_COUNT, "aliases": MAX_COUNT, "lists": MAX_COUNT,
        "mailboxes": {"LIGHT": MAX_COUNT, "STANDARD": MAX_COUNT, "PREMIUM": MAX_COUNT},
        "max_mailbox_mb": MAX_MB, "storage_mb": MAX_MB});
    let plan = s
        .create(
            "/api/v1/plans",
            ADMIN,
            json!({"name": "Largest", "tier": "PREMIUM", "default_mailbox_mb": MAX_MB,
                   "max_mailbox_mb": MAX_MB, "price_credits": marque_core::limits::MAX_CREDITS}),
        )
        .await;
    let r = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Max", "kind": "reseller", "plan": plan["id"], "limits": max_limits}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    s.create(
        "/api/v1/managers",
        ADMIN,
        json!({"tenant": r, "login": "max-admin", "password": "max-admin-password",
               "kind": "admin"}),
    )
    .await;
    let c = s
        .create(
            "/api/v1/tenants",
            ADMIN,
            json!({"name": "Max customer", "kind": "customer", "parent": r,
                   "limits": max_limits}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    s.create(
        "/api/v1/domains",
        ADMIN,
        json!({"name": "max.example", "tenant": c, "limits": max_limits}),
    )
    .await;
    s.create(
        "/api/v1/mailboxes",
        ADMIN,
        json!({"address": "pm@max.example", "password": "postmaster-password",
               "quota_mb": MAX_MB, "postmaster": true}),
    )
    .await;

    let admin = PanelClient::new(&s);
    admin.sign_in("max-admin", "max-admin-password");
    for path in [
        "/admin".to_string(),
        "/admin/usage".into(),
        "/admin/customers".into(),
        format!("/admin/customers/{c}"),
        "/admin/domains".into(),
        "/admin/domains/max.example".into(),
        "/admin/mailboxes/pm@max.example".into(),
        "/admin/plans".into(),
    ] {
        let page = admin.get(&path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
    assert!(admin.get("/admin").body.contains("16.0 TiB"));
    let pm = PanelClient::new(&s);
    pm.sign_in("pm@max.example", "postmaster-password");
    for path in [
        "/admin/domains/max.example",
        "/admin/mailboxes/pm@max.example",
    ] {
        let page = pm.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
}

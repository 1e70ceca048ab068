//! End to end over HTTP (curl): a reseller defines a plan, a reseller-kind manager with the
//! `queue` policy sells a customer on it, the reseller approves, credit is debited, and the
//! month's usage export shows the activation.

mod common;

use common::{ADMIN, start};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_manager_sells_a_customer_through_the_queue() {
    let s = start().await;
    let (r, tok) = s.reseller("Reseller").await;
    let plan = s
        .create(
            "/api/v1/plans",
            &tok,
            json!({"name": "Standard", "tier": "STANDARD", "default_mailbox_mb": 100,
                   "max_mailbox_mb": 1000, "price_credits": 10}),
        )
        .await;
    let plan_id = plan["id"].as_u64().unwrap();
    assert_eq!(
        s.get(&format!("/api/v1/plans/{plan_id}"), &tok)
            .await
            .status,
        200
    );
    let mgr = s
        .create(
            "/api/v1/managers",
            &tok,
            json!({"login": "sales", "kind": "reseller", "plans": [plan_id], "policy": "queue"}),
        )
        .await;
    let mgr_id = mgr["id"].as_u64().unwrap();
    let listed = s.get("/api/v1/managers", &tok).await.json();
    assert!(listed["items"].as_array().unwrap().len() >= 2);

    // Only an ancestor tops up the reseller's credit.
    s.post(
        &format!("/api/v1/tenants/{r}/credit"),
        &tok,
        &json!({"amount": 100}),
    )
    .await
    .assert_problem(403);
    let c = s
        .post(
            &format!("/api/v1/tenants/{r}/credit"),
            ADMIN,
            &json!({"amount": 100, "note": "prepaid"}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.json()["balance"], 100);

    let mtok = s
        .create(
            "/api/v1/tokens",
            &tok,
            json!({"name": "sales api", "manager": mgr_id}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let customer = s
        .create(
            "/api/v1/tenants",
            &mtok,
            json!({"name": "Florist", "kind": "customer", "plan": plan_id}),
        )
        .await;
    assert_eq!(
        customer["activation"]["state"], "awaiting_approval",
        "{customer}"
    );
    let act = customer["activation"]["id"].as_u64().unwrap();
    // The manager cannot approve its own request.
    let r2 = s
        .post(
            &format!("/api/v1/activations/{act}/approve"),
            &mtok,
            &json!({}),
        )
        .await;
    assert!(matches!(r2.status, 403 | 404), "{}", r2.body);
    let queue = s
        .get(&format!("/api/v1/activations?tenant={r}"), &tok)
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(queue.json()["items"][0]["id"], act);
    let ok = s
        .post(
            &format!("/api/v1/activations/{act}/approve"),
            &tok,
            &json!({}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["state"], "active");
    let credit = s
        .get(&format!("/api/v1/tenants/{r}/credit"), &tok)
        .await
        .json();
    assert_eq!(credit["balance"], 90, "{credit}");

    let now = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", now.year(), u8::from(now.month()));
    let csv = s
        .get(
            &format!("/api/v1/usage?tenant={r}&month={month}&format=csv"),
            &tok,
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    let rows: Vec<&str> = csv.body.lines().collect();
    assert_eq!(rows.len(), 2, "{}", csv.body);
    assert!(rows[1].contains(",activation,") && rows[1].contains("Florist"));
}

//! The activation queue: customers that reseller-kind managers sold, waiting for approval or
//! for credit; an administrator approves or rejects them (the core debits the credit).

use axum::extract::Path;
use axum::response::Response;
use marque_core::{ActivationId, ActivationState};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::layout;

/// `GET /admin/activations`.
pub async fn list(ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let mut items = match ctx
        .st
        .core
        .list_activations(actor, actor.principal.tenant())
        .await
    {
        Ok(a) => a,
        Err(e) => return ctx.error(e),
    };
    items.sort_by_key(|a| std::cmp::Reverse(a.requested_ms));
    let waiting = |s: ActivationState| {
        matches!(
            s,
            ActivationState::AwaitingApproval | ActivationState::AwaitingCredit
        )
    };
    let body = html! {
        @if items.is_empty() { p { "No activations." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Requested (UTC)" } th { "Customer" } th { "Plan" } th.num { "Price" } th { "Policy" } th { "State" } th { "Decide" } } }
                tbody { @for a in &items {
                    tr {
                        td { (layout::when(a.requested_ms)) }
                        td { a href=(format!("/admin/customers/{}", a.customer)) { "customer " (a.customer) } }
                        td { (a.plan) }
                        td.num { (a.price_credits) }
                        td { (format!("{:?}", a.policy).to_lowercase()) }
                        td { (format!("{:?}", a.state)) }
                        td { @if waiting(a.state) {
                            form.inline method="post" action=(format!("/admin/activations/{}/approve", a.id)) {
                                (layout::csrf(&ctx)) button type="submit" { "Approve" }
                            }
                            form.inline method="post" action=(format!("/admin/activations/{}/reject", a.id)) {
                                (layout::csrf(&ctx)) button.secondary type="submit" { "Reject" }
                            }
                        } }
                    }
                } }
            } }
        }
    };
    ctx.page("Activations", body)
}

/// `POST /admin/activations/{id}/approve`.
pub async fn approve(Path(id): Path<u64>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = ctx
        .st
        .core
        .approve_activation(ctx.actor(), ActivationId(id))
        .await;
    ctx.done(
        "/admin/activations",
        r.map(|a| format!("Activation {} is now {:?}.", a.id, a.state)),
    )
    .await
}

/// `POST /admin/activations/{id}/reject`.
pub async fn reject(Path(id): Path<u64>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = ctx
        .st
        .core
        .reject_activation(ctx.actor(), ActivationId(id))
        .await;
    ctx.done(
        "/admin/activations",
        r.map(|a| format!("Activation {} rejected.", a.id)),
    )
    .await
}

//! Prepaid credit: the balance and ledger of the signed-in tenant, and top-ups of a child
//! tenant's credit (by its ancestors, as the core allows).

use axum::response::Response;
use marque_core::TenantId;
use maud::html;

use super::ctx::{Ctx, Posted};
use super::domains::number;
use super::layout;

/// `GET /admin/credit`.
pub async fn show(ctx: Ctx) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let own = actor.principal.tenant();
    let balance = match core.credit(actor, own).await {
        Ok(b) => b,
        Err(e) => return ctx.error(e),
    };
    let mut ledger = core.ledger(actor, own).await.unwrap_or_default();
    ledger.reverse();
    ledger.truncate(200);
    let children = core.list_tenants(actor, own).await.unwrap_or_default();
    let body = html! {
        div.cards { div.card { span.n { (balance) } "credits" } }
        @if !children.is_empty() {
            h2 { "Top up a customer or reseller" }
            form.inline method="post" action="/admin/credit" {
                (layout::csrf(&ctx))
                label { "Account" select name="tenant" {
                    @for c in &children { option value=(c.id) { (c.name) } }
                } }
                label { "Credits" input name="amount" type="number" min="1" required inputmode="numeric"; }
                label { "Note" input name="note" type="text"; }
                button type="submit" { "Top up" }
            }
        }
        h2 { "Ledger (newest first)" }
        @if ledger.is_empty() { p { "No entries." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Time (UTC)" } th.num { "Change" } th.num { "Balance" } th { "Reason" } th { "By" } } }
                tbody { @for e in &ledger {
                    tr {
                        td { (layout::when(e.time_ms)) }
                        td.num { (e.delta) }
                        td.num { (e.balance) }
                        td { (e.reason) }
                        td { (e.by) }
                    }
                } }
            } }
        }
    };
    ctx.page("Credit", body)
}

/// `POST /admin/credit`.
pub async fn top_up(p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = async {
        let tenant = number(&p, "tenant")?
            .ok_or_else(|| marque_core::CoreError::invalid("tenant", "choose an account"))?;
        let amount = number(&p, "amount")?
            .ok_or_else(|| marque_core::CoreError::invalid("amount", "give a number of credits"))?;
        ctx.st
            .core
            .top_up(ctx.actor(), TenantId(tenant), amount, p.get("note"))
            .await
    }
    .await;
    ctx.done(
        "/admin/credit",
        r.map(|b| format!("Topped up; the account's balance is {b}.")),
    )
    .await
}

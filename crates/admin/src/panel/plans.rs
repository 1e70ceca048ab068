//! Plans (tariffs) the signed-in tenant offers: the list and a "new plan" form.

use axum::response::Response;
use marque_core::{Features, NewPlan, Tier};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::dashboard::mib;
use super::domains::number;
use super::layout::{self, bytes};

/// `GET /admin/plans`.
pub async fn list(ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let plans = match ctx
        .st
        .core
        .list_plans(actor, actor.principal.tenant())
        .await
    {
        Ok(p) => p,
        Err(e) => return ctx.error(e),
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    let body = html! {
        @if plans.is_empty() { p { "No plans." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Plan" } th { "Tier" } th { "Mailbox size" } th { "Branding" } th { "TLS" } th { "API" } th.num { "Price" } } }
                tbody { @for p in &plans {
                    tr {
                        td { (p.name) }
                        td { (format!("{:?}", p.tier)) }
                        td { (bytes(mib(p.default_mailbox_mb))) " (up to " (bytes(mib(p.max_mailbox_mb))) ")" }
                        td { (yes(p.features.custom_branding)) }
                        td { (yes(p.features.tls)) }
                        td { (yes(p.features.api_access)) }
                        td.num { (p.price_credits) }
                    }
                } }
            } }
        }
        h2 { "New plan" }
        form.stack method="post" action="/admin/plans" {
            (layout::csrf(&ctx))
            label { "Name" input name="name" type="text" required; }
            label { "Tier" select name="tier" {
                option value="light" { "Light" }
                option value="standard" selected { "Standard" }
                option value="premium" { "Premium" }
            } }
            label { "Default mailbox size (MiB)" input name="default_mailbox_mb" type="number" min="1" value="1024" required; }
            label { "Largest mailbox size (MiB)" input name="max_mailbox_mb" type="number" min="1" value="20480" required; }
            label { input name="custom_branding" type="checkbox" value="1"; " Custom branding" }
            label { input name="tls" type="checkbox" value="1"; " TLS for own hostnames" }
            label { input name="dedicated_ip" type="checkbox" value="1"; " Dedicated outbound IP" }
            label { input name="api_access" type="checkbox" value="1"; " API access" }
            label { "Price in credits" input name="price_credits" type="number" min="0" value="0" required; }
            button type="submit" { "Create plan" }
        }
    };
    ctx.page("Plans", body)
}

/// `POST /admin/plans`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = async {
        let tier = match p.get("tier") {
            "light" => Tier::Light,
            "premium" => Tier::Premium,
            _ => Tier::Standard,
        };
        let new = NewPlan {
            owner: ctx.actor().principal.tenant(),
            name: p.get("name").to_string(),
            tier,
            default_mailbox_mb: number(&p, "default_mailbox_mb")?.unwrap_or(0),
            max_mailbox_mb: number(&p, "max_mailbox_mb")?.unwrap_or(0),
            features: Features {
                custom_branding: p.get("custom_branding") == "1",
                tls: p.get("tls") == "1",
                dedicated_ip: p.get("dedicated_ip") == "1",
                api_access: p.get("api_access") == "1",
            },
            price_credits: number(&p, "price_credits")?.unwrap_or(0),
        };
        ctx.st.core.create_plan(ctx.actor(), new).await
    }
    .await;
    ctx.done(
        "/admin/plans",
        r.map(|p| format!("Plan {} created.", p.name)),
    )
    .await
}

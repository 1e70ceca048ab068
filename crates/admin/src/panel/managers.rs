//! Administrators and managers of the signed-in tenant, with their kind and policy, and a form
//! to add one: a full administrator, a helpdesk manager of some domains, or a reseller-kind
//! manager with its plans and activation policy.

use axum::response::Response;
use marque_core::{ActivationPolicy, CoreError, NewStaff, PlanId, StaffKind};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::layout;

fn describe(k: &StaffKind) -> String {
    match k {
        StaffKind::Admin => "administrator".into(),
        StaffKind::Helpdesk { domains } => format!("helpdesk ({} domains)", domains.len()),
        StaffKind::ResellerManager { plans, policy } => format!(
            "reseller manager: policy {}, plans {}",
            format!("{policy:?}").to_lowercase(),
            plans
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `GET /admin/managers`.
pub async fn list(ctx: Ctx) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let own = actor.principal.tenant();
    let staff = match core.list_staff(actor, own).await {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let plans = core.list_plans(actor, own).await.unwrap_or_default();
    let body = html! {
        div.table-wrap { table {
            thead { tr { th { "Login" } th { "Kind and policy" } th { "State" } th { "Created" } } }
            tbody { @for s in &staff {
                tr {
                    td { (s.login) }
                    td { (describe(&s.kind)) }
                    td { @if s.enabled { "enabled" } @else { "disabled" } }
                    td { (layout::day(s.created_ms)) }
                }
            } }
        } }
        h2 { "New manager" }
        form.stack method="post" action="/admin/managers" {
            (layout::csrf(&ctx))
            label { "Login" input name="login" type="text" required autocomplete="off"; }
            label { "Password" input name="password" type="password" required minlength="8" autocomplete="new-password"; }
            label { "Kind" select name="kind" {
                option value="helpdesk" { "Helpdesk (the domains below)" }
                option value="reseller" { "Reseller manager (the plans and policy below)" }
                option value="admin" { "Administrator (everything of this account)" }
            } }
            label { "Domains, for helpdesk " span.hint { "(one a line)" } textarea name="domains" {} }
            fieldset {
                legend { "Plans, for a reseller manager" }
                @for p in &plans {
                    label { input type="checkbox" name=(format!("plan_{}", p.id)) value="1"; " " (p.name) }
                }
                @if plans.is_empty() { p.hint { "No plans yet." } }
            }
            label { "Activation policy" select name="policy" {
                option value="immediate" { "Immediate (if the credit covers it)" }
                option value="queue" { "Queue (an administrator approves)" }
                option value="api" { "API (your own system approves)" }
            } }
            button type="submit" { "Create manager" }
        }
    };
    ctx.page("Managers", body)
}

/// `POST /admin/managers`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let r = async {
        let kind = match p.get("kind") {
            "admin" => StaffKind::Admin,
            "helpdesk" => {
                let mut ids = Vec::new();
                for d in p.raw("domains").split_whitespace() {
                    ids.push(core.get_domain(actor, d).await?.id);
                }
                StaffKind::Helpdesk { domains: ids }
            }
            "reseller" => {
                let plans = p
                    .fields
                    .keys()
                    .filter_map(|k| k.strip_prefix("plan_")?.parse().ok())
                    .map(PlanId)
                    .collect();
                let policy = match p.get("policy") {
                    "queue" => ActivationPolicy::Queue,
                    "api" => ActivationPolicy::Api,
                    _ => ActivationPolicy::Immediate,
                };
                StaffKind::ResellerManager { plans, policy }
            }
            _ => return Err(CoreError::invalid("kind", "admin, helpdesk or reseller")),
        };
        let new = NewStaff {
            tenant: actor.principal.tenant(),
            login: p.get("login").to_string(),
            password: Some(p.raw("password").to_string()),
            kind,
        };
        core.create_staff(actor, new).await
    }
    .await;
    ctx.done(
        "/admin/managers",
        r.map(|s| format!("Manager {} created.", s.login)),
    )
    .await
}

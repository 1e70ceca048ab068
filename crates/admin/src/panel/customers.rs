//! Customers (and sub-resellers): the list, "create account", and one customer's page with its
//! limits, usage, domains and a "new domain" form. A reseller-kind manager's new customer may
//! wait for activation; the page says so.

use axum::extract::Path;
use axum::response::Response;
use marque_core::policy::{Place, may};
use marque_core::{Action, Limits, NewTenant, SupportLevel, TenantId, TenantKind};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::dashboard::mib;
use super::domains::{new_domain_form, number};
use super::layout::{self, bar, bytes, count};

/// `GET /admin/customers`.
pub async fn list(ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let items = match ctx
        .st
        .core
        .list_tenants(actor, actor.principal.tenant())
        .await
    {
        Ok(t) => t,
        Err(e) => return ctx.error(e),
    };
    let body = html! {
        div.titlebar {
            span {}
            a.button href="/admin/customers/new" { "Create account" }
        }
        @if items.is_empty() { p { "No customers yet." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Name" } th { "Kind" } th { "State" } th { "Created" } } }
                tbody { @for t in &items {
                    tr {
                        td { a href=(format!("/admin/customers/{}", t.id)) { (t.name) } }
                        td { (format!("{:?}", t.kind).to_lowercase()) }
                        td { (format!("{:?}", t.state).to_lowercase()) }
                        td { (layout::day(t.created_ms)) }
                    }
                } }
            } }
        }
    };
    ctx.page("Customers", body)
}

/// `GET /admin/customers/new`.
pub async fn new_form(ctx: Ctx) -> Response {
    // Only those who may create tenants directly choose the kind; managers sell customers.
    let admin = may(ctx.actor(), Action::TenantCreate, &[Place::OwnTenant]);
    let body = html! {
        form.stack method="post" action="/admin/customers" {
            (layout::csrf(&ctx))
            label { "Name" input name="name" type="text" required autocomplete="organization"; }
            @if admin {
                label { "Kind"
                    select name="kind" {
                        option value="customer" selected { "Customer" }
                        option value="reseller" { "Reseller" }
                    }
                }
            }
            label { "Storage pool in MiB " span.hint { "(empty: no limit of its own)" }
                input name="storage_mb" type="number" min="1" inputmode="numeric"; }
            label { "Domains at most " span.hint { "(empty: no limit of its own)" }
                input name="domains" type="number" min="0" inputmode="numeric"; }
            label { "Largest mailbox in MiB " span.hint { "(empty: no limit of its own)" }
                input name="max_mailbox_mb" type="number" min="1" inputmode="numeric"; }
            button type="submit" { "Create account" }
        }
    };
    ctx.page("Create account", body)
}

/// `POST /admin/customers`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let actor = ctx.actor();
    let result = async {
        let kind = match p.get("kind") {
            "" | "customer" => TenantKind::Customer,
            "reseller" => TenantKind::Reseller,
            _ => {
                return Err(marque_core::CoreError::invalid(
                    "kind",
                    "customer or reseller",
                ));
            }
        };
        let limits = Limits {
            storage_mb: number(&p, "storage_mb")?,
            domains: number(&p, "domains")?,
            max_mailbox_mb: number(&p, "max_mailbox_mb")?,
            ..Limits::default()
        };
        let new = NewTenant {
            name: p.get("name").to_string(),
            kind,
            parent: actor.principal.tenant(),
            plan: None,
            billing: None,
            support: SupportLevel::default(),
            limits,
        };
        ctx.st.core.create_tenant(actor, new).await
    }
    .await;
    match result {
        Ok(made) => {
            let waiting = made
                .activation
                .as_ref()
                .is_some_and(|a| format!("{:?}", a.state).to_lowercase() != "approved");
            let text = if waiting {
                format!(
                    "Account {} created; it waits for activation.",
                    made.tenant.name
                )
            } else {
                format!("Account {} created.", made.tenant.name)
            };
            ctx.done(&format!("/admin/customers/{}", made.tenant.id), Ok(text))
                .await
        }
        Err(e) => ctx.done("/admin/customers/new", Err(e)).await,
    }
}

/// `GET /admin/customers/{id}`.
pub async fn show(ctx: Ctx, Path(id): Path<u64>) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let id = TenantId(id);
    let t = match core.get_tenant(actor, id).await {
        Ok(t) => t,
        Err(e) => return ctx.error(e),
    };
    let usage = core.usage(actor, id).await.ok();
    let domains = core.list_domains(actor, id).await.unwrap_or_default();
    let children = core.list_tenants(actor, id).await.unwrap_or_default();
    let pos = |n: i64| u64::try_from(n).unwrap_or(0);
    let l = &t.limits;
    let body = html! {
        dl.facts {
            dt { "Kind" } dd { (format!("{:?}", t.kind).to_lowercase()) }
            dt { "State" } dd { (format!("{:?}", t.state).to_lowercase()) }
            dt { "Support" } dd { (format!("{:?}", t.support).to_lowercase()) }
            dt { "Created" } dd { (layout::when(t.created_ms)) }
        }
        @if let Some(u) = &usage {
            h2 { "Usage" }
            div.card {
                (bar("Stored", pos(u.tenant.counts.storage_used), l.storage_mb.map(mib), bytes))
                (bar("Allocated to mailboxes", pos(u.tenant.counts.storage_allocated), l.storage_mb.map(mib), bytes))
                (bar("Domains", pos(u.tenant.counts.domains), l.domains, count))
            }
        }
        h2 { "Domains" }
        (new_domain_form(&ctx, Some(t.id), &[]))
        @if domains.is_empty() { p { "No domains yet." } }
        ul { @for d in &domains { li { a href=(format!("/admin/domains/{}", d.name)) { (d.name) } } } }
        @if !children.is_empty() {
            h2 { "Its customers" }
            ul { @for c in &children { li { a href=(format!("/admin/customers/{}", c.id)) { (c.name) } } } }
        }
    };
    ctx.page(&t.name, body)
}

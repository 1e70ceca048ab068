//! The first page after sign-in. Administrators and reseller-kind managers see their customer
//! base at a glance (customers, domains, mailboxes, storage against the pool, activations this
//! month), a search field and "Create account"; a postmaster goes to its domain; a user sees its
//! mailbox and what it may change.

use axum::extract::Query;
use axum::response::{IntoResponse, Redirect, Response};
use marque_core::{Role, TenantKind};
use maud::{Markup, html};
use serde::Deserialize;

use super::ctx::Ctx;
use super::domains::visible_domains;
use super::layout::{bar, bytes, count, total};

pub use marque_store::now_ms;

/// MiB to bytes.
pub fn mib(mb: u64) -> u64 {
    mb.saturating_mul(1024 * 1024)
}

/// `GET /admin`.
pub async fn show(ctx: Ctx) -> Response {
    match ctx.actor().principal.role.clone() {
        Role::Admin | Role::ResellerManager { .. } => reseller(&ctx).await,
        Role::Helpdesk { .. } => Redirect::to("/admin/domains").into_response(),
        Role::Postmaster { .. } => {
            let domain = own_domain(&ctx);
            Redirect::to(&format!("/admin/domains/{domain}")).into_response()
        }
        Role::User { .. } => user(&ctx).await,
    }
}

/// The domain part of a mailbox principal's address.
pub fn own_domain(ctx: &Ctx) -> String {
    ctx.actor()
        .principal
        .name
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default()
}

fn search_form(q: &str) -> Markup {
    html! {
        form.inline role="search" method="get" action="/admin/search" {
            label {
                "Search customers, domains and mailboxes"
                input type="search" name="q" value=(q) placeholder="name, domain or address";
            }
            button type="submit" { "Search" }
        }
    }
}

async fn reseller(ctx: &Ctx) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let tenant = actor.principal.tenant();
    let usage = match core.usage(actor, tenant).await {
        Ok(u) => u,
        Err(e) => return ctx.error(e),
    };
    let month = marque_core::activation::month_of(now_ms());
    let activations = core
        .monthly_counts(actor, tenant, month)
        .await
        .map(|m| m.activations)
        .unwrap_or(0);
    let c = &usage.tenant.counts;
    let l = &usage.tenant.limits;
    let customers = usage.children.len();
    let mailboxes = total(c.mailboxes.values());
    let pos = |n: i64| u64::try_from(n).unwrap_or(0);
    let body = html! {
        div.titlebar {
            (search_form(""))
            a.button href="/admin/customers/new" { "Create account" }
        }
        div.cards {
            div.card { span.n { (customers) } "customers" }
            div.card { span.n { (c.domains) } "domains" }
            div.card { span.n { (mailboxes) } "mailboxes" }
            div.card { span.n { (activations) } "activations this month" }
        }
        h2 { "Storage" }
        div.card {
            (bar("Stored", pos(c.storage_used), l.storage_mb.map(mib), bytes))
            (bar("Allocated to mailboxes", pos(c.storage_allocated), l.storage_mb.map(mib), bytes))
            (bar("Domains", pos(c.domains), l.domains, count))
        }
        h2 { "Customers" }
        @if usage.children.is_empty() {
            p { "No customers yet. " a href="/admin/customers/new" { "Create the first one" } "." }
        } @else {
            div.table-wrap { table {
                thead { tr { th { "Name" } th.num { "Domains" } th.num { "Mailboxes" } th { "Storage" } } }
                tbody {
                    @for ch in &usage.children {
                        tr {
                            td { a href=(format!("/admin/customers/{}", ch.id)) { (ch.name) } }
                            td.num { (ch.counts.domains) }
                            td.num { (total(ch.counts.mailboxes.values())) }
                            td { (bar("Stored", pos(ch.counts.storage_used), ch.limits.storage_mb.map(mib), bytes)) }
                        }
                    }
                }
            } }
        }
    };
    ctx.page("Dashboard", body)
}

async fn user(ctx: &Ctx) -> Response {
    let actor = ctx.actor();
    let m = match ctx.st.core.get_mailbox(actor, &actor.principal.name).await {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let body = html! {
        dl.facts {
            dt { "Address" } dd { (m.address) }
            dt { "Mailbox size" } dd { (bytes(mib(m.quota_mb))) }
        }
        h2 { "Settings" }
        ul {
            li { a href="/admin/password" { "Change password" } }
            li { a href="/admin/me/vacation" { "Vacation message" } }
            li { a href="/admin/me/forwards" { "Forwards" } }
            li { a href="/admin/me/filters" { "Filters" } }
        }
    };
    ctx.page("My mailbox", body)
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Most results one search lists per kind.
const MAX_HITS: usize = 50;

/// `GET /admin/search?q=`: customers by name, domains by name, mailboxes by address, among
/// what the signed-in principal may see.
pub async fn search(ctx: Ctx, Query(q): Query<SearchQuery>) -> Response {
    let needle = q.q.trim().to_lowercase();
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let mut customers = Vec::new();
    if !needle.is_empty()
        && let Ok(all) = core.list_tenants(actor, actor.principal.tenant()).await
    {
        customers = all
            .into_iter()
            .filter(|t| t.kind != TenantKind::Provider && t.name.to_lowercase().contains(&needle))
            .take(MAX_HITS)
            .collect();
    }
    let mut domains = Vec::new();
    let mut mailboxes = Vec::new();
    if !needle.is_empty() {
        for d in visible_domains(&ctx).await {
            if mailboxes.len() < MAX_HITS
                && let Ok(ms) = core.list_mailboxes(actor, &d.name).await
            {
                mailboxes.extend(
                    ms.into_iter()
                        .filter(|m| m.address.contains(&needle))
                        .take(MAX_HITS),
                );
            }
            if d.name.contains(&needle) && domains.len() < MAX_HITS {
                domains.push(d);
            }
        }
    }
    mailboxes.truncate(MAX_HITS);
    let body = html! {
        (search_form(&q.q))
        @if !needle.is_empty() {
            h2 { "Customers" }
            @if customers.is_empty() { p { "None found." } }
            ul { @for t in &customers { li { a href=(format!("/admin/customers/{}", t.id)) { (t.name) } } } }
            h2 { "Domains" }
            @if domains.is_empty() { p { "None found." } }
            ul { @for d in &domains { li { a href=(format!("/admin/domains/{}", d.name)) { (d.name) } } } }
            h2 { "Mailboxes" }
            @if mailboxes.is_empty() { p { "None found." } }
            ul { @for m in &mailboxes { li { a href=(format!("/admin/mailboxes/{}", m.address)) { (m.address) } } } }
        }
    };
    ctx.page("Search", body)
}

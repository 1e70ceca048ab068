//! Domains: the list with usage bars, one domain's page (limits and usage, its mailboxes,
//! "new mailbox" with a storage choice bounded by what the pools still allow, its aliases),
//! and creating a domain for a customer.

use axum::extract::Path;
use axum::response::Response;
use marque_core::policy::{Place, may};
use marque_core::{Action, Domain, Limits, NewDomain, Role, TenantId};
use maud::{Markup, html};

use super::ctx::{Ctx, Posted};
use super::dashboard::{mib, own_domain};
use super::layout::{self, bar, bytes, count};

/// Most tenants walked when listing every domain in a subtree (memory stays bounded).
const MAX_TENANTS: usize = 10_000;

/// Every domain the signed-in principal may see: its tenant's subtree for administrators and
/// reseller-kind managers, its tenant's visible domains for helpdesk managers, its own domain
/// for a postmaster.
pub async fn visible_domains(ctx: &Ctx) -> Vec<Domain> {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    match &actor.principal.role {
        Role::Postmaster { .. } | Role::User { .. } => core
            .get_domain(actor, &own_domain(ctx))
            .await
            .into_iter()
            .collect(),
        Role::Helpdesk { .. } => core
            .list_domains(actor, actor.principal.tenant())
            .await
            .unwrap_or_default(),
        Role::Admin | Role::ResellerManager { .. } => {
            let mut out = Vec::new();
            let mut queue = vec![actor.principal.tenant()];
            let mut walked = 0;
            while let Some(t) = queue.pop() {
                walked += 1;
                if walked > MAX_TENANTS {
                    break;
                }
                out.extend(core.list_domains(actor, t).await.unwrap_or_default());
                if let Ok(children) = core.list_tenants(actor, t).await {
                    queue.extend(children.into_iter().map(|c| c.id));
                }
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            out
        }
    }
}

/// The "new domain" form, for a given tenant or with a choice of customers.
pub fn new_domain_form(
    ctx: &Ctx,
    tenant: Option<TenantId>,
    choices: &[(TenantId, String)],
) -> Markup {
    html! {
        form.inline method="post" action="/admin/domains" {
            (layout::csrf(ctx))
            label { "Domain name" input name="name" type="text" required placeholder="example.com" autocomplete="off"; }
            @if let Some(t) = tenant {
                input type="hidden" name="tenant" value=(t);
            } @else if !choices.is_empty() {
                label { "Customer"
                    select name="tenant" {
                        @for (id, name) in choices { option value=(id) { (name) } }
                    }
                }
            }
            label { "Storage (MiB, optional)" input name="storage_mb" type="number" min="1" inputmode="numeric"; }
            button type="submit" { "Create domain" }
        }
    }
}

/// `GET /admin/domains`.
pub async fn list(ctx: Ctx) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let domains = visible_domains(&ctx).await;
    let staff = may(
        actor,
        Action::DomainCreate,
        &[Place::OwnTenant, Place::TenantBelow],
    );
    let mut choices = Vec::new();
    if staff {
        let own = actor.principal.tenant();
        choices.push((own, "(own)".to_string()));
        if let Ok(ts) = core.list_tenants(actor, own).await {
            choices.extend(ts.into_iter().map(|t| (t.id, t.name)));
        }
    }
    let mut rows = Vec::new();
    for d in &domains {
        let u = core.domain_usage(actor, &d.name).await.ok();
        rows.push((d, u));
    }
    let body = html! {
        @if staff {
            h2 { "New domain" }
            (new_domain_form(&ctx, None, &choices))
        }
        h2 { "All domains" }
        @if rows.is_empty() { p { "No domains yet." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Domain" } th { "State" } th.num { "Mailboxes" } th { "Storage" } } }
                tbody {
                    @for (d, u) in &rows {
                        tr {
                            td { a href=(format!("/admin/domains/{}", d.name)) { (d.name) } }
                            td { @if d.enabled { "enabled" } @else { "disabled" } }
                            td.num { @if let Some(u) = u { (layout::total(u.counts.mailboxes.values())) } }
                            td { @if let Some(u) = u {
                                (bar("Stored", pos(u.counts.storage_used), d.limits.storage_mb.map(mib), bytes))
                            } }
                        }
                    }
                }
            } }
        }
    };
    ctx.page("Domains", body)
}

fn pos(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A number field of a form, if filled.
pub fn number(p: &Posted, name: &str) -> Result<Option<u64>, marque_core::CoreError> {
    let v = p.get(name);
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<u64>().map(Some).map_err(|_| {
        marque_core::CoreError::invalid("number", format!("{name}: not a whole number"))
    })
}

/// `POST /admin/domains`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let actor = ctx.actor();
    let result = async {
        let tenant = match number(&p, "tenant")? {
            Some(t) => TenantId(t),
            None => actor.principal.tenant(),
        };
        let limits = Limits {
            storage_mb: number(&p, "storage_mb")?,
            ..Limits::default()
        };
        let new = NewDomain {
            name: p.get("name").to_string(),
            tenant,
            limits,
        };
        ctx.st.core.create_domain(actor, new).await
    }
    .await;
    match result {
        Ok(d) => {
            ctx.done(
                &format!("/admin/domains/{}", d.name),
                Ok(format!("Domain {} created.", d.name)),
            )
            .await
        }
        Err(e) => ctx.done("/admin/domains", Err(e)).await,
    }
}

/// Sizes offered for a new mailbox, in MiB.
const SIZES: [u64; 8] = [256, 512, 1024, 2048, 5120, 10240, 20480, 51200];

/// How many MiB a new mailbox of this domain may still be given: the least of the domain's
/// free storage, the tenant's free pool and the largest mailbox allowed; `None` if unlimited.
async fn room_mb(ctx: &Ctx, d: &Domain, allocated: i64) -> Option<u64> {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let mut room: Option<u64> = None;
    let mut cap = |v: u64| room = Some(room.map_or(v, |r| r.min(v)));
    let used_mb = |b: i64| pos(b) / (1024 * 1024);
    if let Some(s) = d.limits.storage_mb {
        cap(s.saturating_sub(used_mb(allocated)));
    }
    if let Some(m) = d.limits.max_mailbox_mb {
        cap(m);
    }
    if let Ok(t) = core.usage(actor, d.tenant).await {
        if let Some(pool) = t.tenant.limits.storage_mb {
            cap(pool.saturating_sub(used_mb(t.tenant.counts.storage_allocated)));
        }
        if let Some(m) = t.tenant.limits.max_mailbox_mb {
            cap(m);
        }
    }
    room
}

/// `GET /admin/domains/{name}`.
pub async fn show(ctx: Ctx, Path(name): Path<String>) -> Response {
    let core = &ctx.st.core;
    let actor = ctx.actor();
    let d = match core.get_domain(actor, &name).await {
        Ok(d) => d,
        Err(e) => return ctx.error(e),
    };
    let usage = core.domain_usage(actor, &d.name).await.ok();
    let mailboxes = core
        .list_mailboxes(actor, &d.name)
        .await
        .unwrap_or_default();
    let aliases = core.list_aliases(actor, &d.name).await.unwrap_or_default();
    let lists = core.list_lists(actor, &d.name).await.unwrap_or_default();
    let allocated = usage.as_ref().map_or(0, |u| u.counts.storage_allocated);
    let room = room_mb(&ctx, &d, allocated).await;
    let sizes: Vec<u64> = SIZES
        .iter()
        .copied()
        .filter(|s| room.is_none_or(|r| *s <= r))
        .collect();
    let l = &d.limits;
    let dns_and_brand = super::dns::section(&ctx, &d.name).await;
    let body = html! {
        h2 { "Allowance" }
        div.card {
            @if let Some(u) = &usage {
                (bar("Stored", pos(u.counts.storage_used), l.storage_mb.map(mib), bytes))
                (bar("Allocated to mailboxes", pos(u.counts.storage_allocated), l.storage_mb.map(mib), bytes))
                (bar("Mailboxes", pos(layout::total(u.counts.mailboxes.values())), tier_total(l), count))
                (bar("Aliases", pos(u.counts.aliases), l.aliases, count))
                (bar("Mailing lists", pos(u.counts.lists), l.lists, count))
            }
            p.hint {
                "Largest mailbox: " (l.max_mailbox_mb.map(|m| bytes(mib(m))).unwrap_or_else(|| "no limit".into()))
                ". Room left for new mailboxes: " (room.map(|m| bytes(mib(m))).unwrap_or_else(|| "no limit".into())) "."
            }
        }
        h2 { "New mailbox" }
        form.inline method="post" action="/admin/mailboxes" {
            (layout::csrf(&ctx))
            input type="hidden" name="domain" value=(d.name);
            label { "Mailbox name (before @" (d.name) ")" input name="local" type="text" required autocomplete="off"; }
            label { "Password" input name="password" type="password" required minlength="8" autocomplete="new-password"; }
            label { "Storage"
                select name="quota_mb" {
                    option value="" { "plan default" }
                    @for s in &sizes { option value=(s) { (bytes(mib(*s))) } }
                }
            }
            label { input name="postmaster" type="checkbox" value="1"; " postmaster" }
            button type="submit" { "Create mailbox" }
        }
        h2 { "Mailboxes" }
        @if mailboxes.is_empty() { p { "No mailboxes yet." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Address" } th { "Size" } th { "Tier" } th { "Postmaster" } th { "State" } } }
                tbody { @for m in &mailboxes {
                    tr {
                        td { a href=(format!("/admin/mailboxes/{}", m.address)) { (m.address) } }
                        td { (bytes(mib(m.quota_mb))) }
                        td { (format!("{:?}", m.tier)) }
                        td { @if m.postmaster { "yes" } @else { "no" } }
                        td { @if m.enabled { "enabled" } @else { "disabled" } }
                    }
                } }
            } }
        }
        h2 { "Aliases" }
        form.inline method="post" action="/admin/aliases" {
            (layout::csrf(&ctx))
            input type="hidden" name="domain" value=(d.name);
            label { "Alias (before @" (d.name) ")" input name="local" type="text" required autocomplete="off"; }
            label { "Delivers to " span.hint { "(addresses, comma-separated)" } input name="targets" type="text" required; }
            button type="submit" { "Create alias" }
        }
        @if aliases.is_empty() { p { "No aliases." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Address" } th { "Delivers to" } } }
                tbody { @for a in &aliases {
                    tr { td { (a.address) } td { (a.targets.join(", ")) } }
                } }
            } }
        }
        h2 { "Mailing lists" }
        form.inline method="post" action="/admin/lists" {
            (layout::csrf(&ctx))
            input type="hidden" name="domain" value=(d.name);
            label { "List address (before @" (d.name) ")" input name="local" type="text" required autocomplete="off"; }
            label { "Name" input name="name" type="text" required; }
            label { "Members " span.hint { "(comma-separated)" } input name="members" type="text"; }
            button type="submit" { "Create list" }
        }
        @if lists.is_empty() { p { "No mailing lists." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Address" } th { "Name" } th.num { "Members" } } }
                tbody { @for l in &lists {
                    tr { td { (l.address) } td { (l.name) } td.num { (l.members.len()) } }
                } }
            } }
        }
        (dns_and_brand)
    };
    ctx.page(&format!("Domain {}", d.name), body)
}

/// The sum of per-tier mailbox limits, if every tier is limited.
fn tier_total(l: &Limits) -> Option<u64> {
    if l.mailboxes.len() < marque_core::Tier::ALL.len() {
        return None;
    }
    Some(l.mailboxes.values().fold(0u64, |a, n| a.saturating_add(*n)))
}

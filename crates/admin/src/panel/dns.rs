//! A domain's DNS records and brand on its page: each record it must publish with the state
//! of the last check, a button that checks now, the brand its users see, and a form for the
//! domain's own brand (through the same core call as the API, so plans and permissions apply).

use axum::extract::Path;
use axum::response::Response;
use marque_hosting::brand::{Brand, BrandOf, Colours};
use marque_hosting::dns::{CheckOutcome, DnsStatus, Status};
use maud::{Markup, html};

use super::ctx::{Ctx, Posted};
use super::layout;

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Missing => "missing",
        Status::Wrong => "wrong",
        Status::Error => "no answer",
        Status::Pending => "not checked",
    }
}

/// The "DNS records" and "Brand" sections of `/admin/domains/{name}`.
pub async fn section(ctx: &Ctx, domain: &str) -> Markup {
    let hosting = &ctx.st.hosting;
    let status = hosting.domain_dns(ctx.actor(), domain).await.ok();
    let brand = hosting.brand_for_domain(domain).await.ok();
    let own = hosting
        .get_brand(ctx.actor(), BrandOf::Domain(domain.to_string()))
        .await
        .ok()
        .flatten();
    let colours = own.as_ref().map(|b| b.colours.clone()).unwrap_or_default();
    html! {
        h2 { "Brand" }
        @if let Some(b) = &brand {
            div.card {
                p { "Users of this domain see " strong { (b.brand.name) } "." }
                p.hint { "Mail host: " (b.brand.hostnames.join(", ")) }
            }
        }
        form method="post" action=(format!("/admin/domains/{domain}/brand")) {
            (layout::csrf(ctx))
            label { "Brand name" input name="name" type="text" required value=[own.as_ref().map(|b| b.name.as_str())]; }
            label { "Mail hostname " span.hint { "(e.g. mail." (domain) "; empty: inherited)" }
                input name="hostname" type="text" value=[own.as_ref().and_then(|b| b.hostnames.first()).map(String::as_str)]; }
            label { "Primary colour" input name="primary" type="color" value=(colours.primary); }
            label { "Accent colour" input name="accent" type="color" value=(colours.accent); }
            label { "Support URL " span.hint { "(https; empty: no support link)" }
                input name="support_url" type="url" value=[own.as_ref().and_then(|b| b.support_url.as_deref())]; }
            button type="submit" { "Save brand" }
        }
        h2 { "DNS records" }
        form.inline method="post" action=(format!("/admin/domains/{domain}/dns")) {
            (layout::csrf(ctx))
            button type="submit" { "Check DNS now" }
        }
        @if let Some(s) = &status { (records(s)) }
    }
}

fn records(s: &DnsStatus) -> Markup {
    html! {
        p.hint {
            @match s.checked_ms {
                Some(ms) => { "Last checked " (layout::when(ms)) " UTC: " }
                None => { "Not checked yet: " }
            }
            (s.summary.ok) " of " (s.records.len()) " records as expected."
        }
        div.table-wrap { table {
            thead { tr { th { "Type" } th { "Name" } th { "Expected value" } th { "State" } th { "Found" } } }
            tbody { @for r in &s.records {
                tr {
                    td { (r.rtype.as_str()) }
                    td { (r.name) }
                    td { code { (r.expected) } }
                    td class=(format!("dns-{}", status_word(r.status).replace(' ', "-"))) {
                        (status_word(r.status))
                        @if let Some(d) = &r.detail { br; span.hint { (d) } }
                        @if let Some(w) = &r.warning { br; span.hint { (w) } }
                    }
                    td { @for f in &r.found { code { (f) } br; } }
                }
            } }
        } }
    }
}

/// `POST /admin/domains/{name}/dns`: checks the domain's records now.
pub async fn check(Path(name): Path<String>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let r = ctx.st.hosting.check_domain_dns(ctx.actor(), &name).await;
    let outcome = r.map(|o| match o {
        CheckOutcome::Checked(s) => format!(
            "DNS checked: {} of {} records as expected.",
            s.summary.ok,
            s.records.len()
        ),
        CheckOutcome::TooSoon(wait) => format!(
            "Checked a moment ago; try again in {} s.",
            wait.as_secs().max(1)
        ),
    });
    ctx.done(&format!("/admin/domains/{name}"), outcome).await
}

/// `POST /admin/domains/{name}/brand`: sets the domain's own brand.
pub async fn set_brand(Path(name): Path<String>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let text = |k: &str| Some(p.get(k).trim().to_string()).filter(|v| !v.is_empty());
    let brand = Brand {
        name: p.get("name").trim().to_string(),
        hostnames: text("hostname").into_iter().collect(),
        colours: Colours {
            primary: p.get("primary").trim().to_string(),
            accent: p.get("accent").trim().to_string(),
        },
        support_url: text("support_url"),
        logo: None,
    };
    let r = ctx
        .st
        .hosting
        .set_brand(ctx.actor(), BrandOf::Domain(name.clone()), brand)
        .await;
    ctx.done(
        &format!("/admin/domains/{name}"),
        r.map(|()| "Brand saved.".to_string()),
    )
    .await
}

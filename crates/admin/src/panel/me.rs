//! A mailbox's own settings: vacation message, forwards and Sieve filters, through the same
//! core functions as `/api/v1/me/...` (which check the permission and compile the scripts).

use axum::response::Response;
use marque_core::CoreError;
use marque_hosting::sieve::{Forwards, Vacation};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::layout;

/// The signed-in mailbox's address, or a readable error for staff.
fn own(ctx: &Ctx) -> Result<String, CoreError> {
    match ctx.actor().principal.id {
        marque_core::PrincipalId::Mailbox(_) => Ok(ctx.actor().principal.name.clone()),
        _ => Err(CoreError::not_found(
            "mailbox of",
            ctx.actor().principal.name.clone(),
        )),
    }
}

/// `GET /admin/me/vacation`.
pub async fn vacation_form(ctx: Ctx) -> Response {
    let me = match own(&ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let v = match ctx.st.hosting.sieve_settings(ctx.actor(), &me).await {
        Ok(s) => s.vacation.unwrap_or_default(),
        Err(e) => return ctx.error(e),
    };
    let body = html! {
        form.stack method="post" action="/admin/me/vacation" {
            (layout::csrf(&ctx))
            label { input name="enabled" type="checkbox" value="1" checked[v.enabled]; " Reply automatically" }
            label { "Subject" input name="subject" type="text" value=(v.subject); }
            label { "Message" textarea name="body" { (v.body) } }
            label { "From (optional)" input name="start" type="date" value=(v.start.clone().unwrap_or_default()); }
            label { "Until (optional)" input name="end" type="date" value=(v.end.clone().unwrap_or_default()); }
            button type="submit" { "Save" }
        }
    };
    ctx.page("Vacation message", body)
}

/// `POST /admin/me/vacation`.
pub async fn vacation(p: Posted) -> Response {
    let ctx = &p.ctx;
    let me = match own(ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let v = Vacation {
        enabled: p.get("enabled") == "1",
        subject: p.get("subject").to_string(),
        body: p.raw("body").to_string(),
        start: opt(p.get("start")),
        end: opt(p.get("end")),
        days: None,
        addresses: Vec::new(),
    };
    let r = ctx.st.hosting.set_vacation(ctx.actor(), &me, Some(v)).await;
    ctx.done(
        "/admin/me/vacation",
        r.map(|_| "Vacation message saved.".into()),
    )
    .await
}

/// `GET /admin/me/forwards`.
pub async fn forwards_form(ctx: Ctx) -> Response {
    let me = match own(&ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let f = match ctx.st.hosting.sieve_settings(ctx.actor(), &me).await {
        Ok(s) => s.forwards.unwrap_or_default(),
        Err(e) => return ctx.error(e),
    };
    let body = html! {
        form.stack method="post" action="/admin/me/forwards" {
            (layout::csrf(&ctx))
            label { "Forward to " span.hint { "(one address a line; empty: no forwarding)" }
                textarea name="addresses" { (f.addresses.join("\n")) } }
            label { input name="keep_copy" type="checkbox" value="1" checked[f.keep_copy]; " Keep a copy here" }
            button type="submit" { "Save" }
        }
    };
    ctx.page("Forwards", body)
}

/// `POST /admin/me/forwards`.
pub async fn forwards(p: Posted) -> Response {
    let ctx = &p.ctx;
    let me = match own(ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let addresses: Vec<String> = p
        .raw("addresses")
        .split(['\n', ',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let f = (!addresses.is_empty()).then(|| Forwards {
        addresses,
        keep_copy: p.get("keep_copy") == "1",
    });
    let r = ctx.st.hosting.set_forwards(ctx.actor(), &me, f).await;
    ctx.done("/admin/me/forwards", r.map(|_| "Forwards saved.".into()))
        .await
}

/// The filter the panel edits.
const FILTER: &str = "panel";

/// `GET /admin/me/filters`: the filter scripts, and the panel's own for editing.
pub async fn filters(ctx: Ctx) -> Response {
    let me = match own(&ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let hosting = &ctx.st.hosting;
    let list = match hosting.sieve_list(ctx.actor(), &me).await {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    let text = hosting
        .sieve_get(ctx.actor(), &me, FILTER)
        .await
        .unwrap_or_else(|_| "require [\"fileinto\"];\n".into());
    let body = html! {
        @if !list.is_empty() {
            div.table-wrap { table {
                thead { tr { th { "Script" } th.num { "Size" } th { "Active" } } }
                tbody { @for s in &list {
                    tr { td { (s.name) } td.num { (layout::bytes(s.size)) } td { @if s.active { "yes" } @else { "no" } } }
                } }
            } }
        }
        h2 { "Edit filter \"" (FILTER) "\" (Sieve, RFC 5228)" }
        form.stack method="post" action="/admin/me/filters" {
            (layout::csrf(&ctx))
            label { "Script" textarea name="script" spellcheck="false" { (text) } }
            label { input name="activate" type="checkbox" value="1" checked; " Make it the active filter" }
            button type="submit" { "Save" }
        }
    };
    ctx.page("Filters", body)
}

/// `POST /admin/me/filters`: compiles and stores the script (errors are shown as given by
/// the compiler), and activates it if asked.
pub async fn filter_save(p: Posted) -> Response {
    let ctx = &p.ctx;
    let me = match own(ctx) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let hosting = &ctx.st.hosting;
    let r = async {
        let warnings = hosting
            .sieve_put(
                ctx.actor(),
                &me,
                FILTER,
                p.raw("script").as_bytes().to_vec(),
            )
            .await?;
        if p.get("activate") == "1" {
            hosting
                .sieve_set_active(ctx.actor(), &me, Some(FILTER))
                .await?;
        }
        Ok(if warnings.is_empty() {
            "Filter saved.".to_string()
        } else {
            format!("Filter saved, with warnings: {}", warnings.join("; "))
        })
    }
    .await;
    ctx.done("/admin/me/filters", r).await
}

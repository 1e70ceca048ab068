//! Mailboxes: create (from a domain's page), one mailbox's page, password reset and the
//! postmaster and enabled flags.

use axum::extract::Path;
use axum::response::Response;
use marque_core::{MailboxChanges, NewMailbox};
use maud::html;

use super::ctx::{Ctx, Posted};
use super::dashboard::mib;
use super::domains::number;
use super::layout::{self, bytes};

/// `POST /admin/mailboxes`.
pub async fn create(p: Posted) -> Response {
    let ctx = &p.ctx;
    let domain = p.get("domain").to_string();
    let back = format!("/admin/domains/{domain}");
    let quota_mb = match number(&p, "quota_mb") {
        Ok(q) => q,
        Err(e) => return ctx.done(&back, Err(e)).await,
    };
    let new = NewMailbox {
        address: format!("{}@{domain}", p.get("local")),
        password: p.raw("password").to_string(),
        quota_mb,
        tier: None,
        postmaster: p.get("postmaster") == "1",
    };
    let made = ctx.st.core.create_mailbox(ctx.actor(), new).await;
    ctx.done(
        &back,
        made.map(|m| format!("Mailbox {} created.", m.address)),
    )
    .await
}

/// `GET /admin/mailboxes/{address}`.
pub async fn show(ctx: Ctx, Path(address): Path<String>) -> Response {
    let m = match ctx.st.core.get_mailbox(ctx.actor(), &address).await {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let domain = m.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let base = format!("/admin/mailboxes/{}", m.address);
    let body = html! {
        p { a href=(format!("/admin/domains/{domain}")) { "← " (domain) } }
        dl.facts {
            dt { "Address" } dd { (m.address) }
            dt { "Size" } dd { (bytes(mib(m.quota_mb))) }
            dt { "Tier" } dd { (format!("{:?}", m.tier)) }
            dt { "Postmaster" } dd { @if m.postmaster { "yes" } @else { "no" } }
            dt { "State" } dd { @if m.enabled { "enabled" } @else { "disabled" } }
            dt { "Created" } dd { (layout::when(m.created_ms)) }
        }
        h2 { "Reset password" }
        form.inline method="post" action=(format!("{base}/password")) {
            (layout::csrf(&ctx))
            label { "New password" input name="password" type="password" required minlength="8" autocomplete="new-password"; }
            button type="submit" { "Set password" }
        }
        h2 { "Settings" }
        form.inline method="post" action=(format!("{base}/flags")) {
            (layout::csrf(&ctx))
            label { input name="postmaster" type="checkbox" value="1" checked[m.postmaster]; " postmaster of " (domain) }
            label { input name="enabled" type="checkbox" value="1" checked[m.enabled]; " enabled" }
            label { "Size (MiB)" input name="quota_mb" type="number" min="1" value=(m.quota_mb) inputmode="numeric"; }
            button type="submit" { "Save" }
        }
    };
    ctx.page(&format!("Mailbox {}", m.address), body)
}

/// `POST /admin/mailboxes/{address}/password`.
pub async fn reset_password(Path(address): Path<String>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let set = ctx
        .st
        .core
        .set_password(ctx.actor(), &address, p.raw("password"))
        .await;
    ctx.done(
        &format!("/admin/mailboxes/{address}"),
        set.map(|()| "Password set.".into()),
    )
    .await
}

/// `POST /admin/mailboxes/{address}/flags`.
pub async fn flags(Path(address): Path<String>, p: Posted) -> Response {
    let ctx = &p.ctx;
    let back = format!("/admin/mailboxes/{address}");
    let quota_mb = match number(&p, "quota_mb") {
        Ok(q) => q,
        Err(e) => return ctx.done(&back, Err(e)).await,
    };
    let changes = MailboxChanges {
        quota_mb,
        tier: None,
        postmaster: Some(p.get("postmaster") == "1"),
        enabled: Some(p.get("enabled") == "1"),
    };
    let r = ctx
        .st
        .core
        .update_mailbox(ctx.actor(), &address, changes)
        .await;
    ctx.done(&back, r.map(|_| "Saved.".into())).await
}

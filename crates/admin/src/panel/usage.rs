//! The usage report: counts and storage of the tenant, its customers and its domains, and the
//! monthly export (activations and usage) as a CSV download for the reseller's own billing.

use axum::extract::Query;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use marque_core::CoreError;
use maud::html;
use serde::Deserialize;

use super::ctx::Ctx;
use super::dashboard::{mib, now_ms};
use super::layout::{self, bar, bytes};

#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    /// `YYYY-MM`.
    #[serde(default)]
    month: String,
}

/// `YYYY-MM` as `yyyymm`.
pub fn parse_month(s: &str) -> Result<u32, CoreError> {
    let bad = || CoreError::invalid("month", "expected YYYY-MM");
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: u32 = y.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    Ok(y * 100 + m)
}

fn this_month() -> String {
    let m = marque_core::activation::month_of(now_ms());
    format!("{:04}-{:02}", m / 100, m % 100)
}

/// `GET /admin/usage`.
pub async fn show(ctx: Ctx) -> Response {
    let actor = ctx.actor();
    let u = match ctx.st.core.usage(actor, actor.principal.tenant()).await {
        Ok(u) => u,
        Err(e) => return ctx.error(e),
    };
    let pos = |n: i64| u64::try_from(n).unwrap_or(0);
    let body = html! {
        h2 { "Monthly export" }
        form.inline method="get" action="/admin/usage.csv" {
            label { "Month" input name="month" type="month" value=(this_month()) required; }
            button type="submit" { "Download CSV" }
        }
        h2 { "Customers" }
        div.table-wrap { table {
            thead { tr { th { "Customer" } th.num { "Domains" } th.num { "Mailboxes" } th.num { "Aliases" } th { "Storage" } } }
            tbody { @for c in &u.children {
                tr {
                    td { a href=(format!("/admin/customers/{}", c.id)) { (c.name) } }
                    td.num { (c.counts.domains) }
                    td.num { (layout::total(c.counts.mailboxes.values())) }
                    td.num { (c.counts.aliases) }
                    td { (bar("Stored", pos(c.counts.storage_used), c.limits.storage_mb.map(mib), bytes)) }
                }
            } }
        } }
        h2 { "Own domains" }
        @if u.domains.is_empty() { p { "None." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Domain" } th.num { "Mailboxes" } th { "Storage" } } }
                tbody { @for d in &u.domains {
                    tr {
                        td { a href=(format!("/admin/domains/{}", d.name)) { (d.name) } }
                        td.num { (layout::total(d.counts.mailboxes.values())) }
                        td { (bar("Stored", pos(d.counts.storage_used), d.limits.storage_mb.map(mib), bytes)) }
                    }
                } }
            } }
        }
    };
    ctx.page("Usage", body)
}

/// `GET /admin/usage.csv?month=YYYY-MM`: the monthly export as an RFC 4180 attachment.
pub async fn csv(ctx: Ctx, Query(q): Query<MonthQuery>) -> Response {
    let month = if q.month.is_empty() {
        this_month()
    } else {
        q.month.clone()
    };
    let m = match parse_month(&month) {
        Ok(m) => m,
        Err(e) => return ctx.error(e),
    };
    let actor = ctx.actor();
    let tenant = actor.principal.tenant();
    let export = match ctx.st.core.usage_export(actor, tenant, m).await {
        Ok(x) => x,
        Err(e) => return ctx.error(e),
    };
    let mut resp = export.to_csv().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    let name = format!("attachment; filename=\"usage-{tenant}-{month}.csv\"");
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    layout::secure(resp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn months() {
        assert_eq!(super::parse_month("2026-11").unwrap(), 202611);
        assert!(super::parse_month("2026-00").is_err());
        assert!(super::parse_month("26-1").is_err());
    }
}

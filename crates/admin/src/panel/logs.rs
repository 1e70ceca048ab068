//! The transaction and authentication log viewers: by day with the count per day, searchable
//! by address, IP and message-id, and one transaction with its SMTP conversation.
//!
//! Scope follows the core's policy: administrators and managers read their tenant's logs; a
//! postmaster reads the records that name an address of its domain; a user reads its own.

use axum::extract::{Path, Query};
use axum::response::Response;
use marque_core::{Action, CoreError, Object, Role, Target, TenantId, authorize};
use marque_store::logs::{self, Cursor, LogEntry, LogKind, Term};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::ctx::Ctx;
use super::dashboard::{now_ms, own_domain};
use super::layout;

/// Records shown per page.
const PAGE: usize = 100;
/// Days counted in the per-day summary.
const DAYS: u64 = 14;
/// Most records read to count one day range (beyond it the count shows as "N+").
const COUNT_CAP: usize = 1000;
const DAY_MS: u64 = 86_400_000;

/// Whose records the signed-in principal may read.
#[derive(Debug, Clone)]
enum Scope {
    /// A tenant's whole log.
    Tenant(TenantId),
    /// The records of a tenant's log that name an address in this domain.
    Domain(TenantId, String),
    /// The records of one address.
    Address(TenantId, String),
}

async fn scope(ctx: &Ctx) -> Result<Scope, CoreError> {
    let actor = ctx.actor();
    let tenant = actor.principal.tenant();
    match &actor.principal.role {
        Role::Postmaster { domain, .. } => {
            let t = ctx.st.core.get_tenant(actor, tenant).await;
            // The policy decides on the domain's logs; the tenant record itself may be hidden.
            if let Ok(t) = &t {
                authorize(
                    actor,
                    Action::LogRead,
                    &Target::of(t, Object::Domain(*domain)),
                )
                .map_err(|_| CoreError::not_found("logs", own_domain(ctx)))?;
            }
            Ok(Scope::Domain(tenant, own_domain(ctx)))
        }
        Role::User { .. } => Ok(Scope::Address(tenant, actor.principal.name.clone())),
        _ => {
            let t = ctx.st.core.get_tenant(actor, tenant).await?;
            authorize(actor, Action::LogRead, &Target::of(&t, Object::Tenant))
                .map_err(|_| CoreError::not_found("logs of tenant", tenant))?;
            Ok(Scope::Tenant(tenant))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    address: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    message_id: String,
    /// `YYYY-MM-DD` (UTC).
    #[serde(default)]
    day: String,
    /// `<time_ms>.<id>` where the previous page stopped.
    #[serde(default)]
    after: String,
}

impl LogQuery {
    fn term(&self) -> Option<(Term, String)> {
        let t = |s: &str| s.trim().to_string();
        if !self.address.trim().is_empty() {
            Some((Term::Address, t(&self.address).to_ascii_lowercase()))
        } else if !self.message_id.trim().is_empty() {
            Some((Term::MessageId, t(&self.message_id)))
        } else if !self.ip.trim().is_empty() {
            Some((Term::Ip, t(&self.ip)))
        } else {
            None
        }
    }

    fn range(&self) -> Result<(u64, u64), CoreError> {
        if self.day.trim().is_empty() {
            return Ok((0, u64::MAX));
        }
        let f = time::macros::format_description!("[year]-[month]-[day]");
        let d = time::Date::parse(self.day.trim(), &f)
            .map_err(|_| CoreError::invalid("day", "expected YYYY-MM-DD"))?;
        let start = d.midnight().assume_utc().unix_timestamp();
        let start = u64::try_from(start).unwrap_or(0) * 1000;
        Ok((start, start + DAY_MS - 1))
    }

    fn cursor(&self) -> Option<Cursor> {
        let (t, i) = self.after.split_once('.')?;
        Some(Cursor {
            time_ms: t.parse().ok()?,
            id: i.parse().ok()?,
        })
    }

    /// This query's link with a different `after`/`day`.
    fn link(&self, base: &str, day: &str, after: &str) -> String {
        let pairs = [
            ("address", self.address.as_str()),
            ("ip", self.ip.as_str()),
            ("message_id", self.message_id.as_str()),
            ("day", day),
            ("after", after),
        ];
        let q: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        match serde_urlencoded::to_string(q) {
            Ok(s) if !s.is_empty() => format!("{base}?{s}"),
            _ => base.to_string(),
        }
    }
}

/// True if `record` (a transaction or auth record as JSON) names an address of `domain`.
fn names_domain(record: &Value, domain: &str) -> bool {
    let suffix = format!("@{domain}");
    let hit = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| s.to_ascii_lowercase().ends_with(&suffix))
    };
    hit(record.get("sender"))
        || hit(record.get("login"))
        || hit(record.get("user"))
        || record
            .get("recipients")
            .and_then(Value::as_array)
            .is_some_and(|rs| rs.iter().any(|r| hit(r.get("address"))))
}

/// One page of `kind` for `scope` and the query; the cursor of the next page.
async fn search(
    ctx: &Ctx,
    scope: &Scope,
    kind: LogKind,
    q: &LogQuery,
    range: (u64, u64),
    limit: usize,
) -> Result<(Vec<(LogEntry, Value)>, Option<Cursor>), CoreError> {
    let (owner, mut term, domain) = match scope {
        Scope::Tenant(t) => (*t, q.term(), None),
        Scope::Domain(t, d) => (*t, q.term(), Some(d.clone())),
        Scope::Address(t, a) => (*t, Some((Term::Address, a.clone())), None),
    };
    if kind == LogKind::Auth && matches!(term, Some((Term::MessageId, _))) {
        term = None;
    }
    let query = logs::Query {
        owner,
        kind,
        term,
        from_ms: range.0,
        to_ms: range.1,
        after: q.cursor(),
        limit,
    };
    let store = ctx.st.core.store().clone();
    let page = tokio::task::spawn_blocking(move || logs::search(&store, &query))
        .await
        .map_err(|e| CoreError::Task(e.to_string()))?
        .map_err(CoreError::from)?;
    let rows = page
        .entries
        .into_iter()
        .map(|e| {
            let v = serde_json::from_slice(&e.body).unwrap_or(Value::Null);
            (e, v)
        })
        .filter(|(_, v)| domain.as_deref().is_none_or(|d| names_domain(v, d)))
        .collect();
    Ok((rows, page.next))
}

/// Counts per day for the last [`DAYS`] days (newest first), each capped at [`COUNT_CAP`].
async fn per_day(ctx: &Ctx, scope: &Scope, kind: LogKind, q: &LogQuery) -> Vec<(String, usize)> {
    let today = now_ms() / DAY_MS * DAY_MS;
    let mut out = Vec::new();
    let plain = LogQuery {
        address: q.address.clone(),
        ip: q.ip.clone(),
        message_id: q.message_id.clone(),
        ..LogQuery::default()
    };
    for i in 0..DAYS {
        let start = today.saturating_sub(i * DAY_MS);
        let n = search(
            ctx,
            scope,
            kind,
            &plain,
            (start, start + DAY_MS - 1),
            COUNT_CAP,
        )
        .await
        .map(|(r, _)| r.len())
        .unwrap_or(0);
        out.push((layout::day(start), n));
    }
    out
}

fn search_form(base: &str, q: &LogQuery, message_id: bool) -> Markup {
    html! {
        form.inline role="search" method="get" action=(base) {
            label { "Address" input name="address" type="search" value=(q.address) autocomplete="off"; }
            label { "IP" input name="ip" type="search" value=(q.ip) autocomplete="off"; }
            @if message_id {
                label { "Message-ID" input name="message_id" type="search" value=(q.message_id) autocomplete="off"; }
            }
            label { "Day" input name="day" type="date" value=(q.day); }
            button type="submit" { "Search" }
        }
    }
}

fn days_table(base: &str, q: &LogQuery, days: &[(String, usize)]) -> Markup {
    html! {
        details open {
            summary { "Per day (last " (DAYS) " days)" }
            div.table-wrap { table {
                thead { tr { th { "Day" } th.num { "Records" } } }
                tbody { @for (d, n) in days {
                    tr {
                        td { a href=(q.link(base, d, "")) { (d) } }
                        td.num { (n) @if *n >= COUNT_CAP { "+" } }
                    }
                } }
            } }
        }
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// `GET /admin/logs/transactions`.
pub async fn transactions(ctx: Ctx, Query(q): Query<LogQuery>) -> Response {
    let base = "/admin/logs/transactions";
    let sc = match scope(&ctx).await {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let range = match q.range() {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let (rows, next) = match search(&ctx, &sc, LogKind::Transaction, &q, range, PAGE).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let days = per_day(&ctx, &sc, LogKind::Transaction, &q).await;
    let body = html! {
        (search_form(base, &q, true))
        (days_table(base, &q, &days))
        h2 { @if q.day.is_empty() { "Newest" } @else { (q.day) } }
        @if rows.is_empty() { p { "No transactions found." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Time (UTC)" } th { "Direction" } th { "Client IP" } th { "Sender" } th { "Recipients" } th { "Message-ID" } } }
                tbody { @for (e, v) in &rows {
                    tr {
                        td { a href=(format!("{base}/{}-{}", e.time_ms, e.id)) { (layout::when(e.time_ms)) } }
                        td { (s(v, "direction")) }
                        td { (s(v, "client_ip")) }
                        td { @if s(v, "sender").is_empty() { "<>" } @else { (s(v, "sender")) } }
                        td { ul { @for r in v.get("recipients").and_then(Value::as_array).into_iter().flatten() {
                            li { (s(r, "address")) ": " strong { (s(r, "outcome")) }
                                @if !s(r, "reason").is_empty() { " (" (s(r, "reason")) ")" } }
                        } } }
                        td { (v.get("message_id").and_then(Value::as_str).unwrap_or("")) }
                    }
                } }
            } }
        }
        @if let Some(c) = next {
            p { a href=(q.link(base, &q.day, &format!("{}.{}", c.time_ms, c.id))) { "Older →" } }
        }
    };
    ctx.page("Transactions", body)
}

/// `GET /admin/logs/transactions/{id}`: one transaction, its conversation shown line by line.
pub async fn transaction(ctx: Ctx, Path(id): Path<String>) -> Response {
    let sc = match scope(&ctx).await {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let missing = || CoreError::not_found("transaction", id.clone());
    let Some((t, n)) = id.split_once('-') else {
        return ctx.error(missing());
    };
    let (Ok(time_ms), Ok(rec)) = (t.parse::<u64>(), n.parse::<u64>()) else {
        return ctx.error(missing());
    };
    let owner = match &sc {
        Scope::Tenant(t) | Scope::Domain(t, _) | Scope::Address(t, _) => *t,
    };
    let store = ctx.st.core.store().clone();
    let found = tokio::task::spawn_blocking(move || {
        logs::get(&store, owner, LogKind::Transaction, time_ms, rec)
    })
    .await;
    let entry = match found {
        Ok(Ok(Some(e))) => e,
        Ok(Ok(None)) => return ctx.error(missing()),
        Ok(Err(e)) => return ctx.error(CoreError::from(e)),
        Err(e) => return ctx.error(CoreError::Task(e.to_string())),
    };
    let v: Value = serde_json::from_slice(&entry.body).unwrap_or(Value::Null);
    let visible = match &sc {
        Scope::Tenant(_) => true,
        Scope::Domain(_, d) => names_domain(&v, d),
        Scope::Address(_, a) => {
            let a = a.to_ascii_lowercase();
            s(&v, "sender").eq_ignore_ascii_case(&a)
                || v.get("recipients")
                    .and_then(Value::as_array)
                    .is_some_and(|rs| rs.iter().any(|r| s(r, "address").eq_ignore_ascii_case(&a)))
        }
    };
    if !visible {
        return ctx.error(missing());
    }
    let auth = v.get("auth");
    let body = html! {
        p { a href="/admin/logs/transactions" { "← Transactions" } }
        dl.facts {
            dt { "Time (UTC)" } dd { (layout::when(entry.time_ms)) }
            dt { "Direction" } dd { (s(&v, "direction")) " (" (s(&v, "service")) ")" }
            dt { "Client IP" } dd { (s(&v, "client_ip")) }
            dt { "Server IP" } dd { (s(&v, "server_ip")) }
            dt { "HELO" } dd { (s(&v, "helo")) }
            dt { "Authenticated user" } dd { (v.get("user").and_then(Value::as_str).unwrap_or("-")) }
            dt { "Sender" } dd { @if s(&v, "sender").is_empty() { "<>" } @else { (s(&v, "sender")) } }
            dt { "Message-ID" } dd { (v.get("message_id").and_then(Value::as_str).unwrap_or("-")) }
            dt { "Size" } dd { (layout::bytes(v.get("size").and_then(Value::as_u64).unwrap_or(0))) }
            dt { "TLS" } dd { @if v.get("tls").and_then(Value::as_bool).unwrap_or(false) { "yes" } @else { "no" } }
            @if let Some(a) = auth {
                dt { "SPF / DKIM / DMARC" } dd { (s(a, "spf")) " / " (s(a, "dkim")) " / " (s(a, "dmarc")) }
            }
        }
        h2 { "Recipients" }
        div.table-wrap { table {
            thead { tr { th { "Address" } th { "Outcome" } th { "Reason" } } }
            tbody { @for r in v.get("recipients").and_then(Value::as_array).into_iter().flatten() {
                tr { td { (s(r, "address")) } td { (s(r, "outcome")) } td { (s(r, "reason")) } }
            } }
        } }
        h2 { "SMTP conversation" }
        pre.conversation aria-label="SMTP conversation" {
            @for line in v.get("conversation").and_then(Value::as_array).into_iter().flatten() {
                @let l = line.as_str().unwrap_or("");
                @if l.starts_with("C:") { span.c { (l) } "\n" } @else { (l) "\n" }
            }
        }
    };
    ctx.page("Transaction", body)
}

/// `GET /admin/logs/auth`.
pub async fn auth(ctx: Ctx, Query(q): Query<LogQuery>) -> Response {
    let base = "/admin/logs/auth";
    let sc = match scope(&ctx).await {
        Ok(s) => s,
        Err(e) => return ctx.error(e),
    };
    let range = match q.range() {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let (rows, next) = match search(&ctx, &sc, LogKind::Auth, &q, range, PAGE).await {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    let days = per_day(&ctx, &sc, LogKind::Auth, &q).await;
    let body = html! {
        (search_form(base, &q, false))
        (days_table(base, &q, &days))
        @if rows.is_empty() { p { "No sign-ins found." } }
        @else {
            div.table-wrap { table {
                thead { tr { th { "Time (UTC)" } th { "Service" } th { "Login" } th { "From" } th { "Result" } th { "Why" } } }
                tbody { @for (e, v) in &rows {
                    tr {
                        td { (layout::when(e.time_ms)) }
                        td { (s(v, "protocol")) " " span.hint { (s(v, "mechanism")) } }
                        td { (s(v, "login")) }
                        td { (s(v, "remote")) }
                        td { (s(v, "outcome")) }
                        td { (s(v, "reason")) }
                    }
                } }
            } }
        }
        @if let Some(c) = next {
            p { a href=(q.link(base, &q.day, &format!("{}.{}", c.time_ms, c.id))) { "Older →" } }
        }
    };
    ctx.page("Sign-ins", body)
}

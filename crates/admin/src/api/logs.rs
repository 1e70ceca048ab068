//! `/logs/auth`, `/logs/transactions` and `/audit`: newest first, searchable by address, IP,
//! message-id and time range, readable by whoever the core's policy lets read the tenant's logs.
//! `/logs/transactions/{id}` reads one transaction, its SMTP conversation included; its id
//! (`<time_ms>-<record>`, as the search lists it) leads straight to the record's key.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::{Action, Actor, AuditScope, Object, Target, TenantId, authorize};
use marque_store::logs::{self, Cursor, LogKind, Term};
use serde::Deserialize;
use serde_json::{Value, json};

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Path, Query};
use crate::paging::{self, PageQuery};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/logs/auth", &["get"], get(auth)),
        route("/api/v1/logs/transactions", &["get"], get(transactions)),
        route("/api/v1/logs/transactions/{id}", &["get"], get(transaction)),
        route("/api/v1/audit", &["get"], get(audit)),
    ]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[
    op(
        "get",
        "/api/v1/logs/auth",
        "Authentication log",
        None,
        &["tenant", "address", "ip", "from", "to", "limit", "cursor"],
    ),
    op(
        "get",
        "/api/v1/logs/transactions",
        "SMTP transaction log",
        None,
        &[
            "tenant",
            "address",
            "ip",
            "message_id",
            "from",
            "to",
            "limit",
            "cursor",
        ],
    ),
    op(
        "get",
        "/api/v1/logs/transactions/{id}",
        "One SMTP transaction with its conversation",
        None,
        &["tenant"],
    ),
    op(
        "get",
        "/api/v1/audit",
        "Audit trail",
        None,
        &["tenant", "domain", "limit", "cursor"],
    ),
];

/// A log cursor as the opaque string the API hands out.
fn cursor_out(c: Option<Cursor>) -> Option<String> {
    c.map(|c| paging::encode(&format!("{}.{}", c.time_ms, c.id)))
}

fn cursor_in(page: &PageQuery) -> ApiResult<Option<Cursor>> {
    let Some(s) = page.cursor()? else {
        return Ok(None);
    };
    let bad = || Problem::invalid("cursor", "not a cursor this API gave out");
    let (t, i) = s.split_once('.').ok_or_else(bad)?;
    Ok(Some(Cursor {
        time_ms: t.parse().map_err(|_| bad())?,
        id: i.parse().map_err(|_| bad())?,
    }))
}

/// A time bound: RFC 3339, or milliseconds since the epoch.
fn time_ms(field: &str, s: Option<&str>, default: u64) -> ApiResult<u64> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(default);
    };
    if let Ok(ms) = s.parse::<u64>() {
        return Ok(ms);
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Problem::invalid(field, "expected RFC 3339 or milliseconds since the epoch")
        })?;
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| Problem::invalid(field, "before 1970"))
}

/// Checks through the core's policy that `actor` may read `tenant`'s logs.
async fn may_read_logs(st: &AppState, actor: &Actor, tenant: TenantId) -> ApiResult<()> {
    let t = st.core.get_tenant(actor, tenant).await?;
    match authorize(actor, Action::LogRead, &Target::of(&t, Object::Tenant)) {
        Ok(()) => Ok(()),
        Err(marque_core::Denied::NotVisible) => {
            Err(marque_core::CoreError::not_found("tenant", tenant).into())
        }
        Err(marque_core::Denied::Forbidden) => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("not permitted to read the logs of tenant {tenant}"),
        )),
    }
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    tenant: Option<TenantId>,
    address: Option<String>,
    ip: Option<String>,
    message_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl LogQuery {
    /// The indexed term to search by (address first), and the rest to filter on.
    fn term(&self) -> Option<(Term, String)> {
        let nonempty = |o: &Option<String>| o.clone().filter(|s| !s.is_empty());
        if let Some(a) = nonempty(&self.address) {
            Some((Term::Address, a.to_ascii_lowercase()))
        } else if let Some(m) = nonempty(&self.message_id) {
            Some((Term::MessageId, m))
        } else {
            nonempty(&self.ip).map(|i| (Term::Ip, i))
        }
    }
}

async fn auth(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<LogQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let tenant = q.tenant.unwrap_or_else(|| actor.principal.tenant());
    may_read_logs(&st, &actor, tenant).await?;
    if q.message_id.is_some() {
        return Err(Problem::invalid(
            "message_id",
            "the authentication log has no message-ids",
        ));
    }
    let from = time_ms("from", q.from.as_deref(), 0)?;
    let to = time_ms("to", q.to.as_deref(), u64::MAX)?;
    let p = st
        .core
        .auth_log(tenant, q.term(), from, to, cursor_in(&page)?, page.limit()?)
        .await?;
    let ip = q.ip.filter(|_| q.address.is_some());
    let items: Vec<_> = p
        .records
        .into_iter()
        .filter(|r| ip.as_ref().is_none_or(|i| &r.remote == i))
        .collect();
    Ok(axum::Json(json!({ "items": items, "next": cursor_out(p.next) })).into_response())
}

async fn transactions(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<LogQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let tenant = q.tenant.unwrap_or_else(|| actor.principal.tenant());
    may_read_logs(&st, &actor, tenant).await?;
    let query = logs::Query {
        owner: tenant,
        kind: LogKind::Transaction,
        term: q.term(),
        from_ms: time_ms("from", q.from.as_deref(), 0)?,
        to_ms: time_ms("to", q.to.as_deref(), u64::MAX)?,
        after: cursor_in(&page)?,
        limit: page.limit()?,
    };
    let store = st.core.store().clone();
    let found = tokio::task::spawn_blocking(move || logs::search(&store, &query))
        .await
        .map_err(|e| marque_core::CoreError::Task(e.to_string()))?
        .map_err(marque_core::CoreError::from)?;
    let items: Vec<Value> = found.entries.iter().map(transaction_json).collect();
    Ok(axum::Json(json!({ "items": items, "next": cursor_out(found.next) })).into_response())
}

/// A transaction record as the API shows it.
fn transaction_json(e: &logs::LogEntry) -> Value {
    let body = serde_json::from_slice(&e.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&e.body).into_owned()));
    json!({ "id": format!("{}-{}", e.time_ms, e.id), "time_ms": e.time_ms, "record": body })
}

#[derive(Debug, Deserialize)]
struct OneQuery {
    tenant: Option<TenantId>,
}

/// One transaction by the id the search gave out, read from the log of `?tenant=` (the
/// caller's own by default), so that it is scoped exactly like the search.
async fn transaction(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
) -> ApiResult<Response> {
    let tenant = q.tenant.unwrap_or_else(|| actor.principal.tenant());
    may_read_logs(&st, &actor, tenant).await?;
    let bad = || Problem::invalid("id", "a transaction id is <time_ms>-<number>, as listed");
    let (t, n) = id.split_once('-').ok_or_else(bad)?;
    let (time_ms, rec) = (
        t.parse::<u64>().map_err(|_| bad())?,
        n.parse::<u64>().map_err(|_| bad())?,
    );
    let store = st.core.store().clone();
    let found = tokio::task::spawn_blocking(move || {
        logs::get(&store, tenant, LogKind::Transaction, time_ms, rec)
    })
    .await
    .map_err(|e| marque_core::CoreError::Task(e.to_string()))?
    .map_err(marque_core::CoreError::from)?;
    match found {
        Some(e) => Ok(axum::Json(transaction_json(&e)).into_response()),
        None => Err(marque_core::CoreError::not_found("transaction", id).into()),
    }
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    tenant: Option<TenantId>,
    domain: Option<String>,
}

async fn audit(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<AuditQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Response> {
    let scope = match q.domain {
        Some(d) => AuditScope::Domain(d),
        None => AuditScope::Tenant(q.tenant.unwrap_or_else(|| actor.principal.tenant())),
    };
    let p = st
        .core
        .audit(&actor, scope, cursor_in(&page)?, page.limit()?)
        .await?;
    Ok(axum::Json(json!({ "items": p.records, "next": cursor_out(p.next) })).into_response())
}

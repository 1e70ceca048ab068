//! `/usage`: current counts of a tenant or a domain, and the monthly export for billing
//! (`?month=YYYY-MM&format=csv|json`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use marque_core::TenantId;
use serde::Deserialize;

use super::docs::{Op, op};
use super::{Route, route};
use crate::extract::{Caller, Query};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

pub(crate) fn routes() -> Vec<Route> {
    vec![route("/api/v1/usage", &["get"], get(usage))]
}

/// The operations of this file in the OpenAPI document.
pub const OPS: &[Op] = &[op(
    "get",
    "/api/v1/usage",
    "Usage now, or a month's export (CSV or JSON)",
    None,
    &["tenant", "domain", "month", "format"],
)];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageQuery {
    tenant: Option<TenantId>,
    domain: Option<String>,
    month: Option<String>,
    format: Option<String>,
}

/// `YYYY-MM` as the core's `yyyymm`.
fn month(s: &str) -> ApiResult<u32> {
    let bad = || Problem::invalid("month", "expected YYYY-MM");
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
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

async fn usage(
    State(st): State<AppState>,
    Caller(actor): Caller,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Response> {
    let tenant = q.tenant.unwrap_or_else(|| actor.principal.tenant());
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(Problem::invalid("format", "csv or json")),
    };
    if let Some(m) = q.month {
        let export = st.core.usage_export(&actor, tenant, month(&m)?).await?;
        if csv {
            // RFC 4180 §3: text/csv, with the header line present.
            let mut resp = export.to_csv().into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
            );
            let name = format!("attachment; filename=\"usage-{tenant}-{m}.csv\"");
            if let Ok(v) = HeaderValue::from_str(&name) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            return Ok(resp);
        }
        return Ok(axum::Json(export).into_response());
    }
    if csv {
        return Err(Problem::invalid(
            "format",
            "CSV is for the monthly export: add ?month=",
        ));
    }
    if let Some(d) = q.domain {
        return Ok(axum::Json(st.core.domain_usage(&actor, &d).await?).into_response());
    }
    Ok(axum::Json(st.core.usage(&actor, tenant).await?).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn months() {
        assert_eq!(super::month("2026-11").unwrap(), 202611);
        assert!(super::month("2026-13").is_err());
        assert!(super::month("202611").is_err());
    }
}

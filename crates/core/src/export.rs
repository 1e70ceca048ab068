//! The usage export a reseller feeds its own billing with: one month of activations and
//! deactivations in its subtree, as JSON (serde) or CSV (RFC 4180, written by [`crate::csv`],
//! which also keeps names from being read as spreadsheet formulas).

use serde::{Deserialize, Serialize};

use crate::activation::{ActivationEvent, EventKind, MonthlyCounts};
use crate::error::{CoreError, Result};
use crate::ids::TenantId;
use crate::principal::Actor;
use crate::{Core, csv};

/// One month of a tenant's subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageExport {
    pub tenant: TenantId,
    pub counts: MonthlyCounts,
    pub events: Vec<ActivationEvent>,
}

impl UsageExport {
    /// The events as CSV with a header line, CRLF line ends.
    pub fn to_csv(&self) -> String {
        let mut out = csv::Writer::new(&[
            "time",
            "event",
            "customer",
            "customer_name",
            "plan",
            "manager",
        ]);
        for e in &self.events {
            let time =
                time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.time_ms) * 1_000_000)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default();
            let kind = match e.kind {
                EventKind::Activation => "activation",
                EventKind::Deactivation => "deactivation",
            };
            let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
            out.record(&[
                time,
                kind.to_string(),
                e.customer.to_string(),
                e.customer_name.clone(),
                opt(e.plan.map(|p| p.0)),
                opt(e.manager.map(|m| m.0)),
            ]);
        }
        out.finish()
    }
}

/// The first millisecond of a month (`yyyymm`) and of the month after it.
fn month_bounds(month: u32) -> Result<(u64, u64)> {
    let bad = || CoreError::invalid("month", format!("{month} is not a month as yyyymm"));
    let (y, m) = (
        i32::try_from(month / 100).map_err(|_| bad())?,
        u8::try_from(month % 100).map_err(|_| bad())?,
    );
    let start = |y: i32, m: u8| -> Result<u64> {
        let m = time::Month::try_from(m).map_err(|_| bad())?;
        let d = time::Date::from_calendar_date(y, m, 1).map_err(|_| bad())?;
        let t = d.midnight().assume_utc().unix_timestamp();
        u64::try_from(t).map(|s| s * 1000).map_err(|_| bad())
    };
    let next = if m == 12 {
        start(y + 1, 1)?
    } else {
        start(y, m + 1)?
    };
    Ok((start(y, m)?, next))
}

impl Core {
    /// The usage export of one month (`yyyymm`, UTC) of a tenant's subtree.
    pub async fn usage_export(
        &self,
        actor: &Actor,
        tenant: TenantId,
        month: u32,
    ) -> Result<UsageExport> {
        let (from, to) = month_bounds(month)?;
        let counts = self.monthly_counts(actor, tenant, month).await?;
        let events = self.activation_events(actor, tenant, from, to - 1).await?;
        Ok(UsageExport {
            tenant,
            counts,
            events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(month_bounds(197001).unwrap(), (0, 31 * 86_400_000));
        assert_eq!(
            month_bounds(202412).unwrap().1,
            month_bounds(202501).unwrap().0
        );
        assert!(month_bounds(202413).is_err());
        assert!(month_bounds(0).is_err());
    }
}

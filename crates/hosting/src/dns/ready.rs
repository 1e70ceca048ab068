//! Whether DNS already sends a hostname to the platform, as far as the stored checks know: the
//! certificate side asks before it orders a certificate for a branded hostname, so that an
//! ACME server is not sent to validate a name that does not reach us yet.

use marque_core::error::{CoreError, Result};
use marque_core::validate;

use crate::Hosting;

impl Hosting {
    /// `Some(true)` when a hosted domain's expected records name `hostname` (e.g. the
    /// `mail.D` CNAME) and its last check found all of them right, `Some(false)` when they
    /// are not (yet) right or were never checked, and `None` when no hosted domain expects a
    /// record of that name (the operator then answers for its DNS).
    pub async fn hostname_dns_ready(&self, hostname: &str) -> Result<Option<bool>> {
        let host = validate::domain(hostname)?;
        let mut candidate = Some(host.as_str());
        // Hosted domains have at least two labels; a top-level name is never asked.
        while let Some(name) = candidate.filter(|n| n.contains('.')) {
            match self.dns_status(name).await {
                Ok(status) if status.records.iter().any(|r| r.name == host) => {
                    return Ok(Some(status.is_ok(&host)));
                }
                Ok(_) | Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            candidate = name.split_once('.').map(|(_, parent)| parent);
        }
        Ok(None)
    }
}

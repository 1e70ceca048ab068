//! `[outbound]`: how queued mail leaves (the nameservers that find its MX hosts are `[dns]`).

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

/// `[outbound]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbound {
    pub enabled: Option<bool>,
    pub port: Option<i64>,
    pub source_ip: Option<String>,
    pub concurrency: Option<i64>,
    pub retry_initial_secs: Option<i64>,
    pub retry_factor: Option<f64>,
    pub retry_max_delay_secs: Option<i64>,
    pub max_age_hours: Option<i64>,
    pub delay_warning_secs: Option<i64>,
    pub lease_secs: Option<i64>,
    pub tls: Option<String>,
    pub verify_certificates: Option<bool>,
    pub ca_file: Option<String>,
}

/// `[outbound]`.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// Whether the delivery workers run (with the SMTP services).
    pub enabled: bool,
    /// The port remote hosts are reached on.
    pub port: u16,
    /// The source address when no tenant or domain sets one.
    pub source_ip: Option<IpAddr>,
    /// Messages delivered at once.
    pub concurrency: usize,
    pub retry_initial: Duration,
    pub retry_factor: f64,
    pub retry_max_delay: Duration,
    /// Give up (and bounce) after this long.
    pub max_age: Duration,
    /// Send a "delayed" DSN (to recipients with `NOTIFY=DELAY`) after this long.
    pub delay_warning: Duration,
    /// How long a worker holds an entry it claimed: a node that dies delays its entries by
    /// at most this long before another node delivers them.
    pub lease: Duration,
    /// STARTTLS policy and certificate checks.
    pub tls: marque_smtp::outbound::TlsSettings,
}

/// Checks `[outbound]`; each problem as (key path, message).
pub fn check_outbound(raw: RawOutbound, problems: &mut Vec<(String, String)>) -> Outbound {
    let mut bad = |k: &str, m: String| problems.push((format!("outbound.{k}"), m));
    let port = match raw.port {
        None => 25,
        Some(p) => u16::try_from(p).ok().filter(|p| *p > 0).unwrap_or_else(|| {
            bad("port", format!("must be 1 to 65535, not {p}"));
            25
        }),
    };
    let source_ip = raw.source_ip.and_then(|s| {
        s.parse()
            .map_err(|_| bad("source_ip", format!("invalid IP address \"{s}\"")))
            .ok()
    });
    let mut secs = |k: &str, v: Option<i64>, default: u64| match v {
        None => Duration::from_secs(default),
        Some(v) if v >= 1 => Duration::from_secs(v.unsigned_abs()),
        Some(v) => {
            bad(k, format!("must be at least 1, not {v}"));
            Duration::from_secs(default)
        }
    };
    let retry_initial = secs("retry_initial_secs", raw.retry_initial_secs, 300);
    let retry_max_delay = secs("retry_max_delay_secs", raw.retry_max_delay_secs, 4 * 3600);
    let max_age = secs("max_age_hours", raw.max_age_hours, 120) * 3600;
    let delay_warning = secs("delay_warning_secs", raw.delay_warning_secs, 4 * 3600);
    let lease = secs("lease_secs", raw.lease_secs, 30 * 60);
    let concurrency = match raw.concurrency {
        None => 10,
        Some(v) if (1..=1000).contains(&v) => v.unsigned_abs() as usize,
        Some(v) => {
            bad("concurrency", format!("must be 1 to 1000, not {v}"));
            10
        }
    };
    let retry_factor = match raw.retry_factor {
        None => 2.0,
        Some(f) if (1.0..=10.0).contains(&f) => f,
        Some(f) => {
            bad("retry_factor", format!("must be 1.0 to 10.0, not {f}"));
            2.0
        }
    };
    let policy = match raw.tls.as_deref() {
        None | Some("opportunistic") => marque_smtp::outbound::TlsPolicy::Opportunistic,
        Some("required") => marque_smtp::outbound::TlsPolicy::Required,
        Some(other) => {
            bad(
                "tls",
                format!("must be \"opportunistic\" or \"required\", not \"{other}\""),
            );
            marque_smtp::outbound::TlsPolicy::Opportunistic
        }
    };
    let ca_file = raw.ca_file.map(std::path::PathBuf::from);
    if let Some(path) = &ca_file
        && !path.is_file()
    {
        bad(
            "ca_file",
            format!("{} is not a readable file", path.display()),
        );
    }
    let tls = marque_smtp::outbound::TlsSettings {
        policy,
        verify_certificates: raw.verify_certificates.unwrap_or(false),
        ca_file,
    };
    Outbound {
        enabled: raw.enabled.unwrap_or(true),
        port,
        source_ip,
        concurrency,
        retry_initial,
        retry_factor,
        retry_max_delay,
        max_age,
        delay_warning,
        lease,
        tls,
    }
}

impl Default for Outbound {
    fn default() -> Self {
        check_outbound(RawOutbound::default(), &mut Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let o = Outbound::default();
        assert_eq!(o.port, 25);
        assert_eq!(o.max_age, Duration::from_secs(120 * 3600));
        assert_eq!(o.delay_warning, Duration::from_secs(4 * 3600));
        let mut p = Vec::new();
        check_outbound(
            RawOutbound {
                port: Some(0),
                source_ip: Some("x".into()),
                retry_factor: Some(0.5),
                tls: Some("always".into()),
                ca_file: Some("/nonexistent/ca.pem".into()),
                ..RawOutbound::default()
            },
            &mut p,
        );
        assert_eq!(p.len(), 5, "{p:?}");
    }
}

//! The `[dns]` keys of the check of domains' DNS records: how often it runs, the ports the SRV
//! records publish, the DMARC policy domains are asked to publish.

use std::time::Duration;

use marque_hosting::dns::{DmarcPolicy, DnsSettings, PublicPorts};
use serde::Deserialize;

use super::Config;
use super::validate::Report;

/// `[dns] public_ports` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPorts {
    pub imaps: Option<i64>,
    pub submission: Option<i64>,
    pub submissions: Option<i64>,
    pub pop3s: Option<i64>,
}

/// The DNS check's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// How often every domain's records are checked.
    pub check_interval: Duration,
    /// The ports clients are told about in the SRV records (those in front of the platform,
    /// which may differ from the listeners' ports).
    pub public_ports: PublicPorts,
    /// The `p=` of the expected DMARC record.
    pub dmarc_policy: DmarcPolicy,
}

impl Default for DnsCheck {
    fn default() -> Self {
        DnsCheck {
            check_interval: Duration::from_secs(3600),
            public_ports: PublicPorts::default(),
            dmarc_policy: DmarcPolicy::Quarantine,
        }
    }
}

pub(super) fn check(
    report: &mut Report,
    interval_secs: Option<i64>,
    dmarc_policy: Option<String>,
    ports: Option<RawPorts>,
) -> DnsCheck {
    let mut c = DnsCheck::default();
    match interval_secs {
        None => {}
        Some(v) if (60..=7 * 86_400).contains(&v) => {
            c.check_interval = Duration::from_secs(v.unsigned_abs())
        }
        Some(v) => report.add(
            "dns.check_interval_secs",
            format!("must be 60 to 604800 (a week), not {v}"),
        ),
    }
    if let Some(p) = dmarc_policy {
        match DmarcPolicy::parse(&p) {
            Some(p) => c.dmarc_policy = p,
            None => report.add(
                "dns.dmarc_policy",
                format!("must be none, quarantine or reject, not \"{p}\""),
            ),
        }
    }
    let raw = ports.unwrap_or_default();
    let mut port = |key: &str, v: Option<i64>, slot: &mut u16| {
        if let Some(v) = v {
            match u16::try_from(v) {
                Ok(p) if p > 0 => *slot = p,
                _ => report.add(
                    format!("dns.public_ports.{key}"),
                    format!("must be 1 to 65535, not {v}"),
                ),
            }
        }
    };
    let p = &mut c.public_ports;
    port("imaps", raw.imaps, &mut p.imaps);
    port("submission", raw.submission, &mut p.submission);
    port("submissions", raw.submissions, &mut p.submissions);
    port("pop3s", raw.pop3s, &mut p.pop3s);
    c
}

impl Config {
    /// What the core's DNS check runs with: the platform host is `[server] hostname`.
    pub fn dns_settings(&self) -> DnsSettings {
        DnsSettings {
            platform_host: self.server.hostname.clone(),
            nameservers: self.dns.nameservers.clone(),
            public_ports: self.dns.check.public_ports,
            dmarc_policy: self.dns.check.dmarc_policy,
            check_interval: self.dns.check.check_interval,
            ..DnsSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_values_and_problems() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.dns.check, DnsCheck::default());
        let s = c.dns_settings();
        assert_eq!(s.platform_host, c.server.hostname);
        assert_eq!(s.public_ports.submissions, 465);
        let c = Config::parse(
            "[dns]\ncheck_interval_secs = 600\ndmarc_policy = \"reject\"\npublic_ports = { imaps = 10993, pop3s = 10995 }\n",
        )
        .unwrap();
        assert_eq!(c.dns.check.check_interval, Duration::from_secs(600));
        assert_eq!(c.dns.check.dmarc_policy, DmarcPolicy::Reject);
        assert_eq!(c.dns.check.public_ports.imaps, 10993);
        assert_eq!(c.dns.check.public_ports.submission, 587);
        let p = Config::parse(
            "[dns]\ncheck_interval_secs = 5\ndmarc_policy = \"maybe\"\npublic_ports = { imaps = 0, pop3 = 110 }\n",
        )
        .unwrap_err()
        .to_string();
        assert!(p.contains("dns.check_interval_secs: must be 60"), "{p}");
        assert!(p.contains("dns.dmarc_policy: must be none"), "{p}");
        assert!(p.contains("dns"), "{p}");
        let p = Config::parse("[dns]\npublic_ports = { imaps = 0 }\n")
            .unwrap_err()
            .to_string();
        assert!(
            p.contains("dns.public_ports.imaps: must be 1 to 65535"),
            "{p}"
        );
    }
}

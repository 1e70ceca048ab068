//! The sections about mail handling besides `[smtp]`: `[dns]` (the resolver SPF, DKIM and DMARC
//! use) and `[submission]` (hourly limits per user).

use std::net::SocketAddr;

use super::raw;
use super::validate::Report;

/// `[dns]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsConfig {
    /// Name servers to ask (IP:PORT); empty: the system's `/etc/resolv.conf`.
    pub nameservers: Vec<SocketAddr>,
    /// The check of domains' DNS records.
    pub check: super::dnscheck::DnsCheck,
}

/// `[submission]`: per user, over a sliding hour, counted in each process; 0 is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionConfig {
    pub max_messages_per_hour: u32,
    pub max_recipients_per_hour: u32,
}

pub(super) fn check_dns(report: &mut Report, raw: raw::Dns) -> DnsConfig {
    let mut nameservers = Vec::new();
    for (i, text) in raw.nameservers.unwrap_or_default().iter().enumerate() {
        // An address without a port means port 53.
        let parsed = text.parse::<SocketAddr>().ok().or_else(|| {
            text.parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        });
        match parsed {
            Some(a) if a.port() != 0 => nameservers.push(a),
            _ => report.add(
                format!("dns.nameservers[{i}]"),
                format!(
                    "invalid name server \"{text}\" (expected IP or IP:PORT, e.g. \"127.0.0.1:53\")"
                ),
            ),
        }
    }
    let check = super::dnscheck::check(
        report,
        raw.check_interval_secs,
        raw.dmarc_policy,
        raw.public_ports,
    );
    DnsConfig { nameservers, check }
}

fn per_hour(report: &mut Report, path: &str, value: Option<i64>, default: u32) -> u32 {
    match value {
        None => default,
        Some(v) => u32::try_from(v).unwrap_or_else(|_| {
            report.add(path, format!("{v} is not between 0 and {}", u32::MAX));
            default
        }),
    }
}

pub(super) fn check_submission(report: &mut Report, raw: raw::Submission) -> SubmissionConfig {
    SubmissionConfig {
        max_messages_per_hour: per_hour(
            report,
            "submission.max_messages_per_hour",
            raw.max_messages_per_hour,
            500,
        ),
        max_recipients_per_hour: per_hour(
            report,
            "submission.max_recipients_per_hour",
            raw.max_recipients_per_hour,
            2500,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn defaults_and_problems() {
        let c = Config::parse("").unwrap();
        assert!(c.dns.nameservers.is_empty());
        assert!(c.smtp.dmarc_reject);
        assert_eq!(c.submission.max_messages_per_hour, 500);
        assert_eq!(c.submission.max_recipients_per_hour, 2500);
        let c = Config::parse(
            "[dns]\nnameservers = [\"127.0.0.1:5353\"]\n[smtp]\ndmarc_reject = false\n[submission]\nmax_messages_per_hour = 0\n",
        )
        .unwrap();
        assert_eq!(c.dns.nameservers, ["127.0.0.1:5353".parse().unwrap()]);
        assert!(!c.smtp.dmarc_reject);
        assert_eq!(c.submission.max_messages_per_hour, 0);
        let p = Config::parse(
            "[dns]\nnameservers = [\"nope\"]\n[submission]\nmax_recipients_per_hour = -1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(p.contains("dns.nameservers[0]: invalid name server"), "{p}");
        assert!(p.contains("submission.max_recipients_per_hour: -1"), "{p}");
    }
}

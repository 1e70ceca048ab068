//! `[acme]`: certificates for branded hostnames from an ACME server (RFC 8555).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[acme]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcme {
    pub enabled: Option<bool>,
    pub directory: Option<String>,
    pub contact: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub challenge: Option<String>,
    pub renew_before_days: Option<i64>,
}

/// How the ACME server checks that we control a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// RFC 8555 §8.3: a file under `/.well-known/acme-challenge/` on the `http` listener (port 80).
    Http01,
    /// RFC 8737: a certificate on the TLS listeners for ALPN `acme-tls/1` (port 443).
    TlsAlpn01,
}

/// `[acme]`.
#[derive(Debug, Clone)]
pub struct Acme {
    /// Whether certificates are ordered and renewed.
    pub enabled: bool,
    /// The directory URL of the ACME server.
    pub directory: String,
    /// The account's contact (`mailto:` URL), if any.
    pub contact: Option<String>,
    /// A PEM file of the root that signs the ACME server's own TLS certificate (a test or
    /// private CA); the system roots otherwise.
    pub ca_file: Option<PathBuf>,
    pub challenge: Challenge,
    /// Renew this long before a certificate expires.
    pub renew_before: Duration,
}

/// Let's Encrypt's production directory, the default.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Checks `[acme]`; each problem as (key path, message).
pub fn check_acme(raw: RawAcme, problems: &mut Vec<(String, String)>) -> Acme {
    let mut bad = |k: &str, m: String| problems.push((format!("acme.{k}"), m));
    let directory = raw.directory.unwrap_or_else(|| LETS_ENCRYPT.to_string());
    if !directory.starts_with("https://") {
        bad(
            "directory",
            format!("must be an https:// URL, not \"{directory}\""),
        );
    }
    if let Some(c) = &raw.contact
        && !c.starts_with("mailto:")
    {
        bad("contact", format!("must be a mailto: URL, not \"{c}\""));
    }
    let challenge = match raw.challenge.as_deref() {
        None | Some("http-01") => Challenge::Http01,
        Some("tls-alpn-01") => Challenge::TlsAlpn01,
        Some(other) => {
            bad(
                "challenge",
                format!("must be \"http-01\" or \"tls-alpn-01\", not \"{other}\""),
            );
            Challenge::Http01
        }
    };
    let days = match raw.renew_before_days {
        None => 30,
        Some(d) if (1..=365).contains(&d) => d.unsigned_abs(),
        Some(d) => {
            bad("renew_before_days", format!("must be 1 to 365, not {d}"));
            30
        }
    };
    if let Some(f) = &raw.ca_file
        && !f.is_file()
    {
        bad("ca_file", format!("{} is not a readable file", f.display()));
    }
    Acme {
        enabled: raw.enabled.unwrap_or(false),
        directory,
        contact: raw.contact,
        ca_file: raw.ca_file,
        challenge,
        renew_before: Duration::from_secs(days * 86_400),
    }
}

impl Default for Acme {
    fn default() -> Self {
        check_acme(RawAcme::default(), &mut Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let a = Acme::default();
        assert!(!a.enabled);
        assert_eq!(a.challenge, Challenge::Http01);
        assert_eq!(a.renew_before, Duration::from_secs(30 * 86_400));
        let mut p = Vec::new();
        check_acme(
            RawAcme {
                directory: Some("http://x".into()),
                contact: Some("ops@x".into()),
                challenge: Some("dns-01".into()),
                renew_before_days: Some(0),
                ca_file: Some("/nonexistent/ca.pem".into()),
                ..RawAcme::default()
            },
            &mut p,
        );
        assert_eq!(p.len(), 5, "{p:?}");
    }
}

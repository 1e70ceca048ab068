//! Parsing a PEM certificate chain and its key into what rustls serves, with the checks an
//! uploaded or issued certificate must pass: it parses, the key matches, it covers the
//! hostname, and it has not expired.

use std::sync::Arc;

use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::TlsError;

/// A certificate chain and key ready to serve, with what its leaf says.
#[derive(Clone)]
pub struct ParsedCert {
    /// What rustls hands to clients.
    pub key: Arc<CertifiedKey>,
    /// The DNS names of the leaf's subjectAltName, lower-cased (`*.` wildcards included).
    pub names: Vec<String>,
    /// The leaf's notAfter, in milliseconds since the Unix epoch.
    pub not_after_ms: u64,
    /// The leaf's notBefore, in milliseconds since the Unix epoch.
    pub not_before_ms: u64,
}

impl std::fmt::Debug for ParsedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedCert")
            .field("names", &self.names)
            .field("not_after_ms", &self.not_after_ms)
            .finish_non_exhaustive()
    }
}

impl ParsedCert {
    /// Parses a chain (leaf first) and its private key and checks that they belong together.
    pub fn from_pem(chain: &[u8], key: &[u8]) -> Result<ParsedCert, TlsError> {
        let certs = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem(e.to_string()))?;
        let Some(leaf) = certs.first() else {
            return Err(TlsError::NoCertificate);
        };
        let (names, not_before_ms, not_after_ms) = leaf_facts(leaf)?;
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| TlsError::Pem(e.to_string()))?;
        let signer = any_supported_type(&key)?;
        let certified = CertifiedKey::new(certs, signer);
        certified.keys_match().map_err(|_| TlsError::KeyMismatch)?;
        Ok(ParsedCert {
            key: Arc::new(certified),
            names,
            not_after_ms,
            not_before_ms,
        })
    }

    /// True if one of the leaf's names covers `hostname` (exactly, or by a `*.` wildcard that
    /// stands for exactly one label, RFC 6125 §6.4.3).
    pub fn covers(&self, hostname: &str) -> bool {
        let host = hostname.trim_end_matches('.').to_ascii_lowercase();
        self.names.iter().any(|name| name_matches(name, &host))
    }

    /// Checks that the certificate covers `hostname` and is valid at `now_ms`.
    pub fn check_for(&self, hostname: &str, now_ms: u64) -> Result<(), TlsError> {
        if !self.covers(hostname) {
            return Err(TlsError::NotCovering {
                hostname: hostname.to_string(),
                names: self.names.join(", "),
            });
        }
        if self.not_after_ms <= now_ms {
            return Err(TlsError::Expired);
        }
        if self.not_before_ms > now_ms {
            return Err(TlsError::NotYetValid);
        }
        Ok(())
    }
}

/// True if the certificate name `pattern` (lower-case) covers `host` (lower-case).
pub(crate) fn name_matches(pattern: &str, host: &str) -> bool {
    if pattern == host {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(parent), Some((label, rest))) => !label.is_empty() && rest == parent,
        _ => false,
    }
}

fn leaf_facts(leaf: &CertificateDer<'_>) -> Result<(Vec<String>, u64, u64), TlsError> {
    let facts = super::der::leaf_facts(leaf.as_ref()).map_err(TlsError::Certificate)?;
    let ms = |t: i64| u64::try_from(t).unwrap_or(0).saturating_mul(1000);
    Ok((facts.names, ms(facts.not_before), ms(facts.not_after)))
}

//! DKIM signing of submitted mail (RFC 6376 §5): one `rsa-sha256` and one `ed25519-sha256`
//! signature (RFC 8463 §3) with the sender domain's keys from [`marque_hosting::dkim`],
//! relaxed/relaxed canonicalization (§3.4).
//!
//! The signed header fields are those of RFC 6376 §5.4.1 that the message carries, and `From`
//! once more than it appears (§5.4.2, "oversigning"), so that nobody can add a second `From`
//! without breaking the signature.

use mail_auth::AuthenticatedMessage;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use marque_core::Core;
use marque_hosting::dkim::{DkimAlgorithm, DkimKey};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// RFC 6376 §5.4.1: the fields that should be signed when present.
const SIGNED: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Resent-Date",
    "Resent-From",
    "Resent-To",
    "Resent-Cc",
    "In-Reply-To",
    "References",
    "List-Id",
    "List-Help",
    "List-Unsubscribe",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Why a message was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("no DKIM keys for {domain}: {source}")]
    Keys {
        domain: String,
        source: marque_core::CoreError,
    },
    #[error("the message has no header section")]
    NoHeaders,
    #[error("the message has no From header field")]
    NoFrom,
    #[error("signing with {selector}: {source}")]
    Sign {
        selector: String,
        source: mail_auth::Error,
    },
}

/// The header fields to sign: the recommended ones present, with `From` oversigned.
pub fn header_list(message: &[u8]) -> Result<Vec<String>, SignError> {
    let parsed = AuthenticatedMessage::parse(message).ok_or(SignError::NoHeaders)?;
    let present = |name: &str| {
        parsed
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    };
    if !present("From") {
        return Err(SignError::NoFrom);
    }
    let mut list: Vec<String> = SIGNED
        .iter()
        .filter(|h| present(h))
        .map(|h| h.to_string())
        .collect();
    // Listed twice: the signer signs every From present and then one that is absent.
    list.push("From".into());
    Ok(list)
}

fn one(
    key: &DkimKey,
    domain: &str,
    headers: &[String],
    message: &[u8],
) -> Result<String, SignError> {
    let err = |source| SignError::Sign {
        selector: key.selector.clone(),
        source,
    };
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.private_pkcs8()));
    let sig = match key.algorithm {
        DkimAlgorithm::Rsa => {
            DkimSigner::from_key(RsaKey::<Sha256>::from_key_der(der).map_err(err)?)
                .domain(domain)
                .selector(&key.selector)
                .headers(headers.iter().map(String::as_str))
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed)
                .sign(message)
        }
        DkimAlgorithm::Ed25519 => {
            DkimSigner::from_key(Ed25519Key::from_pkcs8_der(key.private_pkcs8()).map_err(err)?)
                .domain(domain)
                .selector(&key.selector)
                .headers(headers.iter().map(String::as_str))
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed)
                .sign(message)
        }
    }
    .map_err(err)?;
    Ok(sig.to_header())
}

/// The `DKIM-Signature:` fields (CRLF-terminated) to put before `message`, one per key of
/// `domain`; the keys are generated on the domain's first signed message.
pub async fn sign(core: &Core, domain: &str, message: &[u8]) -> Result<String, SignError> {
    let headers = header_list(message)?;
    let set = marque_hosting::dkim::dkim_keys(core, domain)
        .await
        .map_err(|source| SignError::Keys {
            domain: domain.to_string(),
            source,
        })?;
    let mut out = String::new();
    for key in &set.keys {
        out.push_str(&one(key, &set.domain, &headers, message)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_present_fields_and_oversigns_from() {
        let m =
            b"From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\nX-Other: 1\r\n\r\nbody\r\n";
        assert_eq!(header_list(m).unwrap(), ["From", "Subject", "To", "From"]);
        assert!(matches!(
            header_list(b"To: c@d.example\r\n\r\nbody\r\n"),
            Err(SignError::NoFrom)
        ));
    }
}

//! DKIM signing keys per domain (RFC 6376): one RSA-2048 key (`rsa-sha256`) and one Ed25519
//! key (`ed25519-sha256`, RFC 8463), so that verifiers which know only RSA still find a
//! signature they can check while the others get the shorter, stronger one.
//!
//! The keys are generated the first time a domain needs them ([`dkim_keys`], called when
//! the domain's mail is signed, by [`dkim_records`], or ahead of time by
//! [`Hosting::ensure_dkim_keys`]), and kept in the domain's own directory range
//! (`tenant · 'K' · domain`), so they go with the domain in an export and are deleted with it.
//! The private halves never leave the core through [`DkimRecord`] or any admin answer; only the
//! signer reads them through [`DkimKey::private_pkcs8`].
//!
//! Selectors carry the month of creation (`marque-rsa-202611`, `marque-ed-202611`) so that a
//! later rotation can publish a new selector next to the old one. Rotation itself is not done
//! here: a domain keeps its first pair.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use marque_store::{Key, Keyspace};

use marque_core::Core;
use marque_core::directory as dir;
use marque_core::domain::load_by_name;
use marque_core::error::{CoreError, Result};
use marque_core::ids::{DomainId, TenantId};
use marque_core::principal::Actor;
use marque_core::validate;

use crate::Hosting;

/// RSA modulus size: RFC 8301 §3.2 requires at least 1024 bits and recommends 2048.
const RSA_BITS: usize = 2048;

/// The signing algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DkimAlgorithm {
    /// `rsa-sha256` (RFC 6376 §3.3.1).
    Rsa,
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
}

impl DkimAlgorithm {
    /// The `a=` tag of a signature.
    pub fn signature_name(self) -> &'static str {
        match self {
            DkimAlgorithm::Rsa => "rsa-sha256",
            DkimAlgorithm::Ed25519 => "ed25519-sha256",
        }
    }

    /// The `k=` tag of the key record.
    fn key_type(self) -> &'static str {
        match self {
            DkimAlgorithm::Rsa => "rsa",
            DkimAlgorithm::Ed25519 => "ed25519",
        }
    }
}

/// One signing key of a domain.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimKey {
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// What the `p=` tag publishes: the SubjectPublicKeyInfo DER for RSA (RFC 6376 §3.6.1),
    /// the raw 32-byte key for Ed25519 (RFC 8463 §4).
    pub public_key: Vec<u8>,
    /// PKCS#8 DER.
    private_key: Vec<u8>,
    pub created_ms: u64,
}

impl DkimKey {
    /// The private key as PKCS#8 DER, for the signer only.
    pub fn private_pkcs8(&self) -> &[u8] {
        &self.private_key
    }
}

/// Never prints the private key.
impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey")
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}

/// The keys of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimKeySet {
    pub domain: String,
    pub keys: Vec<DkimKey>,
}

/// A TXT record to publish: `txt_name IN TXT "txt_value"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimRecord {
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1).
    pub txt_name: String,
    /// `v=DKIM1; k=...; p=...` (RFC 6376 §3.6.1).
    pub txt_value: String,
}

impl DkimKeySet {
    /// The DNS records that publish the public keys.
    pub fn records(&self) -> Vec<DkimRecord> {
        self.keys
            .iter()
            .map(|k| DkimRecord {
                selector: k.selector.clone(),
                algorithm: k.algorithm,
                txt_name: format!("{}._domainkey.{}", k.selector, self.domain),
                txt_value: format!(
                    "v=DKIM1; k={}; p={}",
                    k.algorithm.key_type(),
                    B64.encode(&k.public_key)
                ),
            })
            .collect()
    }
}

/// The records the domain's DNS must carry for its DKIM signatures to verify; the keys are
/// generated if the domain has none yet.
pub async fn dkim_records(core: &Core, domain: &str) -> Result<Vec<DkimRecord>> {
    Ok(dkim_keys(core, domain).await?.records())
}

fn keys_key(t: TenantId, d: DomainId) -> Vec<u8> {
    Key::new()
        .u64(t.0)
        .tag(marque_store::tags::directory::DKIM)
        .u64(d.0)
        .into_bytes()
}

/// The month of `ms` as `YYYYMM`.
fn month(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(0);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!("{:04}{:02}", t.year(), u8::from(t.month())),
        Err(_) => "000000".into(),
    }
}

fn crypto(what: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Invalid {
        field: "dkim key",
        reason: format!("{what}: {e}"),
    }
}

/// Generates a new RSA and Ed25519 pair. Slow (RSA key generation takes a good part of a
/// second): call it off the async workers.
pub fn generate(now_ms: u64) -> Result<Vec<DkimKey>> {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let ym = month(now_ms);
    let rsa = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
        .map_err(|e| crypto("generating the RSA key", e))?;
    let rsa_private = rsa
        .to_pkcs8_der()
        .map_err(|e| crypto("encoding the RSA key", e))?;
    let rsa_public = rsa
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| crypto("encoding the RSA public key", e))?;
    let ed_private = mail_auth::common::crypto::Ed25519Key::generate_pkcs8()
        .map_err(|e| crypto("generating the Ed25519 key", e))?;
    let ed_public = mail_auth::common::crypto::Ed25519Key::from_pkcs8_der(&ed_private)
        .map_err(|e| crypto("reading the Ed25519 key", e))?
        .public_key();
    Ok(vec![
        DkimKey {
            selector: format!("marque-rsa-{ym}"),
            algorithm: DkimAlgorithm::Rsa,
            public_key: rsa_public.as_bytes().to_vec(),
            private_key: rsa_private.as_bytes().to_vec(),
            created_ms: now_ms,
        },
        DkimKey {
            selector: format!("marque-ed-{ym}"),
            algorithm: DkimAlgorithm::Ed25519,
            public_key: ed_public,
            private_key: ed_private,
            created_ms: now_ms,
        },
    ])
}

/// The signing keys of a local domain, generated and stored on first use (the mail path
/// signs with them through the core it holds). Two callers that
/// race on the first use get the same keys: the first write wins, the other's are dropped.
pub async fn dkim_keys(core: &Core, domain: &str) -> Result<DkimKeySet> {
    let name = validate::domain(domain)?;
    let n = name.clone();
    let existing = core
        .read(move |s| {
            let (d, _) = load_by_name(s, &n)?;
            dir::get::<Vec<DkimKey>>(s, Keyspace::Directory, &keys_key(d.tenant, d.id))
        })
        .await?;
    if let Some(keys) = existing {
        return Ok(DkimKeySet { domain: name, keys });
    }
    let now = marque_store::now_ms();
    let fresh = tokio::task::spawn_blocking(move || generate(now))
        .await
        .map_err(|e| CoreError::Task(e.to_string()))??;
    let n = name.clone();
    let keys = core
        .store()
        .transact(move |txn| -> Result<Vec<DkimKey>> {
            let (d, _) = load_by_name(txn, &n)?;
            let key = keys_key(d.tenant, d.id);
            if let Some(keys) = dir::get::<Vec<DkimKey>>(txn, Keyspace::Directory, &key)? {
                return Ok(keys);
            }
            dir::put(txn, Keyspace::Directory, key, &fresh)?;
            Ok(fresh)
        })
        .await?;
    tracing::info!(domain = %name, "DKIM keys generated");
    Ok(DkimKeySet { domain: name, keys })
}

impl Hosting {
    /// Makes sure a domain has its keys, for an actor who may change the domain; returns the
    /// records to publish.
    pub async fn ensure_dkim_keys(&self, actor: &Actor, domain: &str) -> Result<Vec<DkimRecord>> {
        // get_domain checks that the actor may see the domain at all.
        let d = self.core.get_domain(actor, domain).await?;
        let n = d.name.clone();
        let t = self
            .core
            .read(move |s| load_by_name(s, &n).map(|(_, t)| t))
            .await?;
        marque_core::policy::check(
            actor,
            marque_core::policy::Action::DomainUpdate,
            &marque_core::policy::Target::of(&t, marque_core::policy::Object::Domain(d.id)),
            "domain",
            &d.name,
        )?;
        dkim_records(&self.core, &d.name).await
    }
}

/// Drops a domain's keys (with the domain).
pub(crate) fn delete(txn: &mut marque_store::Txn<'_>, t: TenantId, d: DomainId) {
    txn.delete(Keyspace::Directory, keys_key(t, d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_records() {
        // 2026-11-21
        let keys = generate(1_795_219_200_000).unwrap();
        let set = DkimKeySet {
            domain: "example.org".into(),
            keys,
        };
        let records = set.records();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].txt_name,
            "marque-rsa-202611._domainkey.example.org"
        );
        assert!(records[0].txt_value.starts_with("v=DKIM1; k=rsa; p=MII"));
        assert_eq!(
            records[1].txt_name,
            "marque-ed-202611._domainkey.example.org"
        );
        let p = records[1].txt_value.rsplit("p=").next().unwrap();
        assert_eq!(B64.decode(p).unwrap().len(), 32);
        // Debug never shows the private key.
        let shown = format!("{:?}", set.keys[0]);
        assert!(!shown.contains("private"));
    }
}

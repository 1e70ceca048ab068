//! What the ACME client keeps in the store: its account credentials, the answers to pending
//! HTTP-01 challenges (read by the HTTP listener, RFC 8555 §8.3), and the outcome of each
//! order on the hostname's [`Certificate`] record.
//!
//! Keys: `PROVIDER · 'Y' · "account"` and `PROVIDER · 'Y' · "http-01" · token`.

use marque_store::{Key, Keyspace};

use marque_core::directory as dir;
use marque_core::error::{CoreError, Result};
use marque_core::ids::PROVIDER;
use marque_session::ParsedCert;

use super::{CertSource, Certificate, key, load};
use crate::Hosting;

const TAG: u8 = marque_store::tags::directory::ACME;

fn account_key() -> Vec<u8> {
    Key::new()
        .u64(PROVIDER.0)
        .tag(TAG)
        .str("account")
        .into_bytes()
}

fn http01_key(token: &str) -> Vec<u8> {
    Key::new()
        .u64(PROVIDER.0)
        .tag(TAG)
        .str("http-01")
        .str(token)
        .into_bytes()
}

impl Hosting {
    /// The ACME account credentials (the client's own serialisation), if an account exists.
    pub async fn acme_account(&self) -> Result<Option<String>> {
        self.core
            .read(|s| dir::get(s, Keyspace::Directory, &account_key()))
            .await
    }

    /// Keeps the ACME account credentials.
    pub async fn set_acme_account(&self, credentials: String) -> Result<()> {
        self.core
            .store()
            .transact(move |txn| dir::put(txn, Keyspace::Directory, account_key(), &credentials))
            .await
    }

    /// Publishes the key authorization of a pending HTTP-01 challenge.
    pub async fn set_http01_answer(&self, token: &str, key_authorization: &str) -> Result<()> {
        let (k, v) = (http01_key(token), key_authorization.to_string());
        self.core
            .store()
            .transact(move |txn| dir::put(txn, Keyspace::Directory, k, &v))
            .await
    }

    /// Withdraws the answer to an HTTP-01 challenge once its order is done.
    pub async fn remove_http01_answer(&self, token: &str) -> Result<()> {
        let k = http01_key(token);
        self.core
            .store()
            .transact(move |txn| {
                txn.delete(Keyspace::Directory, k);
                Ok::<_, CoreError>(())
            })
            .await
    }

    /// The key authorization for `token`, while its challenge is pending.
    pub async fn http01_answer(&self, token: &str) -> Result<Option<String>> {
        let k = http01_key(token);
        self.core
            .read(move |s| dir::get(s, Keyspace::Directory, &k))
            .await
    }

    /// Stores a certificate issued by ACME for `hostname` and clears the last error.
    pub async fn store_issued_certificate(
        &self,
        hostname: &str,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<Certificate> {
        let host = hostname.to_ascii_lowercase();
        let parsed = ParsedCert::from_pem(chain_pem.as_bytes(), key_pem.as_bytes())
            .and_then(|p| p.check_for(&host, marque_store::now_ms()).map(|()| p))
            .map_err(|e| CoreError::Invalid {
                field: "certificate",
                reason: e.to_string(),
            })?;
        let (chain, key_pem) = (chain_pem.to_string(), key_pem.to_string());
        let owner = self.certificate_owner(&host).await?;
        let cert = self
            .core
            .store()
            .transact(move |txn| {
                let owner = load(txn, &host)?.map_or(owner, |c| c.owner);
                let now = marque_store::now_ms();
                let cert = Certificate {
                    hostname: host.clone(),
                    owner,
                    source: CertSource::Acme,
                    chain_pem: Some(chain),
                    key_pem: Some(key_pem),
                    names: parsed.names.clone(),
                    not_after_ms: parsed.not_after_ms,
                    updated_ms: now,
                    last_error: None,
                    last_attempt_ms: Some(now),
                };
                dir::put(txn, Keyspace::Directory, key(&host), &cert)?;
                Ok::<_, CoreError>(cert)
            })
            .await?;
        self.certificates_changed();
        Ok(cert)
    }

    /// Records why an ACME attempt for `hostname` failed; a certificate already stored stays
    /// in service.
    pub async fn record_certificate_failure(&self, hostname: &str, reason: &str) -> Result<()> {
        let (host, reason) = (hostname.to_ascii_lowercase(), reason.to_string());
        let owner = self.certificate_owner(&host).await?;
        self.core
            .store()
            .transact(move |txn| {
                let mut cert = load(txn, &host)?
                    .unwrap_or_else(|| Certificate::pending_acme(host.clone(), owner));
                cert.last_error = Some(reason);
                cert.last_attempt_ms = Some(marque_store::now_ms());
                dir::put(txn, Keyspace::Directory, key(&host), &cert)?;
                Ok::<_, CoreError>(())
            })
            .await
    }
}

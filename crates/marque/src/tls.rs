//! The server certificate: the configured PEM files, or a self-signed one generated on first
//! start into `<data_dir>/tls/`; it is the default of the SNI resolver, which also serves
//! every hostname certificate kept in the store ([`reload`], [`watch`]).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use marque_hosting::Hosting;
use marque_session::{CertResolver, ShutdownSignal, TlsConfig};

use crate::config::Config;

/// The self-signed certificate's file, in `<data_dir>/tls/`.
pub const CERT_FILE: &str = "cert.pem";
/// The self-signed certificate's key, in `<data_dir>/tls/` (mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// Loads the configured certificate, or the self-signed one (generating it if absent).
pub fn load(config: &Config) -> Result<TlsConfig> {
    let (cert, key) = match &config.tls {
        Some(files) => (files.cert.clone(), files.key.clone()),
        None => ensure_self_signed(&config.tls_dir(), &config.server.hostname)?,
    };
    TlsConfig::from_pem_files(&cert, &key)
        .with_context(|| format!("loading the certificate {}", cert.display()))
}

/// Loads every hostname certificate of the store into `resolver`, in one swap. A record that
/// no longer parses is left out with a warning (the default certificate answers its name).
pub async fn reload(hosting: &Hosting, resolver: &CertResolver) -> Result<usize> {
    let records = hosting
        .all_certificates()
        .await
        .context("reading the certificates")?;
    let mut certs = Vec::with_capacity(records.len());
    for record in records {
        match record.parsed() {
            Some(Ok(parsed)) => certs.push((record.hostname, parsed.key)),
            Some(Err(e)) => {
                tracing::warn!(hostname = %record.hostname, error = %e, "stored certificate not served")
            }
            None => {}
        }
    }
    let n = certs.len();
    resolver.replace_certificates(certs);
    // Branded hostnames are served names even before their certificate is issued.
    let branded = hosting
        .branded_hostnames()
        .await
        .context("reading the branded hostnames")?;
    resolver.replace_names(branded.into_iter().map(|(host, _)| host));
    Ok(n)
}

/// How often the branded hostnames are read again (brands change through the API, possibly
/// in another process).
const NAMES_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Reloads `resolver` whenever a certificate is stored or deleted, and every
/// [`NAMES_EVERY`], until `shutdown`.
pub async fn watch(
    hosting: Hosting,
    resolver: std::sync::Arc<CertResolver>,
    mut shutdown: ShutdownSignal,
) {
    let mut changes = hosting.certificate_changes();
    let mut tick = tokio::time::interval(NAMES_EVERY);
    tick.tick().await;
    loop {
        let changed = tokio::select! {
            _ = shutdown.wait() => break,
            _ = tick.tick() => false,
            changed = changes.changed() => if changed.is_err() { break } else { true },
        };
        changes.mark_unchanged();
        match reload(&hosting, &resolver).await {
            Ok(n) if changed => tracing::info!(certificates = n, "TLS certificates reloaded"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "TLS certificates not reloaded"),
        }
    }
}

/// How long a generated certificate is valid: Apple's clients refuse server certificates
/// valid for more than 825 days, even ones the user chose to trust.
const SELF_SIGNED_DAYS: i64 = 825;
/// A generated certificate is replaced at start when it has fewer days left than this.
const RENEW_DAYS: i64 = 30;

/// Returns the paths of the self-signed certificate and key in `dir`, generating them for
/// `hostname` if they do not exist yet, no longer cover `hostname`, or expire within
/// [`RENEW_DAYS`].
pub fn ensure_self_signed(dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf)> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    let now = time::OffsetDateTime::now_utc();
    if cert_path.exists() && key_path.exists() {
        match still_good(&cert_path, &key_path, hostname, now) {
            Ok(()) => return Ok((cert_path, key_path)),
            Err(why) => tracing::warn!(
                cert = %cert_path.display(), hostname, %why,
                "replacing the self-signed certificate"
            ),
        }
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;

    let mut names = vec![hostname.to_string()];
    if hostname == "localhost" {
        names.extend(["127.0.0.1".to_string(), "::1".to_string()]);
    }
    let mut params =
        rcgen::CertificateParams::new(names).context("the self-signed certificate's names")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Marque self-signed");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let key_pair = rcgen::KeyPair::generate().context("generating a key")?;
    let cert = params
        .self_signed(&key_pair)
        .context("generating a self-signed certificate")?;

    // The key is created with mode 0600, never readable by others even for a moment.
    let _ = fs::remove_file(&key_path);
    let mut key = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("creating {}", key_path.display()))?;
    key.write_all(key_pair.serialize_pem().as_bytes())?;
    key.sync_all()?;
    fs::write(&cert_path, cert.pem())
        .with_context(|| format!("writing {}", cert_path.display()))?;
    tracing::info!(cert = %cert_path.display(), hostname, "generated a self-signed certificate");
    Ok((cert_path, key_path))
}

/// Why the certificate in `cert` and `key` should be replaced, if it should.
fn still_good(
    cert: &Path,
    key: &Path,
    hostname: &str,
    now: time::OffsetDateTime,
) -> Result<(), String> {
    let read = |p: &Path| fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let parsed = marque_session::ParsedCert::from_pem(&read(cert)?, &read(key)?)
        .map_err(|e| e.to_string())?;
    if !parsed.covers(hostname) {
        return Err(format!("it is not for {hostname}"));
    }
    let renew_at = now + time::Duration::days(RENEW_DAYS);
    let renew_ms = u64::try_from(renew_at.unix_timestamp()).unwrap_or(0) * 1000;
    if parsed.not_after_ms <= renew_ms {
        return Err(format!("it expires within {RENEW_DAYS} days"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use marque_session::ParsedCert;

    fn parsed(cert: &std::path::Path, key: &std::path::Path) -> ParsedCert {
        ParsedCert::from_pem(&std::fs::read(cert).unwrap(), &std::fs::read(key).unwrap()).unwrap()
    }

    #[test]
    fn self_signed_is_generated_once_with_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let (cert, key) = super::ensure_self_signed(&tls, "mail.example").unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let first = std::fs::read(&cert).unwrap();
        super::ensure_self_signed(&tls, "mail.example").unwrap();
        assert_eq!(first, std::fs::read(&cert).unwrap());
        marque_session::TlsConfig::from_pem_files(&cert, &key).unwrap();

        // Named for the host, valid from yesterday for at most 825 days.
        let p = parsed(&cert, &key);
        assert!(p.covers("mail.example") && !p.covers("other.example"));
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() as u64 * 1000;
        let day_ms = 86_400_000;
        assert!(p.not_after_ms <= now_ms + 825 * day_ms, "{p:?}");
        assert!(p.not_after_ms > now_ms + 824 * day_ms, "{p:?}");
        let text = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&cert)
            .output()
            .expect("openssl (Debian package openssl)");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("CN = mail.example"), "{text}");
        assert!(text.contains("TLS Web Server Authentication"), "{text}");
    }

    #[test]
    fn self_signed_is_replaced_for_a_new_host_name_or_near_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let (cert, key) = super::ensure_self_signed(&tls, "mail.example").unwrap();
        let first = std::fs::read(&cert).unwrap();
        super::ensure_self_signed(&tls, "imap.example").unwrap();
        assert_ne!(first, std::fs::read(&cert).unwrap());
        assert!(parsed(&cert, &key).covers("imap.example"));

        // One that ends in ten days is replaced by a new one for 825 days.
        let now = time::OffsetDateTime::now_utc();
        let mut params = rcgen::CertificateParams::new(vec!["imap.example".to_string()]).unwrap();
        params.not_before = now - time::Duration::days(800);
        params.not_after = now + time::Duration::days(10);
        let key_pair = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&cert, params.self_signed(&key_pair).unwrap().pem()).unwrap();
        std::fs::write(&key, key_pair.serialize_pem()).unwrap();
        let old = std::fs::read(&cert).unwrap();
        super::ensure_self_signed(&tls, "imap.example").unwrap();
        assert_ne!(old, std::fs::read(&cert).unwrap());
        let p = parsed(&cert, &key);
        let soon_ms = (now + time::Duration::days(100)).unix_timestamp() as u64 * 1000;
        assert!(p.not_after_ms > soon_ms, "{p:?}");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

//! The server certificate: the configured PEM files, or a self-signed one generated on first
//! start into `<data_dir>/tls/`; it is the default of the SNI resolver, which also serves
//! every hostname certificate kept in the store ([`reload`], [`watch`]).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use marque_core::Core;
use marque_core::net::{CertResolver, ShutdownSignal, TlsConfig};

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
pub async fn reload(core: &Core, resolver: &CertResolver) -> Result<usize> {
    let records = core
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
    let branded = core
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
    core: Core,
    resolver: std::sync::Arc<CertResolver>,
    mut shutdown: ShutdownSignal,
) {
    let mut changes = core.certificate_changes();
    let mut tick = tokio::time::interval(NAMES_EVERY);
    tick.tick().await;
    loop {
        let changed = tokio::select! {
            _ = shutdown.wait() => break,
            _ = tick.tick() => false,
            changed = changes.changed() => if changed.is_err() { break } else { true },
        };
        changes.mark_unchanged();
        match reload(&core, &resolver).await {
            Ok(n) if changed => tracing::info!(certificates = n, "TLS certificates reloaded"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "TLS certificates not reloaded"),
        }
    }
}

/// Returns the paths of the self-signed certificate and key in `dir`, generating them for
/// `hostname` if they do not exist yet.
pub fn ensure_self_signed(dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf)> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(KEY_FILE);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
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
    let generated = rcgen::generate_simple_self_signed(names)
        .context("generating a self-signed certificate")?;

    // The key is created with mode 0600, never readable by others even for a moment.
    let _ = fs::remove_file(&key_path);
    let mut key = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("creating {}", key_path.display()))?;
    key.write_all(generated.signing_key.serialize_pem().as_bytes())?;
    key.sync_all()?;
    fs::write(&cert_path, generated.cert.pem())
        .with_context(|| format!("writing {}", cert_path.display()))?;
    tracing::info!(cert = %cert_path.display(), hostname, "generated a self-signed certificate");
    Ok((cert_path, key_path))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

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
        marque_core::net::TlsConfig::from_pem_files(&cert, &key).unwrap();
    }
}

//! The server certificate: the configured PEM files, or a self-signed one generated on first
//! start into `<data_dir>/tls/`.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use marque_core::net::TlsConfig;

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

//! The data directory: opening the store (and saying so clearly when another process holds it)
//! and writing the generated admin token.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use marque_store::Store;

use tracing::info;

use crate::config::Config;
use crate::tenancy::Tenancy;

/// Opens the store (`<data_dir>/store`, or the PostgreSQL database of `[store] url`), creating
/// the data directory if needed. Returns the store and whether it was created now (first
/// start).
pub fn open_store(config: &Config) -> Result<(Store, bool)> {
    let data_dir = &config.server.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let path = config.store_dir();
    let options = config.store_options();
    if let marque_store::BackendKind::Postgres(_) = options.backend {
        // The error names the server and what went wrong (refused, authentication, TLS).
        let store = Store::open(&path, options).context("opening the PostgreSQL store")?;
        let fresh = store.created();
        return Ok((store, fresh));
    }
    match Store::open(&path, options) {
        Ok(store) => {
            let fresh = store.created();
            Ok((store, fresh))
        }
        Err(e) if is_lock_error(&e.to_string()) => bail!(
            "data directory {} is in use by a running marque (or another process holds {}); \
             stop it first, or point --config at another data_dir",
            data_dir.display(),
            path.join("LOCK").display()
        ),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", path.display())),
    }
}

/// RocksDB reports a held lock as an I/O error on its `LOCK` file.
fn is_lock_error(message: &str) -> bool {
    message.contains("LOCK")
        && (message.contains("lock") || message.contains("Resource temporarily unavailable"))
}

/// Writes the generated admin token to `path`, created with mode 0600 (never widened first).
pub fn write_admin_token(path: &Path, token: &str) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

/// Makes sure the provider and its admin token exist (first start). The token is
/// `MARQUE_ADMIN_TOKEN` if set, else a random one written to `<data_dir>/admin-token`; its
/// path is logged, never its value.
///
/// A random token is written (mode 0600) to `admin-token.new` before the store commits it and
/// renamed afterwards, so a crash in between never leaves a valid token that nobody can read.
pub async fn bootstrap(config: &Config, tenancy: &Tenancy) -> Result<()> {
    if let Some(token) = std::env::var("MARQUE_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        if tenancy.bootstrap(token).await? {
            info!("first start: the provider admin token is the value of MARQUE_ADMIN_TOKEN");
        }
        return Ok(());
    }
    let path = config.admin_token_path();
    let pending = path.with_file_name("admin-token.new");
    let _ = std::fs::remove_file(&pending);
    write_admin_token(&pending, &Tenancy::generate_token())?;
    let token = std::fs::read_to_string(&pending)?;
    match tenancy.bootstrap(token.trim().to_string()).await {
        Ok(true) => {
            std::fs::rename(&pending, &path)
                .with_context(|| format!("renaming {} to {}", pending.display(), path.display()))?;
            info!(path = %path.display(), "first start: created the provider admin token; read it from this file");
            Ok(())
        }
        Ok(false) => {
            std::fs::remove_file(&pending)?;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&pending);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn token_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin-token");
        super::write_admin_token(&path, "secret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(super::write_admin_token(&path, "other").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "secret\n");
    }

    #[test]
    fn recognises_rocksdb_lock_errors() {
        assert!(super::is_lock_error(
            "IO error: While lock file: /d/store/LOCK: Resource temporarily unavailable"
        ));
        assert!(!super::is_lock_error("Corruption: bad block"));
    }
}

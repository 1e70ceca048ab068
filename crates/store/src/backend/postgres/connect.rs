//! The connection URL, TLS to the database (rustls) and the connection pool.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};

use super::PostgresOptions;
use super::bridge::Bridge;
use crate::error::{Error, Result};

/// How long opening one connection may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a caller waits for a free connection before its operation fails.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// Builds the pool (connections open on first use), describes the target for messages, and
/// keeps what the change listener needs to open a connection of its own.
pub(super) fn pool(
    options: &PostgresOptions,
    bridge: &Bridge,
) -> Result<(Pool, String, super::notify::Connector)> {
    let mut config = parse(&options.url)?;
    if config.get_application_name().is_none() {
        config.application_name("marque");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let target = describe(&config);
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let connector = super::notify::Connector {
        config: config.clone(),
        tls: match config.get_ssl_mode() {
            SslMode::Require => Some(tls(options)?),
            // `prefer` without a TLS connector connects in the clear, as `disable` does.
            _ => None,
        },
    };
    let manager = match &connector.tls {
        Some(tls) => Manager::from_config(config, tls.clone(), manager_config),
        None => Manager::from_config(config, tokio_postgres::NoTls, manager_config),
    };
    let _guard = bridge.handle().enter();
    let pool = Pool::builder(manager)
        .max_size(options.pool_size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|e| Error::Invalid(format!("PostgreSQL pool: {e}")))?;
    Ok((pool, target, connector))
}

/// Parses a connection URL (or key/value string); it must name a host.
pub(super) fn parse(url: &str) -> Result<tokio_postgres::Config> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| Error::Invalid(format!("PostgreSQL URL: {e}")))?;
    if config.get_hosts().is_empty() {
        return Err(Error::Invalid("PostgreSQL URL: no host".into()));
    }
    Ok(config)
}

/// `host:port/database as user`, never the password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{host}:{port}/{db} as {user}")
}

/// A rustls connector trusting the system's certificate authorities and `ca_file`.
fn tls(options: &PostgresOptions) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system certificate rustls cannot parse is skipped, as every rustls client does.
        let _ = roots.add(cert);
    }
    if let Some(path) = &options.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::Io(format!("store CA file {}: {e}", path.display())))?;
        let mut added = 0;
        for cert in rustls_pemfile_certs(&pem, path)? {
            roots
                .add(cert)
                .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::Invalid(format!(
                "{}: no PEM certificate in it",
                path.display()
            )));
        }
    }
    if roots.is_empty() {
        return Err(Error::Invalid(
            "sslmode=require but no certificate authority to trust: install the system's \
             (ca-certificates) or set [store] ca_file"
                .into(),
        ));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn rustls_pemfile_certs(
    pem: &[u8],
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

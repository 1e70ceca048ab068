//! TLS for every listener and STARTTLS: one [`CertResolver`] over the provider's certificate
//! and one per served hostname, picked by SNI and swappable at run time, served with rustls
//! over the ring provider.
//!
//! # Layout
//! - [`certkey`]: [`ParsedCert`], a PEM chain and key checked and ready to serve.
//! - [`resolver`]: [`CertResolver`], the SNI table, and the TLS-ALPN-01 challenge answers.
//! - `der`: the validity and DNS names of a leaf certificate.

pub mod certkey;
mod der;
pub mod resolver;

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::server::{Acceptor, ResolvesServerCert};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

pub use certkey::ParsedCert;
pub use resolver::CertResolver;

/// The ALPN protocol of TLS-ALPN-01 validation handshakes (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM text held no certificate.
    #[error("no certificate in the PEM data")]
    NoCertificate,
    /// The PEM text was not valid.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The leaf certificate is not valid X.509.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// The private key is not the one the leaf certificate was issued for.
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    /// The certificate names other hosts.
    #[error("the certificate does not cover {hostname} (it names: {names})")]
    NotCovering {
        /// The hostname asked for.
        hostname: String,
        /// What the certificate covers.
        names: String,
    },
    /// The certificate's notAfter has passed.
    #[error("the certificate has expired")]
    Expired,
    /// The certificate's notBefore is still ahead.
    #[error("the certificate is not valid yet")]
    NotYetValid,
    /// rustls refused the certificate or key.
    #[error("certificate or key rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The TLS side of every listener: the shared resolver and the rustls configurations over it;
/// cheap to clone, and every clone sees the resolver's changes.
#[derive(Clone)]
pub struct TlsConfig {
    resolver: Arc<CertResolver>,
    config: Arc<ServerConfig>,
    challenge: Arc<ServerConfig>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("resolver", &self.resolver)
            .finish_non_exhaustive()
    }
}

/// A finished server handshake.
#[derive(Debug)]
pub struct Accepted {
    /// The encrypted stream.
    pub stream: TlsStream<TcpStream>,
    /// The SNI name the client sent, when the platform serves that name
    /// ([`CertResolver::served_name`]).
    pub server_name: Option<String>,
}

impl TlsConfig {
    /// Builds a config whose default certificate is the PEM chain (leaf first) and key.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<TlsConfig, TlsError> {
        let parsed = ParsedCert::from_pem(cert_chain, key)?;
        Self::with_resolver(Arc::new(CertResolver::new(parsed.key)))
    }

    /// Builds the rustls configurations over `resolver`.
    pub fn with_resolver(resolver: Arc<CertResolver>) -> Result<TlsConfig, TlsError> {
        let config = server_config(resolver.clone(), Vec::new())?;
        let challenge = server_config(
            Arc::new(resolver::ChallengeResolver(resolver.clone())),
            vec![ACME_TLS_ALPN.to_vec()],
        )?;
        Ok(TlsConfig {
            resolver,
            config,
            challenge,
        })
    }

    /// Reads the default certificate chain and key from PEM files.
    pub fn from_pem_files(cert_chain: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        Self::from_pem(&read(cert_chain)?, &read(key)?)
    }

    /// The resolver every listener shares; changes to it apply to the next handshake.
    pub fn resolver(&self) -> &Arc<CertResolver> {
        &self.resolver
    }

    /// The rustls configuration of ordinary sessions.
    pub fn server_config(&self) -> &Arc<ServerConfig> {
        &self.config
    }

    /// Runs the server side of a handshake. A TLS-ALPN-01 validation handshake (ALPN
    /// `acme-tls/1`, RFC 8737 §3) is answered with the challenge certificate and then ends:
    /// that returns `Ok(None)`, and the caller closes the socket.
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<Option<Accepted>> {
        let start = LazyConfigAcceptor::new(Acceptor::default(), tcp).await?;
        let hello = start.client_hello();
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        let server_name = hello
            .server_name()
            .and_then(|sni| self.resolver.served_name(sni));
        if acme {
            let mut stream = start.into_stream(self.challenge.clone()).await?;
            // RFC 8737 §3: the validation handshake carries no application data.
            let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
            return Ok(None);
        }
        let stream = start.into_stream(self.config.clone()).await?;
        Ok(Some(Accepted {
            stream,
            server_name,
        }))
    }
}

fn server_config(
    resolver: Arc<dyn ResolvesServerCert>,
    alpn: Vec<Vec<u8>>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    // The server's preference (AES-GCM before ChaCha20, stronger first) decides, not the order
    // a client happens to list its suites in.
    config.ignore_client_order = true;
    config.alpn_protocols = alpn;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests;

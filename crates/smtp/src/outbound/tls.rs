//! TLS for outbound sessions (RFC 3207). By default opportunistic (RFC 7435): encryption
//! whenever the server offers it, without authenticating the server. Most MX hosts present
//! certificates for names other than the MX name, and a sender that insisted would fall back
//! to plain text anyway; the certificate is therefore accepted as it is, while its signature
//! over the handshake is still checked so the session key belongs to whoever holds that
//! certificate.
//!
//! `[outbound] tls = "required"` refuses to send without STARTTLS (a temporary failure), and
//! `verify_certificates = true` checks the certificate chain and the MX host name against the
//! system's CA bundle or `[outbound] ca_file`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The CA bundle of Debian and its derivatives, used when no `ca_file` is configured.
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Whether a session may go on without TLS (`[outbound] tls`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsPolicy {
    /// STARTTLS when offered, plain text otherwise.
    #[default]
    Opportunistic,
    /// No STARTTLS, or a failed one: the attempt fails temporarily.
    Required,
}

/// The outbound TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub policy: TlsPolicy,
    /// Check the chain and the MX host name.
    pub verify_certificates: bool,
    /// The trusted CAs (PEM) when verifying; `None`: [`SYSTEM_CA_FILE`].
    pub ca_file: Option<PathBuf>,
}

/// The TLS client of every outbound session, built once from [`TlsSettings`].
#[derive(Clone)]
pub struct TlsClient {
    pub policy: TlsPolicy,
    connector: TlsConnector,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("policy", &self.policy)
            .finish()
    }
}

fn roots(path: &Path) -> std::io::Result<rustls::RootCertStore> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| std::io::Error::other(format!("CA file {}: {e}", path.display())))?;
    for c in certs {
        let c = c.map_err(|e| std::io::Error::other(format!("CA file {}: {e}", path.display())))?;
        // A bundle may hold certificates this library cannot use; the others still count.
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(std::io::Error::other(format!(
            "CA file {}: no usable certificate",
            path.display()
        )));
    }
    Ok(roots)
}

impl TlsClient {
    /// Builds the client; a CA file that cannot be read is an error here, at start.
    pub fn new(settings: &TlsSettings) -> std::io::Result<TlsClient> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?;
        let cfg = if settings.verify_certificates {
            let path = settings
                .ca_file
                .clone()
                .unwrap_or_else(|| PathBuf::from(SYSTEM_CA_FILE));
            let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(&path)?),
                provider,
            )
            .build()
            .map_err(std::io::Error::other)?;
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms)))
                .with_no_client_auth()
        };
        Ok(TlsClient {
            policy: settings.policy,
            connector: TlsConnector::from(Arc::new(cfg)),
        })
    }

    /// Runs the TLS handshake over `io`, sending `server_name` as SNI (and checking the
    /// certificate against it when verifying).
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: S,
        server_name: &str,
    ) -> std::io::Result<TlsStream<S>> {
        let name = ServerName::try_from(server_name.trim_end_matches('.').to_string())
            .map_err(|e| std::io::Error::other(format!("server name {server_name}: {e}")))?;
        self.connector.connect(name, io).await
    }
}

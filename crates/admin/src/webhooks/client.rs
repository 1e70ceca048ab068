//! One webhook POST over HTTP/1.1, plain or TLS (rustls, server names checked against the
//! system's trusted roots), under one overall timeout, to addresses vetted beforehand
//! ([`marque_hosting::webhook_target`]): the URL's host names the server (`Host`, SNI), never
//! where to connect. The answer's body is not read and redirects are not followed: only the
//! status counts. A failure is told in a few plain words; what the peer said (or did not)
//! goes to the server's log only, so that the delivery log is no scanner of other hosts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Where Debian (and most Linux systems) keep the trusted roots as one PEM file.
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A TLS client configuration trusting the roots in `pem_file` (none when it cannot be read:
/// https webhooks then fail with a clear error in their delivery log).
pub fn tls_config(pem_file: &str) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut roots = RootCertStore::empty();
    match rustls::pki_types::CertificateDer::pem_file_iter(pem_file) {
        Ok(certs) => {
            let (ok, bad) = roots.add_parsable_certificates(certs.flatten());
            tracing::debug!(ok, bad, file = pem_file, "webhook TLS roots loaded");
        }
        Err(e) => {
            tracing::warn!(file = pem_file, error = %e, "no trusted roots for https webhooks")
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// Sends `body` to `url` with `headers`, connecting to the first of `addrs` that answers;
/// returns the status, or why there was none.
pub async fn post(
    tls: &Arc<ClientConfig>,
    url: &str,
    addrs: &[SocketAddr],
    headers: &[(&str, String)],
    body: String,
    timeout: Duration,
) -> Result<u16, String> {
    match tokio::time::timeout(timeout, post_now(tls, url, addrs, headers, body)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::debug!(url, "webhook: no answer in time");
            Err(format!("no answer within {} s", timeout.as_secs_f32()))
        }
    }
}

/// The plain words a failure is logged with; `detail` goes to the server's log.
fn failed(what: &'static str, url: &str, detail: impl std::fmt::Display) -> String {
    tracing::debug!(url, error = %detail, "webhook: {what}");
    what.to_string()
}

async fn post_now(
    tls: &Arc<ClientConfig>,
    url: &str,
    addrs: &[SocketAddr],
    headers: &[(&str, String)],
    body: String,
) -> Result<u16, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let https = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => true,
        Some(s) if s.eq_ignore_ascii_case("http") => false,
        _ => return Err("only http and https URLs are sent to".into()),
    };
    let host = uri.host().ok_or("the URL has no host")?.to_string();
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_else(|| host.clone());
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut req = Request::post(path)
        .header(HOST, authority)
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("Marque-Webhooks/", env!("CARGO_PKG_VERSION")),
        );
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("request: {e}"))?;
    // An IPv6 literal comes bracketed in the URL.
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut tcp = None;
    let mut last = String::from("no address");
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(t) => {
                tcp = Some(t);
                break;
            }
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    let tcp = tcp.ok_or_else(|| failed("could not connect", url, last))?;
    if https {
        let name = ServerName::try_from(bare.clone())
            .map_err(|e| failed("not a TLS server name", url, e))?;
        let stream = TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| failed("TLS failed", url, e))?;
        exchange(stream, req, url).await
    } else {
        exchange(tcp, req, url).await
    }
}

async fn exchange<I>(io: I, req: Request<Full<Bytes>>, url: &str) -> Result<u16, String>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| failed("no HTTP answer", url, e))?;
    let driver = tokio::spawn(conn);
    let resp = sender.send_request(req).await;
    driver.abort();
    resp.map(|r| r.status().as_u16())
        .map_err(|e| failed("no HTTP answer", url, e))
}

//! The resolver's choices (exact, wildcard, default, swap), the checks on a certificate, and
//! real handshakes with SNI through the shared [`TlsConfig`].

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::certkey::name_matches;
use super::*;

/// A self-signed certificate for `names`: (chain PEM, key PEM).
fn pem(names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let c = rcgen::generate_simple_self_signed(names).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

fn parsed(names: &[&str]) -> ParsedCert {
    let (chain, key) = pem(names);
    ParsedCert::from_pem(chain.as_bytes(), key.as_bytes()).unwrap()
}

fn leaf(key: &rustls::sign::CertifiedKey) -> Vec<u8> {
    key.cert[0].as_ref().to_vec()
}

#[test]
fn names_match_exactly_or_by_one_wildcard_label() {
    assert!(name_matches("mail.example", "mail.example"));
    assert!(name_matches("*.example", "mail.example"));
    assert!(!name_matches("*.example", "a.mail.example"));
    assert!(!name_matches("*.example", "example"));
    assert!(!name_matches("mail.example", "imap.example"));
}

#[test]
fn resolver_picks_exact_then_wildcard_then_default() {
    let default = parsed(&["platform.test"]);
    let exact = parsed(&["mail.customer.test"]);
    let wild = parsed(&["*.other.test"]);
    let r = CertResolver::new(default.key.clone());
    r.replace_certificates([
        ("Mail.Customer.Test".to_string(), exact.key.clone()),
        ("*.other.test".to_string(), wild.key.clone()),
    ]);
    assert_eq!(
        leaf(&r.certificate_for(Some("mail.customer.test"))),
        leaf(&exact.key)
    );
    assert_eq!(
        leaf(&r.certificate_for(Some("MAIL.customer.test."))),
        leaf(&exact.key)
    );
    assert_eq!(
        leaf(&r.certificate_for(Some("imap.other.test"))),
        leaf(&wild.key)
    );
    assert_eq!(
        leaf(&r.certificate_for(Some("a.b.other.test"))),
        leaf(&default.key)
    );
    assert_eq!(
        leaf(&r.certificate_for(Some("unknown.test"))),
        leaf(&default.key)
    );
    assert_eq!(leaf(&r.certificate_for(None)), leaf(&default.key));
    assert_eq!(
        r.served_name("MAIL.customer.test").as_deref(),
        Some("mail.customer.test")
    );
    assert_eq!(
        r.served_name("imap.other.test").as_deref(),
        Some("imap.other.test")
    );
    assert_eq!(r.served_name("unknown.test"), None);
}

#[test]
fn swapping_the_table_changes_the_next_choice_only() {
    let default = parsed(&["platform.test"]);
    let old = parsed(&["mail.customer.test"]);
    let new = parsed(&["mail.customer.test"]);
    let r = CertResolver::new(default.key.clone());
    r.replace_certificates([("mail.customer.test".to_string(), old.key.clone())]);
    let held = r.certificate_for(Some("mail.customer.test"));
    r.replace_certificates([("mail.customer.test".to_string(), new.key.clone())]);
    assert_eq!(leaf(&held), leaf(&old.key));
    assert_eq!(
        leaf(&r.certificate_for(Some("mail.customer.test"))),
        leaf(&new.key)
    );
    r.replace_certificates(Vec::new());
    assert_eq!(
        leaf(&r.certificate_for(Some("mail.customer.test"))),
        leaf(&default.key)
    );
    r.replace_names(["brand.test".to_string()]);
    assert_eq!(r.served_name("brand.test").as_deref(), Some("brand.test"));
    assert_eq!(r.served_name("mail.customer.test"), None);
}

#[test]
fn a_certificate_is_checked_for_key_name_and_dates() {
    let (chain, _) = pem(&["mail.customer.test"]);
    let (_, other_key) = pem(&["mail.customer.test"]);
    assert!(matches!(
        ParsedCert::from_pem(chain.as_bytes(), other_key.as_bytes()),
        Err(TlsError::KeyMismatch)
    ));
    assert!(matches!(
        ParsedCert::from_pem(b"not pem", other_key.as_bytes()),
        Err(TlsError::NoCertificate | TlsError::Pem(_))
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64;
    let p = parsed(&["mail.customer.test", "*.customer.test"]);
    p.check_for("mail.customer.test", now).unwrap();
    p.check_for("imap.customer.test", now).unwrap();
    assert!(matches!(
        p.check_for("mail.other.test", now),
        Err(TlsError::NotCovering { .. })
    ));
    assert!(matches!(
        p.check_for("mail.customer.test", p.not_after_ms + 1),
        Err(TlsError::Expired)
    ));

    let mut params = rcgen::CertificateParams::new(vec!["old.test".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let old = ParsedCert::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    assert!(matches!(
        old.check_for("old.test", now),
        Err(TlsError::Expired)
    ));
}

#[test]
fn validity_is_read_from_utc_and_generalized_times() {
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    let mut params = rcgen::CertificateParams::new(vec!["Far.Example".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(1999, 12, 31);
    params.not_after = rcgen::date_time_ymd(2060, 2, 29);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let p = ParsedCert::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    assert_eq!(p.names, vec!["far.example".to_string()]);
    assert_eq!(p.not_before_ms, 946_598_400_000);
    assert_eq!(p.not_after_ms, 2_845_238_400_000);
    assert!(matches!(
        super::der::leaf_facts(&[0x30, 0x05, 0x30]),
        Err(e) if e.contains("truncated")
    ));
}

/// Connects with `sni` and ALPN `alpn`, trusting nothing: returns the leaf the server sent.
async fn handshake(
    addr: std::net::SocketAddr,
    sni: &str,
    alpn: Vec<Vec<u8>>,
) -> std::io::Result<(Vec<u8>, tokio_rustls::client::TlsStream<TcpStream>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny))
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let leaf = tls.get_ref().1.peer_certificates().unwrap()[0]
        .as_ref()
        .to_vec();
    Ok((leaf, tls))
}

/// Serves `tls` on a loopback port: each session writes the name it was given and closes.
async fn server(tls: TlsConfig) -> std::net::SocketAddr {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (sock, _) = tcp.accept().await.unwrap();
            let tls = tls.clone();
            tokio::spawn(async move {
                if let Ok(Some(mut a)) = tls.accept(sock).await {
                    let name = a.server_name.unwrap_or_else(|| "-".to_string());
                    let _ = a.stream.write_all(format!("{name}\r\n").as_bytes()).await;
                    let _ = a.stream.shutdown().await;
                }
            });
        }
    });
    addr
}

async fn read_line(tls: &mut tokio_rustls::client::TlsStream<TcpStream>) -> String {
    let mut out = String::new();
    tls.read_to_string(&mut out).await.unwrap();
    out.trim_end().to_string()
}

#[tokio::test]
async fn handshakes_pick_the_certificate_by_sni_and_see_swaps() {
    let default = parsed(&["platform.test"]);
    let first = parsed(&["mail.customer.test"]);
    let second = parsed(&["mail.customer.test"]);
    let tls = TlsConfig::with_resolver(Arc::new(CertResolver::new(default.key.clone()))).unwrap();
    tls.resolver()
        .replace_certificates([("mail.customer.test".to_string(), first.key.clone())]);
    let addr = server(tls.clone()).await;

    let (cert, mut s) = handshake(addr, "mail.customer.test", vec![]).await.unwrap();
    assert_eq!(cert, leaf(&first.key));
    assert_eq!(read_line(&mut s).await, "mail.customer.test");
    let (cert, mut s) = handshake(addr, "other.test", vec![]).await.unwrap();
    assert_eq!(cert, leaf(&default.key));
    assert_eq!(read_line(&mut s).await, "-");

    tls.resolver()
        .replace_certificates([("mail.customer.test".to_string(), second.key.clone())]);
    let (cert, _) = handshake(addr, "mail.customer.test", vec![b"imap".to_vec()])
        .await
        .unwrap();
    assert_eq!(cert, leaf(&second.key));
}

#[tokio::test]
async fn acme_tls_alpn_handshakes_get_the_challenge_certificate_only_while_pending() {
    let default = parsed(&["platform.test"]);
    let challenge = parsed(&["mail.customer.test"]);
    let tls = TlsConfig::with_resolver(Arc::new(CertResolver::new(default.key.clone()))).unwrap();
    let addr = server(tls.clone()).await;
    let acme = vec![ACME_TLS_ALPN.to_vec()];

    assert!(
        handshake(addr, "mail.customer.test", acme.clone())
            .await
            .is_err()
    );
    tls.resolver()
        .add_challenge("mail.customer.test", challenge.key.clone());
    let (cert, s) = handshake(addr, "mail.customer.test", acme.clone())
        .await
        .unwrap();
    assert_eq!(cert, leaf(&challenge.key));
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(ACME_TLS_ALPN));
    // Ordinary sessions never see the challenge certificate.
    let (cert, _) = handshake(addr, "mail.customer.test", vec![]).await.unwrap();
    assert_eq!(cert, leaf(&default.key));
    tls.resolver().remove_challenge("mail.customer.test");
    assert!(handshake(addr, "mail.customer.test", acme).await.is_err());
}

/// Accepts any server certificate: these tests compare the leaf themselves.
#[derive(Debug)]
struct AcceptAny;

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[tokio::test]
async fn the_server_chooses_the_cipher_suite_by_its_own_order() {
    use rustls::crypto::ring::cipher_suite::{
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    let default = parsed(&["platform.test"]);
    let tls = TlsConfig::with_resolver(Arc::new(CertResolver::new(default.key.clone()))).unwrap();
    let addr = server(tls).await;
    // A client that lists ChaCha20 first still gets the server's first choice.
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS13_AES_128_GCM_SHA256,
        TLS13_AES_256_GCM_SHA384,
    ];
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny))
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("platform.test".to_string()).unwrap();
    let s = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let suite = s.get_ref().1.negotiated_cipher_suite().unwrap().suite();
    assert_eq!(suite, TLS13_AES_256_GCM_SHA384.suite());
}

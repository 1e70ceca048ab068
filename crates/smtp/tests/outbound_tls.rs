//! Outbound TLS policy against a loopback peer with STARTTLS and a certificate from a test CA
//! (rcgen): `tls = "required"` does not send to a host without STARTTLS (the message waits,
//! the reason recorded); `verify_certificates` with the test CA as `ca_file` delivers to a peer
//! whose certificate names the MX host, and refuses one signed by another CA.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::remote::{a, dns, mx, queue_len, submit, until, workers_with};
use common::start;
use marque_core::Actor;
use marque_smtp::outbound::{TlsPolicy, TlsSettings};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A CA and a server certificate for `name` signed by it.
struct Pki {
    ca_pem: String,
    server: Arc<ServerConfig>,
}

fn pki(name: &str) -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec![name.to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    let server =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// What the peer saw: each accepted message, and whether it came over TLS.
#[derive(Default)]
struct Seen {
    messages: Vec<bool>,
    sessions: usize,
}

/// A peer on `ip` that offers STARTTLS with `tls` (or no STARTTLS) and accepts everything.
async fn peer(ip: &str, tls: Option<Arc<ServerConfig>>) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let l = TcpListener::bind((ip, 0)).await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let (seen, tls) = (s2.clone(), tls.clone());
            tokio::spawn(async move {
                seen.lock().unwrap().sessions += 1;
                let mut r = BufReader::new(tcp);
                let _ = r.get_mut().write_all(b"220 peer ESMTP\r\n").await;
                if !session(&mut r, tls.is_some(), false, &seen).await {
                    return;
                }
                let Some(cfg) = tls else { return };
                let Ok(stream) = tokio_rustls::TlsAcceptor::from(cfg)
                    .accept(r.into_inner())
                    .await
                else {
                    return;
                };
                session(&mut BufReader::new(stream), false, true, &seen).await;
            });
        }
    });
    (addr, seen)
}

/// Runs commands until QUIT or the end (false) or a STARTTLS answered with 220 (true).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    r: &mut BufReader<S>,
    offer_tls: bool,
    tls: bool,
    seen: &Mutex<Seen>,
) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return false;
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply: &str = if upper.starts_with("EHLO") {
            if offer_tls {
                "250-peer\r\n250-PIPELINING\r\n250 STARTTLS"
            } else {
                "250-peer\r\n250 PIPELINING"
            }
        } else if upper == "STARTTLS" && offer_tls {
            let _ = r.get_mut().write_all(b"220 go ahead\r\n").await;
            return true;
        } else if upper == "DATA" {
            let _ = r.get_mut().write_all(b"354 go ahead\r\n").await;
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return false;
                }
                if line == ".\r\n" {
                    break;
                }
            }
            seen.lock().unwrap().messages.push(tls);
            "250 2.0.0 ok"
        } else if upper == "QUIT" {
            let _ = r.get_mut().write_all(b"221 bye\r\n").await;
            return false;
        } else {
            "250 ok"
        };
        let _ = r
            .get_mut()
            .write_all(format!("{reply}\r\n").as_bytes())
            .await;
    }
}

/// The last reply recorded for the only queued message's first recipient.
async fn last_reply(hosting: &marque_hosting::Hosting) -> String {
    let items = hosting
        .queue_list(&Actor::operator(), 0, 10)
        .await
        .expect("queue");
    items
        .first()
        .map(|i| i.message.recipients[0].last_reply.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_tls_does_not_send_to_a_host_without_starttls() {
    let s = start().await;
    let (addr, seen) = peer("127.0.0.10", None).await;
    let dns = dns(vec![
        ("plain.test.", mx("mx.plain.test.")),
        ("mx.plain.test.", a([127, 0, 0, 10])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, addr.port(), |c| {
        c.tls = TlsSettings {
            policy: TlsPolicy::Required,
            ..TlsSettings::default()
        }
    });
    submit(
        s.submission.port(),
        "zoe@plain.test",
        "",
        "",
        "Subject: t\r\n\r\nbody\r\n",
    )
    .await;
    until("an attempt", async || {
        seen.lock().unwrap().sessions >= 2 && last_reply(&s.hosting).await.contains("4.7.10")
    })
    .await;
    assert!(
        seen.lock().unwrap().messages.is_empty(),
        "sent in plain text"
    );
    assert_eq!(queue_len(&s.hosting).await, 1, "the message waits");
    let reply = last_reply(&s.hosting).await;
    assert!(reply.contains("does not offer STARTTLS"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_tls_delivers_to_a_certificate_of_the_configured_ca() {
    let s = start().await;
    let p = pki("mx.secure.test");
    let dir = tempfile::tempdir().expect("dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &p.ca_pem).expect("write CA");
    let (addr, seen) = peer("127.0.0.11", Some(p.server.clone())).await;
    let dns = dns(vec![
        ("secure.test.", mx("mx.secure.test.")),
        ("mx.secure.test.", a([127, 0, 0, 11])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, addr.port(), |c| {
        c.tls = TlsSettings {
            policy: TlsPolicy::Required,
            verify_certificates: true,
            ca_file: Some(ca_file.clone()),
        }
    });
    submit(
        s.submission.port(),
        "zoe@secure.test",
        "",
        "",
        "Subject: t\r\n\r\nbody\r\n",
    )
    .await;
    until("delivery", async || {
        !seen.lock().unwrap().messages.is_empty() && queue_len(&s.hosting).await == 0
    })
    .await;
    assert_eq!(seen.lock().unwrap().messages, vec![true], "once, over TLS");
    let recs: Vec<_> = common::transactions(&s.core, s.customer, "zoe@secure.test")
        .into_iter()
        .filter(|r| r.direction == "outbound")
        .collect();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert!(recs[0].tls);
    assert!(
        recs[0].conversation[0].starts_with("(MX mx.secure.test [127.0.0.11], TLS TLSv1_"),
        "{:?}",
        recs[0].conversation
    );
    assert_eq!(recs[0].recipients[0].reason, "250 2.0.0 ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_tls_refuses_a_certificate_of_another_ca() {
    let s = start().await;
    let trusted = pki("mx.other.test");
    let presented = pki("mx.other.test");
    let dir = tempfile::tempdir().expect("dir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &trusted.ca_pem).expect("write CA");
    let (addr, seen) = peer("127.0.0.12", Some(presented.server.clone())).await;
    let dns = dns(vec![
        ("other.test.", mx("mx.other.test.")),
        ("mx.other.test.", a([127, 0, 0, 12])),
    ])
    .await;
    let _w = workers_with(&s.core, dns, addr.port(), |c| {
        c.tls = TlsSettings {
            policy: TlsPolicy::Opportunistic,
            verify_certificates: true,
            ca_file: Some(ca_file.clone()),
        }
    });
    submit(
        s.submission.port(),
        "zoe@other.test",
        "",
        "",
        "Subject: t\r\n\r\nbody\r\n",
    )
    .await;
    until("a refused handshake", async || {
        seen.lock().unwrap().sessions >= 2 && last_reply(&s.hosting).await.contains("TLS")
    })
    .await;
    assert!(
        seen.lock().unwrap().messages.is_empty(),
        "sent to an unverified host"
    );
    assert_eq!(queue_len(&s.hosting).await, 1, "the message waits");
}

//! Connecting the async-imap crate to the test server: plain TCP, STARTTLS, implicit TLS
//! (trusting the test certificate), and the small helpers its API leaves to the caller.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::{Handle, IdleResponse};
use async_imap::imap_proto::{AttributeValue, MailboxDatum, Response};
use async_imap::types::{Fetch, Name, UnsolicitedResponse};
use async_imap::{Authenticator, Client, Session};
use futures_util::{Stream, TryStreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::common::CERT_HOST;

pub type Tls = TlsStream<TcpStream>;

/// Longest wait for any one answer: a generous bound so that a hung server fails the test
/// instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Awaits `f` for at most [`PATIENCE`].
pub async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(PATIENCE, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in {PATIENCE:?}"))
}

/// A plain connection whose greeting has been read and checked.
pub async fn connect(port: u16) -> Client<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    greeted(Client::new(tcp)).await
}

/// An implicit-TLS connection trusting only `cert_pem`, greeting read.
pub async fn connect_tls(port: u16, cert_pem: &str) -> Client<Tls> {
    let tcp = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    greeted(Client::new(handshake(tcp, cert_pem).await)).await
}

/// A plain connection upgraded with STARTTLS (RFC 3501 §6.2.1); there is no second greeting.
pub async fn connect_starttls(port: u16, cert_pem: &str) -> Client<Tls> {
    let mut client = connect(port).await;
    within(
        "STARTTLS",
        client.run_command_and_check_ok("STARTTLS", None),
    )
    .await
    .expect("STARTTLS answered OK");
    Client::new(handshake(client.into_inner(), cert_pem).await)
}

async fn greeted<T>(mut client: Client<T>) -> Client<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let greeting = within("greeting", client.read_response())
        .await
        .expect("read the greeting")
        .expect("a greeting before the connection ends");
    assert!(
        matches!(
            greeting.parsed(),
            async_imap::imap_proto::Response::Data {
                status: async_imap::imap_proto::Status::Ok,
                ..
            }
        ),
        "greeting: {:?}",
        greeting.parsed()
    );
    client
}

async fn handshake(tcp: TcpStream, cert_pem: &str) -> Tls {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots
            .add(cert.expect("test certificate"))
            .expect("trust it");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from(CERT_HOST.to_string()).expect("server name");
    within(
        "TLS handshake",
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .expect("the server's certificate is trusted")
}

/// SASL PLAIN (RFC 4616): no authorisation identity, the login and the password.
pub struct Plain<'a> {
    pub login: &'a str,
    pub password: &'a str,
}

impl Authenticator for Plain<'_> {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        format!("\0{}\0{}", self.login, self.password).into_bytes()
    }
}

/// Signs in with LOGIN; panics with the server's answer when it is refused.
pub async fn login<T>(client: Client<T>, user: &str, password: &str) -> Session<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    within("LOGIN", client.login(user, password))
        .await
        .map_err(|(e, _)| e)
        .expect("LOGIN accepted")
}

/// Collects a stream of results, panicking on the first error.
pub async fn all<S, T>(what: &str, stream: S) -> Vec<T>
where
    S: Stream<Item = async_imap::error::Result<T>>,
{
    within(what, stream.try_collect::<Vec<T>>())
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// FETCH (or UID FETCH with `uid`) of `set`, every answer collected.
pub async fn fetch<T>(session: &mut Session<T>, uid: bool, set: &str, items: &str) -> Vec<Fetch>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let what = format!("FETCH {set} {items}");
    let stream = if uid {
        within(&what, session.uid_fetch(set, items))
            .await
            .map(futures_util::future::Either::Left)
    } else {
        within(&what, session.fetch(set, items))
            .await
            .map(futures_util::future::Either::Right)
    }
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    all(&what, stream).await
}

/// LIST (or LSUB) of `pattern` as (name, attributes) pairs, the attributes as text.
pub async fn list<T>(
    session: &mut Session<T>,
    lsub: bool,
    pattern: &str,
) -> Vec<(String, Vec<String>)>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let names: Vec<Name> = if lsub {
        let s = within("LSUB", session.lsub(Some(""), Some(pattern)))
            .await
            .expect("LSUB");
        all("LSUB", s).await
    } else {
        // The crate sends LIST's pattern as given (LSUB's it quotes): quote it here.
        let quoted = format!("\"{}\"", pattern.replace('\\', "\\\\").replace('"', "\\\""));
        let s = within("LIST", session.list(Some(""), Some(&quoted)))
            .await
            .expect("LIST");
        all("LIST", s).await
    };
    names
        .iter()
        .map(|n| {
            assert_eq!(n.delimiter(), Some("/"), "{n:?}");
            (
                unescape(n.name()),
                n.attributes().iter().map(|a| format!("{a:?}")).collect(),
            )
        })
        .collect()
}

/// A quoted string's content without its escapes: the crate's parser (imap-proto) hands a
/// quoted mailbox name over as it was on the wire, `Work \"Q3\"` for `Work "Q3"`.
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// The untagged responses the session has set aside so far, described by [`describe`].
pub fn unsolicited<T>(session: &Session<T>) -> Vec<String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut got = Vec::new();
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        got.push(match r {
            UnsolicitedResponse::Exists(n) => format!("EXISTS {n}"),
            UnsolicitedResponse::Expunge(n) => format!("EXPUNGE {n}"),
            UnsolicitedResponse::Recent(n) => format!("RECENT {n}"),
            UnsolicitedResponse::Other(data) => describe(data.parsed()),
            other => format!("{other:?}"),
        });
    }
    got
}

/// An untagged response in short: `EXISTS 3`, `EXPUNGE 2`, `FETCH 1 (\Flagged \Seen)` (the
/// flags sorted, other items left out); anything else as the parser's debug form.
pub fn describe(r: &Response<'_>) -> String {
    match r {
        Response::MailboxData(MailboxDatum::Exists(n)) => format!("EXISTS {n}"),
        Response::MailboxData(MailboxDatum::Recent(n)) => format!("RECENT {n}"),
        Response::Expunge(n) => format!("EXPUNGE {n}"),
        Response::Fetch(n, attrs) => {
            let mut flags: Vec<&str> = attrs
                .iter()
                .filter_map(|a| match a {
                    AttributeValue::Flags(f) => Some(f.iter().map(|f| f.as_ref())),
                    _ => None,
                })
                .flatten()
                .collect();
            flags.sort();
            let modseq = attrs.iter().any(|a| matches!(a, AttributeValue::ModSeq(_)));
            let modseq = if modseq { " MODSEQ" } else { "" };
            format!("FETCH {n} ({}){modseq}", flags.join(" "))
        }
        other => format!("{other:?}"),
    }
}

/// Waits in IDLE until the server sends `want` (as [`describe`] puts it); returns everything
/// it sent up to then.
pub async fn idle_until<T>(idle: &mut Handle<T>, want: &str) -> Vec<String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut got = Vec::new();
    loop {
        let (wait, _stop) = idle.wait_with_timeout(PATIENCE);
        match wait.await.expect("IDLE") {
            IdleResponse::NewData(data) => {
                got.push(describe(data.parsed()));
                if got.last().is_some_and(|g| g == want) {
                    return got;
                }
            }
            other => panic!("IDLE ended without {want} ({other:?}); got {got:?}"),
        }
    }
}

/// A flag list's names, sorted (`\Seen`, `$Label`...).
pub fn flag_names(fetch: &Fetch) -> Vec<String> {
    let mut v: Vec<String> = fetch.flags().map(|f| flag_name(&f)).collect();
    v.sort();
    v
}

pub fn flag_name(f: &async_imap::types::Flag<'_>) -> String {
    use async_imap::types::Flag;
    match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Recent => "\\Recent".into(),
        Flag::MayCreate => "\\*".into(),
        Flag::Custom(c) => c.to_string(),
    }
}

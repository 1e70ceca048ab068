//! The one certificate resolver every TLS listener and STARTTLS share: the provider's default
//! certificate and one per served hostname (exact names and `*.` wildcards), picked by the SNI
//! name the client sent, and swapped at run time without touching the listeners.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::RwLock;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// What the resolver serves at one moment; replaced as a whole.
#[derive(Clone, Default)]
struct Table {
    /// Hostname (lower-case, or `*.parent`) → certificate.
    certs: HashMap<String, Arc<CertifiedKey>>,
    /// Hostnames the platform answers to without a certificate of their own (branded
    /// hostnames before their certificate is issued): the greeting names them all the same.
    names: HashSet<String>,
}

/// A rustls [`ResolvesServerCert`] over the default certificate and a swappable table of
/// hostnames; cheap to share (`Arc`).
pub struct CertResolver {
    default: ArcSwap<CertifiedKey>,
    table: ArcSwap<Table>,
    /// TLS-ALPN-01 challenge certificates by hostname while an ACME order is pending
    /// (RFC 8737 §3).
    challenges: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let table = self.table.load();
        f.debug_struct("CertResolver")
            .field("hostnames", &table.certs.len())
            .field("names", &table.names.len())
            .finish_non_exhaustive()
    }
}

impl CertResolver {
    /// A resolver that serves `default` to every client until hostnames are added.
    pub fn new(default: Arc<CertifiedKey>) -> CertResolver {
        CertResolver {
            default: ArcSwap::new(default),
            table: ArcSwap::from_pointee(Table::default()),
            challenges: RwLock::new(HashMap::new()),
        }
    }

    /// Replaces the per-hostname certificates at once; handshakes already under way keep the
    /// certificate they picked, the next ones see the new table.
    pub fn replace_certificates(
        &self,
        certs: impl IntoIterator<Item = (String, Arc<CertifiedKey>)>,
    ) {
        let certs: HashMap<_, _> = certs
            .into_iter()
            .map(|(name, key)| (normalize(&name), key))
            .collect();
        let names = self.table.load().names.clone();
        self.table.store(Arc::new(Table { certs, names }));
    }

    /// Replaces the hostnames the platform answers to besides those with a certificate.
    pub fn replace_names(&self, names: impl IntoIterator<Item = String>) {
        let names = names.into_iter().map(|n| normalize(&n)).collect();
        let certs = self.table.load().certs.clone();
        self.table.store(Arc::new(Table { certs, names }));
    }

    /// Replaces the default (provider) certificate.
    pub fn replace_default(&self, default: Arc<CertifiedKey>) {
        self.default.store(default);
    }

    /// The certificate for `sni` (exact name first, then a wildcard one label up), or the
    /// default.
    pub fn certificate_for(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        sni.and_then(|name| self.lookup(&normalize(name)))
            .unwrap_or_else(|| self.default.load_full())
    }

    /// The name a session should give itself for `sni`: the SNI name when the platform
    /// serves it (a certificate or a known hostname covers it), otherwise `None` (the
    /// configured server hostname applies).
    pub fn served_name(&self, sni: &str) -> Option<String> {
        let name = normalize(sni);
        let table = self.table.load();
        let known = table.names.contains(&name) || self.lookup(&name).is_some();
        known.then_some(name)
    }

    /// The hostnames with a certificate of their own.
    pub fn hostnames(&self) -> Vec<String> {
        let mut names: Vec<_> = self.table.load().certs.keys().cloned().collect();
        names.sort();
        names
    }

    /// Serves `cert` to TLS-ALPN-01 validation handshakes for `hostname` until
    /// [`CertResolver::remove_challenge`].
    pub fn add_challenge(&self, hostname: &str, cert: Arc<CertifiedKey>) {
        self.challenges.write().insert(normalize(hostname), cert);
    }

    /// Stops answering the TLS-ALPN-01 challenge for `hostname`.
    pub fn remove_challenge(&self, hostname: &str) {
        self.challenges.write().remove(&normalize(hostname));
    }

    /// The pending challenge certificate for `sni`.
    pub fn challenge_for(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        self.challenges.read().get(&normalize(sni)).cloned()
    }

    fn lookup(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let table = self.table.load();
        if let Some(key) = table.certs.get(name) {
            return Some(key.clone());
        }
        let (_, parent) = name.split_once('.')?;
        table.certs.get(&format!("*.{parent}")).cloned()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certificate_for(client_hello.server_name()))
    }
}

/// The resolver used only for handshakes that offer the `acme-tls/1` protocol: it answers
/// with the challenge certificate, or with nothing (the handshake fails) when no order for
/// that name is pending.
#[derive(Debug)]
pub(super) struct ChallengeResolver(pub(super) Arc<CertResolver>);

impl ResolvesServerCert for ChallengeResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.challenge_for(client_hello.server_name()?)
    }
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

//! Where a domain's mail goes (RFC 5321 §5.1): its MX hosts by preference, each host's
//! addresses; without MX records the domain itself (the implicit MX, its A/AAAA records); a
//! null MX (RFC 7505) refuses mail for good.
//!
//! Lookups go through `hickory-resolver` to the configured nameservers, or to those of
//! `/etc/resolv.conf` when none are configured.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

/// Most MX hosts tried for one domain.
const MAX_HOSTS: usize = 10;

/// One host to try, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub addrs: Vec<IpAddr>,
}

/// Why a domain has no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// Retrying will not help: the domain does not exist, or it has a null MX.
    Permanent(String),
    /// The lookup failed for now (timeout, SERVFAIL).
    Temporary(String),
}

/// A resolver for mail routing.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dns")
    }
}

impl Dns {
    /// A resolver asking `nameservers` (UDP, then TCP for truncated answers); the system's
    /// when the list is empty.
    pub fn new(nameservers: &[SocketAddr]) -> std::io::Result<Dns> {
        let resolver =
            marque_hosting::dns::resolve::build_resolver(nameservers, Duration::from_secs(5))
                .map_err(std::io::Error::other)?;
        Ok(Dns { resolver })
    }

    /// The hosts to try for `domain`, best first.
    pub async fn route(&self, domain: &str) -> Result<Vec<Host>, RouteError> {
        // An address literal (RFC 5321 §4.1.3) needs no lookup.
        if let Some(lit) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
            let ip: IpAddr = lit
                .strip_prefix("IPv6:")
                .unwrap_or(lit)
                .parse()
                .map_err(|_| RouteError::Permanent(format!("bad address literal {domain}")))?;
            return Ok(vec![Host {
                name: domain.to_string(),
                addrs: vec![ip],
            }]);
        }
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        let name = Name::from_ascii(&fqdn)
            .map_err(|e| RouteError::Permanent(format!("bad domain {domain}: {e}")))?;
        let mut mx: Vec<(u16, String)> =
            match self.resolver.lookup(name.clone(), RecordType::MX).await {
                Ok(l) => l
                    .answers()
                    .iter()
                    .filter_map(|r| match &r.data {
                        RData::MX(m) => Some((m.preference, m.exchange.to_ascii())),
                        _ => None,
                    })
                    .collect(),
                Err(e) if e.is_nx_domain() => {
                    return Err(RouteError::Permanent(format!("{domain}: no such domain")));
                }
                Err(e) if e.is_no_records_found() => Vec::new(),
                Err(e) => {
                    return Err(RouteError::Temporary(format!(
                        "MX lookup for {domain}: {e}"
                    )));
                }
            };
        // RFC 7505: a single MX of "." at any preference means no mail.
        if mx.iter().any(|(_, h)| h == "." || h.is_empty()) {
            return Err(RouteError::Permanent(format!(
                "{domain} accepts no mail (null MX)"
            )));
        }
        if mx.is_empty() {
            // RFC 5321 §5.1: the implicit MX.
            mx.push((0, fqdn));
        }
        mx.sort();
        mx.truncate(MAX_HOSTS);
        let mut hosts = Vec::new();
        let mut last_error = None;
        for (_, h) in mx {
            match self.addresses(&h).await {
                Ok(addrs) if !addrs.is_empty() => hosts.push(Host {
                    name: h.trim_end_matches('.').to_string(),
                    addrs,
                }),
                Ok(_) => last_error = Some(RouteError::Permanent(format!("{h}: no address"))),
                Err(e) => last_error = Some(e),
            }
        }
        match (hosts.is_empty(), last_error) {
            (false, _) => Ok(hosts),
            (true, Some(e)) => Err(e),
            (true, None) => Err(RouteError::Permanent(format!("{domain}: no route"))),
        }
    }

    /// A and AAAA records of a host.
    async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, RouteError> {
        match self.resolver.lookup_ip(host).await {
            Ok(ips) => Ok(ips.iter().collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(RouteError::Temporary(format!(
                "address lookup for {host}: {e}"
            ))),
        }
    }
}

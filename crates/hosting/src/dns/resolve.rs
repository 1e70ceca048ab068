//! Asking real DNS what a record's name holds: `hickory-resolver` against the configured name
//! servers (those of `/etc/resolv.conf` when none are). A check builds its own resolver, so
//! nothing is cached from one check to the next and a record fixed a minute ago is seen now.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData, RecordType as HType};

use super::compare::{Answer, CnameAnswer, Lookup, Srv};
use super::expected::{Expected, Purpose};
use super::{DnsSettings, RecordType};

/// Longest CNAME chain followed (RFC 1034 §3.6.2 warns against chains; resolvers stop at ~8).
const MAX_CHAIN: usize = 8;

/// A resolver for one check.
pub struct Resolver {
    inner: TokioResolver,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

/// The nameservers of `/etc/resolv.conf` (port 53).
fn system_nameservers() -> std::io::Result<Vec<SocketAddr>> {
    let text = std::fs::read_to_string("/etc/resolv.conf")?;
    Ok(text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect())
}

fn fqdn(name: &str) -> Result<Name, String> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| format!("bad name {name}: {e}"))
}

/// A resolver asking `nameservers` (UDP, then TCP for truncated answers), or the servers of
/// `/etc/resolv.conf` when the list is empty; each question waits up to `timeout`, twice. The
/// one way Marque builds a resolver: the DNS check here, outbound routing in the SMTP crate.
pub fn build_resolver(
    nameservers: &[SocketAddr],
    timeout: std::time::Duration,
) -> Result<TokioResolver, String> {
    let servers = if nameservers.is_empty() {
        system_nameservers().map_err(|e| format!("reading /etc/resolv.conf: {e}"))?
    } else {
        nameservers.to_vec()
    };
    if servers.is_empty() {
        return Err("no nameserver: set [dns] nameservers or list one in /etc/resolv.conf".into());
    }
    let configs = servers
        .iter()
        .map(|s| {
            let mut udp = ConnectionConfig::udp();
            udp.port = s.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = s.port();
            NameServerConfig::new(s.ip(), true, vec![udp, tcp])
        })
        .collect();
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 2;
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_parts(None, vec![], configs),
        TokioRuntimeProvider::default(),
    );
    *builder.options_mut() = opts;
    builder
        .build()
        .map_err(|e| format!("building the resolver: {e}"))
}

impl Resolver {
    /// A resolver asking the configured name servers ([`build_resolver`]).
    pub fn new(settings: &DnsSettings) -> Result<Resolver, String> {
        let inner = build_resolver(&settings.nameservers, settings.timeout)?;
        Ok(Resolver { inner })
    }

    /// The records of type `t` at `name` (the resolver follows CNAMEs for other types).
    async fn query(&self, name: &str, t: HType) -> Lookup<RData> {
        let name = match fqdn(name) {
            Ok(n) => n,
            Err(e) => return Lookup::Failed(e),
        };
        match self.inner.lookup(name.clone(), t).await {
            Ok(l) => {
                let found: Vec<RData> = l
                    .answers()
                    .iter()
                    .filter(|r| r.record_type() == t)
                    .map(|r| r.data.clone())
                    .collect();
                if found.is_empty() {
                    Lookup::Missing
                } else {
                    Lookup::Found(found)
                }
            }
            Err(e) if e.is_no_records_found() => Lookup::Missing,
            Err(e) => Lookup::Failed(format!("{t} lookup of {}: {e}", name.to_ascii())),
        }
    }

    /// The A and AAAA records of `host`.
    pub async fn addresses(&self, host: &str) -> Lookup<IpAddr> {
        let mut all = Vec::new();
        let mut missing = 0;
        for t in [HType::A, HType::AAAA] {
            match self.query(host, t).await {
                Lookup::Found(rs) => all.extend(rs.into_iter().filter_map(|r| match r {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                    _ => None,
                })),
                Lookup::Missing => missing += 1,
                Lookup::Failed(e) => return Lookup::Failed(e),
            }
        }
        if missing == 2 || all.is_empty() {
            Lookup::Missing
        } else {
            Lookup::Found(all)
        }
    }

    /// The CNAME chain from `name`, followed until `want`, a name without CNAME, or
    /// [`MAX_CHAIN`] links.
    async fn chain(&self, name: &str, want: &str) -> Result<Vec<String>, String> {
        let mut chain: Vec<String> = Vec::new();
        let mut at = name.to_string();
        while chain.len() < MAX_CHAIN {
            let next = match self.query(&at, HType::CNAME).await {
                Lookup::Found(rs) => rs.into_iter().find_map(|r| match r {
                    RData::CNAME(c) => Some(c.0.to_ascii()),
                    _ => None,
                }),
                Lookup::Missing => None,
                Lookup::Failed(e) => return Err(e),
            };
            let Some(next) = next else { break };
            let next = super::compare::host(&next);
            let done = next == want || chain.contains(&next);
            chain.push(next.clone());
            if done {
                break;
            }
            at = next;
        }
        Ok(chain)
    }

    /// Everything the comparison needs about `e`; `platform` is the platform host's addresses.
    pub async fn answer(&self, e: &Expected, platform: &[IpAddr]) -> Answer {
        match e.rtype {
            RecordType::Mx => Answer::Mx(map(self.query(&e.name, HType::MX).await, |r| match r {
                RData::MX(m) => Some((m.preference, m.exchange.to_ascii())),
                _ => None,
            })),
            RecordType::Txt => {
                Answer::Txt(map(self.query(&e.name, HType::TXT).await, |r| match r {
                    // RFC 7208 §3.3, RFC 6376 §3.6.2.2: the strings of one record are joined.
                    RData::TXT(t) => Some(
                        t.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                }))
            }
            RecordType::Srv => {
                Answer::Srv(map(self.query(&e.name, HType::SRV).await, |r| match r {
                    RData::SRV(s) => Some(Srv {
                        priority: s.priority,
                        weight: s.weight,
                        port: s.port,
                        target: s.target.to_ascii(),
                    }),
                    _ => None,
                }))
            }
            RecordType::Cname => {
                let want = super::compare::host(&e.value);
                let chain = self.chain(&e.name, &want).await;
                let reached = matches!(&chain, Ok(c) if c.contains(&want));
                let addrs = if reached || chain.is_err() {
                    Lookup::Missing
                } else {
                    self.addresses(&e.name).await
                };
                debug_assert_eq!(e.purpose, Purpose::Cname);
                Answer::Cname(CnameAnswer {
                    chain,
                    addrs,
                    platform: platform.to_vec(),
                })
            }
        }
    }
}

fn map<T>(l: Lookup<RData>, f: impl Fn(RData) -> Option<T>) -> Lookup<T> {
    match l {
        Lookup::Found(rs) => {
            let v: Vec<T> = rs.into_iter().filter_map(f).collect();
            if v.is_empty() {
                Lookup::Missing
            } else {
                Lookup::Found(v)
            }
        }
        Lookup::Missing => Lookup::Missing,
        Lookup::Failed(e) => Lookup::Failed(e),
    }
}

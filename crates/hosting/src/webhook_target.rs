//! Where a webhook may be sent: a URL's host is resolved and every address it stands for must
//! be public. Loopback, private (RFC 1918), shared (RFC 6598), link-local (the cloud metadata
//! service at 169.254.169.254 among them), unique-local, multicast, documentation and other
//! special-purpose ranges (RFC 6890) are refused, whatever the spelling of the address
//! (`localhost`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`, `[::1]`, `[::ffff:127.0.0.1]`),
//! unless the provider allows a range (`[webhooks] allow_networks`). The platform's own
//! listeners are refused even then: a webhook must not be a way to talk to the platform itself.
//!
//! The check runs when a webhook is created or its URL changes, and again before every
//! delivery, which connects only to the addresses vetted then: a name that resolves to
//! something else at delivery time (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::dns::compare::Lookup;
use crate::dns::resolve::Resolver;

use crate::Hosting;

pub use marque_session::Network;

/// What webhooks may reach: the ranges the provider allows on top of the public internet,
/// and the platform's own listeners, which stay refused.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// `[webhooks] allow_networks`.
    pub allow: Vec<Network>,
    /// The addresses the platform listens on (the admin API's among them).
    pub own: Vec<SocketAddr>,
}

/// Why an address is not on the public internet (RFC 6890 and its updates), if it is not.
pub fn special(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(a) => special_v4(a),
        IpAddr::V6(a) => special_v6(a),
    }
}

fn special_v4(a: Ipv4Addr) -> Option<&'static str> {
    let [o0, o1, o2, _] = a.octets();
    Some(match (o0, o1, o2) {
        (0, _, _) => "an unspecified address (0.0.0.0/8)",
        (127, _, _) => "a loopback address",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address (RFC 1918)",
        (100, 64..=127, _) => "a shared address (CGNAT, RFC 6598)",
        (169, 254, _) => "a link-local address (the cloud metadata service lives here)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address (RFC 5737)",
        (198, 18..=19, _) => "a benchmarking address (RFC 2544)",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn special_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    if a.is_unspecified() {
        return Some("the unspecified address (::)");
    }
    if a.is_loopback() {
        return Some("a loopback address");
    }
    // RFC 6052: the well-known NAT64 prefix carries an IPv4 address; RFC 4291 §2.5.5.1:
    // IPv4-compatible addresses (deprecated) too.
    if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4]) || s[0..6] == [0; 6] {
        let v4 = Ipv4Addr::from(u32::from(s[6]) << 16 | u32::from(s[7]));
        return special_v4(v4).or(Some("an IPv6 address that embeds an IPv4 address"));
    }
    Some(match s[0] {
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xfc00..=0xfdff => "a unique-local address (fc00::/7)",
        0xff00..=0xffff => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address (2001:db8::/32)",
        0x0100 if s[1..4] == [0; 3] => "a discard-only address (100::/64)",
        0x2002 => "a 6to4 address, which embeds an IPv4 address",
        _ => return None,
    })
}

/// Reads an IPv4 address in any spelling `inet_aton` accepts (what a connect by name would
/// do with it): one to four parts, each decimal, octal (leading `0`) or hexadecimal (`0x`),
/// the last filling the remaining bytes: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`.
/// `None` if `host` is not written as a number.
fn ipv4_any_spelling(host: &str) -> Option<Result<Ipv4Addr, String>> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    let number = |p: &str| -> Option<u64> {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or(p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (p, 10)
        };
        if digits.is_empty() {
            return (radix == 16).then_some(0);
        }
        if !digits.chars().all(|c| c.is_digit(radix)) || digits.len() > 20 {
            return None;
        }
        u64::from_str_radix(digits, radix).ok()
    };
    // A name whose last label is a number is read as an address (as URL parsers do); one
    // whose last label is a word is a DNS name.
    let last = parts.last()?;
    let numeric = |p: &str| {
        !p.is_empty()
            && (p.bytes().all(|b| b.is_ascii_digit())
                || p.strip_prefix("0x")
                    .or(p.strip_prefix("0X"))
                    .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())))
    };
    if !numeric(last) {
        return None;
    }
    let bad = || Err(format!("{host:?} is not a valid IPv4 address"));
    if parts.len() > 4 {
        return Some(bad());
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        match number(p) {
            Some(v) => values.push(v),
            None => return Some(bad()),
        }
    }
    let (head, tail) = values.split_at(values.len() - 1);
    if head.iter().any(|v| *v > 255) {
        return Some(bad());
    }
    let tail_bits = 8 * (4 - head.len() as u32);
    if tail[0] >= 1u64 << tail_bits {
        return Some(bad());
    }
    let mut n: u64 = tail[0];
    for (i, v) in head.iter().enumerate() {
        n |= v << (24 - 8 * i as u32);
    }
    Some(Ok(Ipv4Addr::from(n as u32)))
}

/// A URL's host as a literal address, if it is one (bracketed IPv6, or IPv4 in any spelling).
pub fn literal(host: &str) -> Option<Result<IpAddr, String>> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        // RFC 6874 zone identifiers (`%25eth0`) are not for webhooks.
        return Some(
            inner
                .parse::<Ipv6Addr>()
                .map(IpAddr::V6)
                .map_err(|_| format!("{host:?} is not a valid IPv6 address")),
        );
    }
    ipv4_any_spelling(host).map(|r| r.map(IpAddr::V4))
}

/// The scheme, host and port of an `http` or `https` URL (already checked by
/// [`crate::webhook::validate_url`]).
pub fn host_and_port(url: &str) -> Result<(String, u16), String> {
    let lower = url.to_ascii_lowercase();
    let (rest, default) = if let Some(r) = lower.strip_prefix("https://") {
        (r, 443)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (r, 80)
    } else {
        return Err("only http and https URLs are accepted".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
            None => return Err("an IPv6 address needs its closing bracket".into()),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => default,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{p:?} is not a port"))?,
    };
    if host.is_empty() {
        return Err("the URL needs a host".into());
    }
    Ok((host.to_string(), port))
}

impl TargetPolicy {
    /// Refuses an address webhooks may not reach, saying why.
    pub fn vet(&self, addr: SocketAddr) -> Result<(), String> {
        let ip = addr.ip().to_canonical();
        let own = self.own.iter().any(|l| {
            l.port() == addr.port()
                && (l.ip().to_canonical() == ip
                    || (l.ip().is_unspecified() && (ip.is_loopback() || ip.is_unspecified())))
        });
        if own {
            return Err(format!("{addr} is one of the platform's own listeners"));
        }
        match special(ip) {
            Some(why) if !self.allow.iter().any(|n| n.contains(ip)) => Err(format!(
                "{ip} is {why}; webhooks go to public addresses only (the provider may allow \
                 a range in [webhooks] allow_networks)"
            )),
            _ => Ok(()),
        }
    }
}

/// Why a target was not sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// It is (or resolves to) an address webhooks may not reach: not worth retrying.
    Refused(String),
    /// Its name could not be resolved now: worth retrying.
    Unresolved(String),
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetError::Refused(why) | TargetError::Unresolved(why) => f.write_str(why),
        }
    }
}

impl Hosting {
    /// Sets what webhooks may reach besides public addresses, and the platform's listeners.
    pub fn with_webhook_targets(mut self, policy: TargetPolicy) -> Hosting {
        self.webhook_targets = std::sync::Arc::new(policy);
        self
    }

    /// The addresses a webhook URL may be sent to: its host resolved (a literal in any
    /// spelling read as the address it is, `localhost` and `*.localhost` as loopback, RFC 6761
    /// §6.3), every address vetted. One address that may not be reached refuses the whole
    /// URL, so that a name cannot mix a public address with an internal one.
    pub async fn webhook_addresses(&self, url: &str) -> Result<Vec<SocketAddr>, TargetError> {
        let (host, port) = host_and_port(url).map_err(TargetError::Refused)?;
        let bare = host.strip_suffix('.').unwrap_or(&host);
        let ips: Vec<IpAddr> = if let Some(ip) = literal(&host) {
            vec![ip.map_err(TargetError::Refused)?]
        } else if bare == "localhost" || bare.ends_with(".localhost") {
            vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]
        } else {
            let resolver = Resolver::new(self.dns_settings())
                .map_err(|e| TargetError::Unresolved(format!("cannot resolve {host}: {e}")))?;
            match resolver.addresses(bare).await {
                Lookup::Found(ips) => ips,
                Lookup::Missing => {
                    return Err(TargetError::Unresolved(format!(
                        "{host} has no address (no A or AAAA record)"
                    )));
                }
                Lookup::Failed(e) => {
                    return Err(TargetError::Unresolved(format!(
                        "cannot resolve {host}: {e}"
                    )));
                }
            }
        };
        let addrs: Vec<SocketAddr> = ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect();
        for a in &addrs {
            self.webhook_targets.vet(*a).map_err(|why| {
                let plain = host.trim_start_matches('[').trim_end_matches(']');
                let spelled = if literal(&host).is_some() && plain != a.ip().to_string() {
                    format!(" (written {host})")
                } else if literal(&host).is_none() {
                    format!(" ({host} resolves to it)")
                } else {
                    String::new()
                };
                TargetError::Refused(format!("{why}{spelled}"))
            })?;
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        match literal(s) {
            Some(Ok(ip)) => ip,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn every_spelling_of_loopback_is_read_as_loopback() {
        for s in [
            "127.0.0.1",
            "2130706433",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "0x7f000001",
            "127.1",
            "127.0.1",
            "017700000001",
            "127.0.0.1.",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[0:0:0:0:0:ffff:7f00:1]",
        ] {
            let a = ip(s);
            assert_eq!(special(a), Some("a loopback address"), "{s} read as {a}");
        }
        assert!(literal("example.com").is_none());
        assert!(literal("1.example").is_none());
        assert!(matches!(literal("256.1.1.1"), Some(Err(_))));
        assert!(matches!(literal("1.2.3.4.5"), Some(Err(_))));
        assert!(matches!(literal("example.0x10"), Some(Err(_))));
    }

    #[test]
    fn special_ranges_are_named() {
        for (s, public) in [
            ("10.0.0.1", false),
            ("172.31.255.1", false),
            ("172.32.0.1", true),
            ("192.168.1.1", false),
            ("100.64.0.1", false),
            ("100.128.0.1", true),
            ("169.254.169.254", false),
            ("0.0.0.0", false),
            ("224.0.0.1", false),
            ("255.255.255.255", false),
            ("192.0.2.1", false),
            ("8.8.8.8", true),
            ("[fc00::1]", false),
            ("[fd12::1]", false),
            ("[fe80::1]", false),
            ("[ff02::1]", false),
            ("[::ffff:10.0.0.1]", false),
            ("[::ffff:169.254.169.254]", false),
            ("[64:ff9b::a00:1]", false),
            ("[2001:db8::1]", false),
            ("[2606:4700::1111]", true),
        ] {
            assert_eq!(special(ip(s)).is_none(), public, "{s}");
        }
    }

    #[test]
    fn allowed_ranges_but_never_the_platform_itself() {
        let policy = TargetPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            own: vec![
                "127.0.0.1:8080".parse().unwrap(),
                "0.0.0.0:2525".parse().unwrap(),
            ],
        };
        assert!(policy.vet("127.0.0.2:80".parse().unwrap()).is_ok());
        assert!(policy.vet("[::ffff:127.0.0.2]:80".parse().unwrap()).is_ok());
        assert!(policy.vet("127.0.0.1:8080".parse().unwrap()).is_err());
        assert!(policy.vet("127.0.0.5:2525".parse().unwrap()).is_err());
        assert!(policy.vet("10.0.0.1:80".parse().unwrap()).is_err());
        assert!(policy.vet("[::1]:80".parse().unwrap()).is_err());
        assert!(
            TargetPolicy::default()
                .vet("127.0.0.2:80".parse().unwrap())
                .is_err()
        );
        assert!("10.1.0.0/8".parse::<Network>().is_err());
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("fd00::/8".parse::<Network>().is_ok());
        assert!(
            "0.0.0.0/0"
                .parse::<Network>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
    }

    #[test]
    fn hosts_and_ports_of_urls() {
        let hp = |u: &str| host_and_port(u).unwrap();
        assert_eq!(hp("http://a.example/x"), ("a.example".into(), 80));
        assert_eq!(hp("https://a.example:8443?q"), ("a.example".into(), 8443));
        assert_eq!(hp("http://[::1]:81/"), ("[::1]".into(), 81));
        assert_eq!(hp("http://2130706433/"), ("2130706433".into(), 80));
        assert!(host_and_port("http://a.example:0/").is_err());
        assert!(host_and_port("http://a.example:99999/").is_err());
    }
}

//! The PROXY protocol (HAProxy's `proxy-protocol.txt`, versions 1 and 2): a load balancer in
//! front of Marque opens each connection with a header that says who the client is.
//!
//! On a listener that enables it ([`crate::Listener::proxy_protocol`]), the header is required:
//! it is read before anything else (before the TLS handshake of an implicit-TLS listener),
//! within a time limit, and only from the trusted networks (the load balancers): a connection
//! from elsewhere, without a header, with a malformed one, or too slow, is closed and logged.
//! The client address it carries becomes the connection's peer, so logs, connection limits,
//! sign-in throttles, SPF and rate limits see the client, not the balancer. On a listener that
//! does not enable it, a header is just bad protocol input, as any other.
//!
//! The header is read byte-exactly (never a byte of what follows), so the session starts with
//! the client's first byte.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::network::Network;

/// The 12 bytes a version 2 header starts with (§2.2).
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 header, CRLF included (§2.1).
const V1_MAX: usize = 107;
/// The largest version 2 header accepted (fixed part, addresses and TLVs): more than any
/// balancer sends.
const V2_MAX: usize = 4096;
/// How long a client (the balancer) has to send the header, by default.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// A listener's PROXY protocol settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyProtocol {
    /// Peers that may send a header: the load balancers. Connections from anywhere else are
    /// closed.
    pub trusted: Vec<Network>,
    /// How long the header may take to arrive.
    pub timeout: Duration,
}

impl ProxyProtocol {
    /// Headers accepted from `trusted`, within [`HEADER_TIMEOUT`].
    pub fn new(trusted: Vec<Network>) -> Self {
        ProxyProtocol {
            trusted,
            timeout: HEADER_TIMEOUT,
        }
    }

    /// True if `peer` may send a header.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.trusted.iter().any(|n| n.contains(peer))
    }
}

/// What a header says about the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The client's address; `None` when the header gives none (v2 `LOCAL`, a health check of
    /// the balancer itself; an unspecified or Unix family; v1 `UNKNOWN`): the connection's own
    /// peer is then the client.
    pub source: Option<SocketAddr>,
    /// The address the client connected to (the balancer's), when given.
    pub destination: Option<SocketAddr>,
    /// The header's version (1 or 2).
    pub version: u8,
}

/// Why a header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// The connection does not start with either version's signature.
    #[error("no PROXY protocol header")]
    NoSignature,
    /// The header breaks the specification.
    #[error("malformed PROXY protocol header: {0}")]
    Malformed(&'static str),
    /// The connection ended inside the header.
    #[error("the connection ended inside the PROXY protocol header")]
    Truncated,
    /// The header did not arrive in time.
    #[error("no PROXY protocol header within the time limit")]
    Timeout,
    /// The peer is not a trusted balancer.
    #[error("PROXY protocol header from an untrusted peer")]
    Untrusted,
    /// The socket failed.
    #[error("reading the PROXY protocol header: {0}")]
    Io(String),
}

/// Parses a complete header at the start of `buf`: the header and its length, `Ok(None)` if
/// `buf` holds only the beginning of one.
pub fn parse(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        return parse_v2(buf);
    }
    let n = buf.len().min(6);
    if buf[..n] == b"PROXY "[..n] {
        return parse_v1(buf);
    }
    Err(ProxyError::NoSignature)
}

/// Version 2 (§2.2): signature, version and command, family and transport, length, addresses,
/// then TLVs (skipped).
fn parse_v2(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    if buf.len() < 16 {
        return Ok(None);
    }
    let (version, command) = (buf[12] >> 4, buf[12] & 0x0f);
    if version != 2 {
        return Err(ProxyError::Malformed("version is not 2"));
    }
    let local = match command {
        0x0 => true,
        0x1 => false,
        _ => return Err(ProxyError::Malformed("unknown command")),
    };
    let (family, transport) = (buf[13] >> 4, buf[13] & 0x0f);
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let total = 16 + len;
    if total > V2_MAX {
        return Err(ProxyError::Malformed("header too long"));
    }
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[16..total];
    if transport > 2 || family > 3 {
        return Err(ProxyError::Malformed("unknown family or transport"));
    }
    let mut header = Header {
        source: None,
        destination: None,
        version: 2,
    };
    // "LOCAL": the balancer's own connection (a health check); any address block is ignored.
    if local {
        return Ok(Some((header, total)));
    }
    // A stream listener only carries stream connections.
    if family != 0 && transport != 1 {
        return Err(ProxyError::Malformed("not a stream transport"));
    }
    match family {
        // INET: 4 + 4 address bytes, 2 + 2 port bytes.
        1 => {
            let a = body
                .get(..12)
                .ok_or(ProxyError::Malformed("IPv4 addresses cut short"))?;
            let ip = |o: usize| IpAddr::V4(Ipv4Addr::new(a[o], a[o + 1], a[o + 2], a[o + 3]));
            let port = |o: usize| u16::from_be_bytes([a[o], a[o + 1]]);
            header.source = Some(SocketAddr::new(ip(0), port(8)));
            header.destination = Some(SocketAddr::new(ip(4), port(10)));
        }
        // INET6: 16 + 16 address bytes, 2 + 2 port bytes.
        2 => {
            let a = body
                .get(..36)
                .ok_or(ProxyError::Malformed("IPv6 addresses cut short"))?;
            let ip = |o: usize| {
                let mut b = [0u8; 16];
                b.copy_from_slice(&a[o..o + 16]);
                IpAddr::V6(Ipv6Addr::from(b))
            };
            let port = |o: usize| u16::from_be_bytes([a[o], a[o + 1]]);
            header.source = Some(SocketAddr::new(ip(0), port(32)));
            header.destination = Some(SocketAddr::new(ip(16), port(34)));
        }
        // UNSPEC and UNIX carry no IP address: the connection's own endpoints stand.
        _ => {}
    }
    Ok(Some((header, total)))
}

/// Version 1 (§2.1): `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`, single spaces, at most
/// 107 bytes.
fn parse_v1(buf: &[u8]) -> Result<Option<(Header, usize)>, ProxyError> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() >= V1_MAX {
            return Err(ProxyError::Malformed("version 1 header without CRLF"));
        }
        if buf.contains(&b'\n') || buf.contains(&0) {
            return Err(ProxyError::Malformed("version 1 header with a stray byte"));
        }
        return Ok(None);
    };
    let total = end + 2;
    if total > V1_MAX {
        return Err(ProxyError::Malformed("version 1 header too long"));
    }
    let line = std::str::from_utf8(&buf[..end])
        .map_err(|_| ProxyError::Malformed("version 1 header is not ASCII"))?;
    let words: Vec<&str> = line.split(' ').collect();
    let header = |source, destination| {
        Ok(Some((
            Header {
                source,
                destination,
                version: 1,
            },
            total,
        )))
    };
    match words.as_slice() {
        // "UNKNOWN": whatever follows is ignored, and the connection's endpoints stand.
        ["PROXY", "UNKNOWN", ..] => header(None, None),
        ["PROXY", proto @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let v6 = *proto == "TCP6";
            let ip = |s: &str| -> Result<IpAddr, ProxyError> {
                let ip: IpAddr = s
                    .parse()
                    .map_err(|_| ProxyError::Malformed("bad address"))?;
                if ip.is_ipv6() != v6 {
                    return Err(ProxyError::Malformed("address of the wrong family"));
                }
                Ok(ip)
            };
            let port = |s: &str| -> Result<u16, ProxyError> {
                let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits || (s.len() > 1 && s.starts_with('0')) {
                    return Err(ProxyError::Malformed("bad port"));
                }
                s.parse().map_err(|_| ProxyError::Malformed("bad port"))
            };
            header(
                Some(SocketAddr::new(ip(src)?, port(sport)?)),
                Some(SocketAddr::new(ip(dst)?, port(dport)?)),
            )
        }
        _ => Err(ProxyError::Malformed("not a version 1 header")),
    }
}

/// Reads one header from `stream`, byte-exactly: nothing after it is consumed.
pub async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Header, ProxyError> {
    let mut buf = Vec::with_capacity(64);
    // Enough to tell the versions apart ("PROXY " or the first bytes of the signature).
    fill(stream, &mut buf, 6).await?;
    if buf.starts_with(b"PROXY ") {
        // Version 1 has no length: read up to its CRLF, one byte at a time.
        loop {
            if let Some((header, _)) = parse(&buf)? {
                return Ok(header);
            }
            let want = buf.len() + 1;
            fill(stream, &mut buf, want).await?;
        }
    }
    fill(stream, &mut buf, 16).await?;
    match parse(&buf)? {
        Some((header, _)) => Ok(header),
        None => {
            let total = 16 + usize::from(u16::from_be_bytes([buf[14], buf[15]]));
            fill(stream, &mut buf, total).await?;
            parse(&buf)?.map(|(h, _)| h).ok_or(ProxyError::Truncated)
        }
    }
}

/// Reads into `buf` until it holds `want` bytes, checking the prefix as it grows.
async fn fill<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    want: usize,
) -> Result<(), ProxyError> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        let n = stream
            .read(&mut buf[start..])
            .await
            .map_err(|e| ProxyError::Io(e.to_string()))?;
        buf.truncate(start + n);
        if n == 0 {
            return Err(ProxyError::Truncated);
        }
        // Refuse early what cannot become a header.
        parse(buf)?;
    }
    Ok(())
}

/// Reads the header a connection from `peer` must start with under `settings`: refused at
/// once from an untrusted peer, and after `settings.timeout` if it has not arrived.
pub async fn accept<S: AsyncRead + Unpin>(
    stream: &mut S,
    peer: IpAddr,
    settings: &ProxyProtocol,
) -> Result<Header, ProxyError> {
    if !settings.trusts(peer) {
        return Err(ProxyError::Untrusted);
    }
    tokio::time::timeout(settings.timeout, read_header(stream))
        .await
        .map_err(|_| ProxyError::Timeout)?
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;

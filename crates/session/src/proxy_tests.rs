//! The PROXY protocol parser against the specification's layouts and examples.

use super::*;

/// A version 2 header: `command` (0 LOCAL, 1 PROXY), family and transport byte, then `body`.
fn v2(command: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut h = V2_SIGNATURE.to_vec();
    h.push(0x20 | command);
    h.push(fam);
    h.extend_from_slice(&(body.len() as u16).to_be_bytes());
    h.extend_from_slice(body);
    h
}

/// TCP over IPv4 (0x11): 192.0.2.7:51000 to 198.51.100.1:25.
fn tcp4_body() -> Vec<u8> {
    let mut b = vec![192, 0, 2, 7, 198, 51, 100, 1];
    b.extend_from_slice(&51000u16.to_be_bytes());
    b.extend_from_slice(&25u16.to_be_bytes());
    b
}

fn addr(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn v2_tcp4_gives_both_endpoints() {
    let h = v2(1, 0x11, &tcp4_body());
    assert_eq!(h.len(), 28);
    let (header, len) = parse(&h).unwrap().unwrap();
    assert_eq!(len, 28);
    assert_eq!(header.source, addr("192.0.2.7:51000"));
    assert_eq!(header.destination, addr("198.51.100.1:25"));
    assert_eq!(header.version, 2);
}

#[test]
fn v2_tcp6_gives_both_endpoints_and_skips_tlvs() {
    let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: Ipv6Addr = "2001:db8::25".parse().unwrap();
    let mut body = src.octets().to_vec();
    body.extend_from_slice(&dst.octets());
    body.extend_from_slice(&443u16.to_be_bytes());
    body.extend_from_slice(&993u16.to_be_bytes());
    // A PP2_TYPE_NOOP TLV (0x04) of 3 bytes after the addresses (§2.2.8).
    body.extend_from_slice(&[0x04, 0x00, 0x03, 1, 2, 3]);
    let h = v2(1, 0x21, &body);
    let (header, len) = parse(&h).unwrap().unwrap();
    assert_eq!(len, 16 + 36 + 6);
    assert_eq!(header.source, addr("[2001:db8::1]:443"));
    assert_eq!(header.destination, addr("[2001:db8::25]:993"));
}

#[test]
fn v2_local_keeps_the_connections_own_endpoints() {
    // LOCAL with no address block (what HAProxy sends for its health checks)...
    let (header, len) = parse(&v2(0, 0x00, &[])).unwrap().unwrap();
    assert_eq!((header.source, header.destination, len), (None, None, 16));
    // ...and with one, which the receiver must ignore (§2.2).
    let (header, len) = parse(&v2(0, 0x11, &tcp4_body())).unwrap().unwrap();
    assert_eq!((header.source, len), (None, 28));
}

#[test]
fn v2_unspec_and_unix_carry_no_ip() {
    let (header, _) = parse(&v2(1, 0x00, &[])).unwrap().unwrap();
    assert_eq!(header.source, None);
    let (header, len) = parse(&v2(1, 0x31, &[0u8; 216])).unwrap().unwrap();
    assert_eq!((header.source, len), (None, 232));
}

#[test]
fn every_prefix_of_a_header_is_incomplete_not_wrong() {
    for h in [
        v2(1, 0x11, &tcp4_body()),
        b"PROXY TCP4 192.0.2.7 198.51.100.1 51000 25\r\n".to_vec(),
    ] {
        for cut in 0..h.len() {
            assert_eq!(parse(&h[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse(&h).unwrap().is_some());
    }
}

#[test]
fn v2_headers_that_break_the_rules_are_refused() {
    let bad = |h: Vec<u8>| parse(&h).unwrap_err();
    // A wrong byte anywhere in the signature.
    for i in 0..12 {
        let mut h = v2(1, 0x11, &tcp4_body());
        h[i] ^= 0x40;
        assert!(parse(&h).is_err(), "signature byte {i}");
    }
    // Version 1 in the version nibble, an unknown command, family or transport.
    let mut h = v2(1, 0x11, &tcp4_body());
    h[12] = 0x11;
    assert_eq!(bad(h), ProxyError::Malformed("version is not 2"));
    assert_eq!(
        bad(v2(2, 0x11, &tcp4_body())),
        ProxyError::Malformed("unknown command")
    );
    assert!(matches!(
        bad(v2(1, 0x41, &tcp4_body())),
        ProxyError::Malformed(_)
    ));
    assert!(matches!(
        bad(v2(1, 0x13, &tcp4_body())),
        ProxyError::Malformed(_)
    ));
    // A datagram over a stream listener.
    assert_eq!(
        bad(v2(1, 0x12, &tcp4_body())),
        ProxyError::Malformed("not a stream transport")
    );
    // A length too short for the family's addresses.
    assert!(matches!(
        bad(v2(1, 0x11, &[0u8; 11])),
        ProxyError::Malformed(_)
    ));
    assert!(matches!(
        bad(v2(1, 0x21, &[0u8; 35])),
        ProxyError::Malformed(_)
    ));
    // A length past what any balancer sends.
    let mut h = v2(1, 0x11, &tcp4_body());
    h[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(bad(h), ProxyError::Malformed("header too long"));
}

#[test]
fn v1_examples_of_the_specification() {
    // The longest headers of each family (§2.1): 56 and 104 bytes.
    let h = b"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
    let (header, len) = parse(h).unwrap().unwrap();
    assert_eq!(len, h.len());
    assert_eq!(header.source, addr("255.255.255.255:65535"));
    let h = b"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff \
ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    assert_eq!(h.len(), 104);
    let (header, _) = parse(h).unwrap().unwrap();
    assert_eq!(
        header.destination,
        addr("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")
    );
    // UNKNOWN, bare and with anything after it.
    let (header, len) = parse(b"PROXY UNKNOWN\r\nEHLO").unwrap().unwrap();
    assert_eq!((header.source, header.version, len), (None, 1, 15));
    let h = b"PROXY UNKNOWN ffff:f::f ffff:f::f 65535 65535\r\n";
    assert_eq!(parse(h).unwrap().unwrap().0.source, None);
    // An ordinary one, with the client's first bytes after it.
    let h = b"PROXY TCP4 192.0.2.7 198.51.100.1 51000 25\r\nEHLO x\r\n";
    let (header, len) = parse(h).unwrap().unwrap();
    assert_eq!(header.source, addr("192.0.2.7:51000"));
    assert_eq!(&h[len..], b"EHLO x\r\n");
}

#[test]
fn v1_headers_that_break_the_rules_are_refused() {
    for h in [
        &b"PROXY TCP4 192.0.2.7 198.51.100.1 51000\r\n"[..],
        b"PROXY TCP4 192.0.2.7  198.51.100.1 51000 25\r\n",
        b"PROXY TCP4 2001:db8::1 198.51.100.1 51000 25\r\n",
        b"PROXY TCP6 192.0.2.7 198.51.100.1 51000 25\r\n",
        b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n",
        b"PROXY TCP4 192.0.2.7 198.51.100.1 +80 25\r\n",
        b"PROXY TCP4 192.0.2.7 198.51.100.1 080 25\r\n",
        b"PROXY UDP4 192.0.2.7 198.51.100.1 51000 25\r\n",
        b"PROXY tcp4 192.0.2.7 198.51.100.1 51000 25\r\n",
        b"PROXY TCP4 192.0.2.7 198.51.100.1 51000 25\n",
    ] {
        assert!(
            matches!(parse(h), Err(ProxyError::Malformed(_))),
            "{}",
            String::from_utf8_lossy(h)
        );
    }
    // No CRLF within 107 bytes.
    let long = format!("PROXY UNKNOWN {}", "x".repeat(120));
    assert!(matches!(
        parse(long.as_bytes()),
        Err(ProxyError::Malformed(_))
    ));
    // Not a header at all.
    assert_eq!(parse(b"EHLO client\r\n"), Err(ProxyError::NoSignature));
    assert_eq!(parse(b"\x16\x03\x01"), Err(ProxyError::NoSignature));
}

#[tokio::test]
async fn reading_takes_the_header_and_nothing_more() {
    for mut h in [
        v2(1, 0x11, &tcp4_body()),
        b"PROXY TCP4 192.0.2.7 198.51.100.1 51000 25\r\n".to_vec(),
    ] {
        h.extend_from_slice(b"EHLO client\r\n");
        let (mut client, mut server) = tokio::io::duplex(1024);
        tokio::io::AsyncWriteExt::write_all(&mut client, &h)
            .await
            .unwrap();
        let header = read_header(&mut server).await.unwrap();
        assert_eq!(header.source, addr("192.0.2.7:51000"));
        let mut rest = [0u8; 13];
        server.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"EHLO client\r\n");
    }
}

#[tokio::test]
async fn a_header_cut_short_by_the_connection_is_truncated() {
    let h = v2(1, 0x11, &tcp4_body());
    for cut in [0, 5, 15, 20] {
        let (mut client, mut server) = tokio::io::duplex(1024);
        tokio::io::AsyncWriteExt::write_all(&mut client, &h[..cut])
            .await
            .unwrap();
        drop(client);
        assert_eq!(
            read_header(&mut server).await,
            Err(ProxyError::Truncated),
            "cut at {cut}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_header_that_does_not_arrive_times_out_and_untrusted_peers_are_refused() {
    let settings = ProxyProtocol::new(vec!["10.0.0.0/8".parse().unwrap()]);
    let (mut client, mut server) = tokio::io::duplex(1024);
    let h = v2(1, 0x11, &tcp4_body());
    tokio::io::AsyncWriteExt::write_all(&mut client, &h[..10])
        .await
        .unwrap();
    let peer: IpAddr = "10.1.2.3".parse().unwrap();
    assert_eq!(
        accept(&mut server, peer, &settings).await,
        Err(ProxyError::Timeout)
    );
    let stranger: IpAddr = "192.0.2.9".parse().unwrap();
    assert_eq!(
        accept(&mut server, stranger, &settings).await,
        Err(ProxyError::Untrusted)
    );
    // An IPv4 balancer seen through an IPv6 socket is still trusted.
    assert!(settings.trusts("::ffff:10.0.0.1".parse().unwrap()));
    assert!(!settings.trusts("::1".parse().unwrap()));
}

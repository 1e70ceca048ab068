//! A DNS server on loopback for tests: authoritative in-memory zones (TXT, A, MX) served by
//! `hickory-server` over UDP and TCP on one port of 127.0.0.1, so that SPF, DKIM and DMARC
//! (and MX lookups) can be tested without leaving the machine.
//!
//! ```ignore
//! let dns = dns::serve(vec![
//!     dns::Zone::new("sender.example")
//!         .txt("sender.example", "v=spf1 ip4:127.0.0.2 -all")
//!         .txt("_dmarc.sender.example", "v=DMARC1; p=reject"),
//! ])
//! .await;
//! config.nameservers = vec![dns.addr];
//! ```
//!
//! An empty root zone is always served too, so that every other name gets an authoritative
//! `NXDOMAIN`, as on the Internet for a name that does not exist (DMARC's tree walk asks for
//! `_dmarc.<parent>` up to the top-level domain, RFC 9989 §4.10).

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, MX, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

const TTL: u32 = 60;

fn name(n: &str) -> Name {
    let fqdn = if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    };
    Name::from_ascii(&fqdn).unwrap_or_else(|e| panic!("bad DNS name {n}: {e}"))
}

/// One zone and its records.
pub struct Zone {
    origin: Name,
    records: Vec<Record>,
}

impl Zone {
    pub fn new(origin: &str) -> Zone {
        let origin = name(origin);
        let soa = SOA::new(
            name("ns.test.invalid"),
            name("hostmaster.test.invalid"),
            1,
            3600,
            600,
            86400,
            TTL,
        );
        Zone {
            records: vec![Record::from_rdata(origin.clone(), TTL, RData::SOA(soa))],
            origin,
        }
    }

    /// A TXT record; values longer than 255 bytes are split into several strings
    /// (RFC 1035 §3.3.14), as DKIM keys need.
    pub fn txt(mut self, owner: &str, value: &str) -> Zone {
        let parts: Vec<String> = value
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        self.records.push(Record::from_rdata(
            name(owner),
            TTL,
            RData::TXT(TXT::new(parts)),
        ));
        self
    }

    pub fn a(mut self, owner: &str, ip: Ipv4Addr) -> Zone {
        self.records
            .push(Record::from_rdata(name(owner), TTL, RData::A(A(ip))));
        self
    }

    pub fn mx(mut self, owner: &str, preference: u16, exchange: &str) -> Zone {
        self.records.push(Record::from_rdata(
            name(owner),
            TTL,
            RData::MX(MX::new(preference, name(exchange))),
        ));
        self
    }
}

/// A running server; stops when dropped.
pub struct TestDns {
    pub addr: SocketAddr,
    server: Server<Catalog>,
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.server.shutdown_token().cancel();
    }
}

/// Serves `zones` on 127.0.0.1, UDP and TCP on the same port.
pub async fn serve(mut zones: Vec<Zone>) -> TestDns {
    zones.push(Zone::new("."));
    let mut catalog = Catalog::new();
    for zone in zones {
        let mut handler: InMemoryZoneHandler =
            InMemoryZoneHandler::empty(zone.origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        for r in zone.records {
            assert!(handler.upsert_mut(r, 1), "record outside {}", zone.origin);
        }
        let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
        catalog.upsert(LowerName::new(&zone.origin), vec![handler]);
    }
    // The same port for UDP and TCP (truncated answers are asked again over TCP).
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("udp addr");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().expect("udp addr");
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(10), 65_535);
    TestDns { addr, server }
}

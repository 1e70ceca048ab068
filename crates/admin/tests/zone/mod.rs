//! A DNS server on loopback for the DNS check tests: authoritative in-memory zones served by
//! `hickory-server` over UDP and TCP on one port of 127.0.0.1, whose records a test can
//! replace while it runs (to fix a wrong record and check again).
//!
//! An empty root zone is served too, so that every other name gets an authoritative NXDOMAIN.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, CNAME, MX, SOA, SRV, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use tokio::net::{TcpListener, UdpSocket};

const TTL: u32 = 60;

pub fn name(n: &str) -> Name {
    let fqdn = if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    };
    Name::from_ascii(&fqdn).unwrap_or_else(|e| panic!("bad DNS name {n}: {e}"))
}

/// A record from zone-file-like parts: `rr("mail.c.example", "CNAME", "mx.platform.test")`.
pub fn rr(owner: &str, rtype: &str, value: &str) -> Record {
    let data = match rtype {
        "A" => RData::A(A(value.parse::<Ipv4Addr>().expect("IPv4 address"))),
        "CNAME" => RData::CNAME(CNAME(name(value))),
        "MX" => {
            let (pref, host) = value.split_once(' ').expect("MX: PREF HOST");
            RData::MX(MX::new(pref.parse().expect("preference"), name(host)))
        }
        // Longer than 255 bytes: several strings (RFC 1035 §3.3.14), as DKIM keys need.
        "TXT" => RData::TXT(TXT::new(
            value
                .as_bytes()
                .chunks(255)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect(),
        )),
        "SRV" => {
            let p: Vec<&str> = value.split_whitespace().collect();
            assert_eq!(p.len(), 4, "SRV: PRIORITY WEIGHT PORT TARGET");
            RData::SRV(SRV::new(
                p[0].parse().expect("priority"),
                p[1].parse().expect("weight"),
                p[2].parse().expect("port"),
                name(p[3]),
            ))
        }
        other => panic!("record type {other} not supported here"),
    };
    Record::from_rdata(name(owner), TTL, data)
}

/// A running server; stops when dropped.
pub struct TestDns {
    pub addr: SocketAddr,
    zones: Vec<(Name, Arc<InMemoryZoneHandler>)>,
    server: Server<Catalog>,
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.server.shutdown_token().cancel();
    }
}

impl TestDns {
    fn zone_of(&self, owner: &Name) -> &Arc<InMemoryZoneHandler> {
        self.zones
            .iter()
            .filter(|(origin, _)| origin.zone_of(owner))
            .max_by_key(|(origin, _)| origin.num_labels())
            .map(|(_, z)| z)
            .unwrap_or_else(|| panic!("no zone for {owner}"))
    }

    /// Adds a record (to the set of its name and type).
    pub async fn add(&self, record: Record) {
        let owner = record.name.clone();
        assert!(
            self.zone_of(&owner).upsert(record, 2).await,
            "record {owner} not added"
        );
    }

    /// Removes every record of `rtype` at `owner`.
    pub async fn remove(&self, owner: &str, rtype: RecordType) {
        let n = name(owner);
        let key = RrKey::new(LowerName::new(&n), rtype);
        self.zone_of(&n).records_mut().await.remove(&key);
    }
}

/// Serves empty zones for `origins` (and the root) on 127.0.0.1, UDP and TCP on one port.
pub async fn serve(origins: &[&str]) -> TestDns {
    let mut catalog = Catalog::new();
    let mut zones = Vec::new();
    for origin in origins.iter().copied().chain(["."]) {
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
        let mut handler: InMemoryZoneHandler =
            InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        assert!(handler.upsert_mut(Record::from_rdata(origin.clone(), TTL, RData::SOA(soa)), 1));
        let handler = Arc::new(handler);
        let dyn_handler: Arc<dyn ZoneHandler> = handler.clone();
        catalog.upsert(LowerName::new(&origin), vec![dyn_handler]);
        zones.push((origin, handler));
    }
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
    TestDns {
        addr,
        zones,
        server,
    }
}

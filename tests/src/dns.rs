//! A DNS server on loopback for tests: authoritative in-memory zones served by
//! `hickory-server` over UDP and TCP on one port of 127.0.0.1, so that SPF, DKIM, DMARC, MX
//! lookups and the DNS checks of domains can be tested without leaving the machine. A test can
//! change the records while the server runs (to fix a wrong record and check again).
//!
//! ```ignore
//! let dns = dns::serve([
//!     Zone::new("sender.example")
//!         .txt("sender.example", "v=spf1 ip4:127.0.0.2 -all")
//!         .txt("_dmarc.sender.example", "v=DMARC1; p=reject"),
//! ])
//! .await;
//! config.nameservers = vec![dns.addr];
//! dns.add(rr("mail.sender.example", "CNAME", "mx.platform.test")).await;
//! ```
//!
//! An empty root zone is always served too, so that every other name gets an authoritative
//! `NXDOMAIN`, as on the Internet for a name that does not exist (DMARC's tree walk asks for
//! `_dmarc.<parent>` up to the top-level domain, RFC 9989 §4.10).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
pub use hickory_server::proto::rr::RecordType;
use hickory_server::proto::rr::rdata::{A, CNAME, MX, SOA, SRV, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RrKey};
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

/// A TXT value; longer than 255 bytes, several strings (RFC 1035 §3.3.14), as DKIM keys need.
fn txt(value: &str) -> RData {
    RData::TXT(TXT::new(
        value
            .as_bytes()
            .chunks(255)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect(),
    ))
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
        "TXT" => txt(value),
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

/// One zone and its records.
pub struct Zone {
    origin: Name,
    records: Vec<Record>,
}

impl Zone {
    /// An empty zone (only its SOA).
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

    pub fn txt(mut self, owner: &str, value: &str) -> Zone {
        self.records
            .push(Record::from_rdata(name(owner), TTL, txt(value)));
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

/// Serves `zones` (and the empty root) on 127.0.0.1, UDP and TCP on the same port.
pub async fn serve(zones: impl IntoIterator<Item = Zone>) -> TestDns {
    let mut catalog = Catalog::new();
    let mut served = Vec::new();
    for zone in zones.into_iter().chain([Zone::new(".")]) {
        let mut handler: InMemoryZoneHandler =
            InMemoryZoneHandler::empty(zone.origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        for r in zone.records {
            assert!(handler.upsert_mut(r, 1), "record outside {}", zone.origin);
        }
        let handler = Arc::new(handler);
        let dyn_handler: Arc<dyn ZoneHandler> = handler.clone();
        catalog.upsert(LowerName::new(&zone.origin), vec![dyn_handler]);
        served.push((zone.origin, handler));
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
    TestDns {
        addr,
        zones: served,
        server,
    }
}

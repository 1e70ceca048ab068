//! The records a domain `D` must publish, as a pure function (no store, no network):
//!
//! | type  | name                      | value |
//! |-------|---------------------------|-------|
//! | MX    | `D`                       | `10 mail.D` |
//! | CNAME | `mail.D`                  | the platform host |
//! | TXT   | `D`                       | `v=spf1 mx a:<platform host> [ip4:/ip6:<source>] -all` |
//! | TXT   | `<selector>._domainkey.D` | each DKIM key (`v=DKIM1; k=...; p=...`) |
//! | TXT   | `_dmarc.D`                | `v=DMARC1; p=<policy>; rua=mailto:postmaster@D` |
//! | CNAME | `autoconfig.D`, `autodiscover.D`, `mta-sts.D` | the platform host |
//! | TXT   | `_mta-sts.D`              | `v=STSv1; id=<id>` (RFC 8461 §3.1) |
//! | SRV   | `_imaps._tcp.D`, `_submission._tcp.D`, `_submissions._tcp.D`, `_pop3s._tcp.D` | `0 1 <public port> mail.D` (RFC 6186, RFC 8314 §5.1) |

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{DnsSettings, RecordType};
use crate::dkim::DkimRecord;

/// Which rule decides whether what DNS holds is right (see [`super::compare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// The domain's MX.
    Mx,
    /// A name that must point at the platform host.
    Cname,
    /// The SPF policy (RFC 7208).
    Spf,
    /// A DKIM public key (RFC 6376 §3.6.1).
    Dkim,
    /// The DMARC policy (RFC 7489 §6.1).
    Dmarc,
    /// The MTA-STS policy id (RFC 8461 §3.1).
    MtaSts,
    /// A service record for mail clients (RFC 6186).
    Srv,
}

/// One record a domain must publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// The owner name, without the trailing dot.
    pub name: String,
    /// The value as it is written in a zone file (TXT without quotes).
    pub value: String,
    pub purpose: Purpose,
}

/// What the expected records depend on besides the settings.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The domain, lowercase, without the trailing dot.
    pub domain: &'a str,
    /// The domain's DKIM records ([`crate::dkim::dkim_records`]).
    pub dkim: &'a [DkimRecord],
    /// The dedicated outbound source address of the domain or its tenant, if any.
    pub source_ip: Option<IpAddr>,
}

/// The host the domain's users and MX use: `mail.D`.
pub fn mail_host(domain: &str) -> String {
    format!("mail.{domain}")
}

/// The MTA-STS policy id: it must change when the policy does (RFC 8461 §3.1), and the policy
/// names the domain's MX host, so the id is derived from that host: stable across checks and
/// restarts, 20 hexadecimal characters (the id allows 1 to 32 alphanumerics).
pub fn mta_sts_id(domain: &str) -> String {
    let digest = Sha256::digest(format!("mx: {}\n", mail_host(domain)).as_bytes());
    hex::encode(&digest[..10])
}

/// The SPF record: the domain's MX and the platform host may send, and the dedicated source
/// address if there is one; nothing else (`-all`).
pub fn spf_value(platform_host: &str, source_ip: Option<IpAddr>) -> String {
    let mut v = format!("v=spf1 mx a:{platform_host}");
    match source_ip {
        Some(IpAddr::V4(ip)) => v.push_str(&format!(" ip4:{ip}")),
        Some(IpAddr::V6(ip)) => v.push_str(&format!(" ip6:{ip}")),
        None => {}
    }
    v.push_str(" -all");
    v
}

/// Every record `inputs.domain` must publish, in a stable order.
pub fn expected(settings: &DnsSettings, inputs: Inputs<'_>) -> Vec<Expected> {
    let d = inputs.domain.trim_end_matches('.');
    let host = settings.platform_host.trim_end_matches('.');
    let mail = mail_host(d);
    let record = |rtype, name: String, value: String, purpose| Expected {
        rtype,
        name,
        value,
        purpose,
    };
    let mut out = vec![
        record(RecordType::Mx, d.into(), format!("10 {mail}"), Purpose::Mx),
        record(RecordType::Cname, mail.clone(), host.into(), Purpose::Cname),
        record(
            RecordType::Txt,
            d.into(),
            spf_value(host, inputs.source_ip),
            Purpose::Spf,
        ),
    ];
    for k in inputs.dkim {
        out.push(record(
            RecordType::Txt,
            k.txt_name.clone(),
            k.txt_value.clone(),
            Purpose::Dkim,
        ));
    }
    out.push(record(
        RecordType::Txt,
        format!("_dmarc.{d}"),
        format!(
            "v=DMARC1; p={}; rua=mailto:postmaster@{d}",
            settings.dmarc_policy.as_str()
        ),
        Purpose::Dmarc,
    ));
    for label in ["autoconfig", "autodiscover", "mta-sts"] {
        out.push(record(
            RecordType::Cname,
            format!("{label}.{d}"),
            host.into(),
            Purpose::Cname,
        ));
    }
    out.push(record(
        RecordType::Txt,
        format!("_mta-sts.{d}"),
        format!("v=STSv1; id={}", mta_sts_id(d)),
        Purpose::MtaSts,
    ));
    let p = settings.public_ports;
    for (service, port) in [
        ("imaps", p.imaps),
        ("submission", p.submission),
        ("submissions", p.submissions),
        ("pop3s", p.pop3s),
    ] {
        out.push(record(
            RecordType::Srv,
            format!("_{service}._tcp.{d}"),
            format!("0 1 {port} {mail}"),
            Purpose::Srv,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::DkimAlgorithm;
    use crate::dns::{DmarcPolicy, PublicPorts};

    fn settings() -> DnsSettings {
        DnsSettings {
            platform_host: "mx.platform.example.".into(),
            ..DnsSettings::default()
        }
    }

    fn dkim() -> Vec<DkimRecord> {
        vec![DkimRecord {
            selector: "marque-ed-202611".into(),
            algorithm: DkimAlgorithm::Ed25519,
            txt_name: "marque-ed-202611._domainkey.c.example".into(),
            txt_value: "v=DKIM1; k=ed25519; p=AAAA".into(),
        }]
    }

    fn find<'a>(all: &'a [Expected], rtype: RecordType, name: &str) -> &'a Expected {
        all.iter()
            .find(|e| e.rtype == rtype && e.name == name)
            .unwrap_or_else(|| panic!("no {rtype:?} {name} in {all:#?}"))
    }

    #[test]
    fn every_record_of_a_domain() {
        let dkim = dkim();
        let all = expected(
            &settings(),
            Inputs {
                domain: "c.example",
                dkim: &dkim,
                source_ip: None,
            },
        );
        assert_eq!(all.len(), 13, "{all:#?}");
        assert_eq!(
            find(&all, RecordType::Mx, "c.example").value,
            "10 mail.c.example"
        );
        assert_eq!(
            find(&all, RecordType::Cname, "mail.c.example").value,
            "mx.platform.example"
        );
        let spf = find(&all, RecordType::Txt, "c.example");
        assert_eq!(spf.value, "v=spf1 mx a:mx.platform.example -all");
        assert_eq!(spf.purpose, Purpose::Spf);
        let key = find(
            &all,
            RecordType::Txt,
            "marque-ed-202611._domainkey.c.example",
        );
        assert_eq!(key.value, "v=DKIM1; k=ed25519; p=AAAA");
        assert_eq!(
            find(&all, RecordType::Txt, "_dmarc.c.example").value,
            "v=DMARC1; p=quarantine; rua=mailto:postmaster@c.example"
        );
        for n in ["autoconfig", "autodiscover", "mta-sts"] {
            let e = find(&all, RecordType::Cname, &format!("{n}.c.example"));
            assert_eq!(e.value, "mx.platform.example");
        }
        let sts = find(&all, RecordType::Txt, "_mta-sts.c.example");
        assert_eq!(
            sts.value,
            format!("v=STSv1; id={}", mta_sts_id("c.example"))
        );
        for (n, port) in [
            ("_imaps", 993),
            ("_submission", 587),
            ("_submissions", 465),
            ("_pop3s", 995),
        ] {
            let e = find(&all, RecordType::Srv, &format!("{n}._tcp.c.example"));
            assert_eq!(e.value, format!("0 1 {port} mail.c.example"));
        }
    }

    #[test]
    fn source_address_ports_and_policy() {
        let s = DnsSettings {
            public_ports: PublicPorts {
                imaps: 10993,
                ..PublicPorts::default()
            },
            dmarc_policy: DmarcPolicy::Reject,
            ..settings()
        };
        let v4 = expected(
            &s,
            Inputs {
                domain: "c.example",
                dkim: &[],
                source_ip: Some("192.0.2.7".parse().unwrap()),
            },
        );
        assert_eq!(
            find(&v4, RecordType::Txt, "c.example").value,
            "v=spf1 mx a:mx.platform.example ip4:192.0.2.7 -all"
        );
        assert_eq!(
            find(&v4, RecordType::Srv, "_imaps._tcp.c.example").value,
            "0 1 10993 mail.c.example"
        );
        assert!(
            find(&v4, RecordType::Txt, "_dmarc.c.example")
                .value
                .contains("p=reject;")
        );
        assert_eq!(
            spf_value("h", Some("2001:db8::1".parse().unwrap())),
            "v=spf1 mx a:h ip6:2001:db8::1 -all"
        );
    }

    #[test]
    fn mta_sts_id_is_stable_and_valid() {
        let id = mta_sts_id("c.example");
        assert_eq!(id, mta_sts_id("c.example"));
        assert_ne!(id, mta_sts_id("d.example"));
        assert_eq!(id.len(), 20);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}

//! The DNS records each domain must publish for mail to reach the platform under the
//! customer's own names (design.md, "White label"), and the check that watches them appear.
//!
//! # Layout
//! - [`expected`] — the records a domain must publish: a pure function of the domain, the
//!   platform's settings, its DKIM keys and its outbound source address.
//! - [`compare`] — what counts as right for each kind of record, given what DNS answered.
//! - [`resolve`] — asking real DNS (`hickory-resolver`, a fresh resolver per check, so no
//!   cache between checks) what a record's name holds.
//! - [`status`] — the stored result of the last check per domain, the on-demand check (with
//!   its per-domain rate limit) and the periodic one.

pub mod compare;
pub mod expected;
pub mod ready;
pub mod resolve;
pub mod status;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use compare::Status;
pub use expected::{Expected, Purpose};
pub use status::{CheckOutcome, DnsStatus, RecordStatus, Summary};

/// The record types the platform asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    Mx,
    Cname,
    Txt,
    Srv,
}

impl RecordType {
    /// The type's mnemonic, as in a zone file.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Mx => "MX",
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
            RecordType::Srv => "SRV",
        }
    }
}

/// The ports mail clients are told about in the SRV records (RFC 6186, RFC 8314): the public
/// ports in front of the platform, which need not be the ports it listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicPorts {
    pub imaps: u16,
    pub submission: u16,
    pub submissions: u16,
    pub pop3s: u16,
}

impl Default for PublicPorts {
    fn default() -> Self {
        PublicPorts {
            imaps: 993,
            submission: 587,
            submissions: 465,
            pop3s: 995,
        }
    }
}

/// The DMARC policy domains are asked to publish (RFC 7489 §6.3, `p=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
}

impl DmarcPolicy {
    /// The `p=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
        }
    }

    /// Parses a `p=` value (case-insensitive).
    pub fn parse(s: &str) -> Option<DmarcPolicy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(DmarcPolicy::None),
            "quarantine" => Some(DmarcPolicy::Quarantine),
            "reject" => Some(DmarcPolicy::Reject),
            _ => None,
        }
    }
}

/// What the DNS side of the platform is configured with (`[server] hostname`, `[dns]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// The platform's host: the target of the `mail.`, `autoconfig.`, `autodiscover.` and
    /// `mta-sts.` CNAMEs.
    pub platform_host: String,
    /// The name servers asked (IP:PORT); empty: those of `/etc/resolv.conf`.
    pub nameservers: Vec<SocketAddr>,
    /// The ports published in the SRV records.
    pub public_ports: PublicPorts,
    /// The policy of the expected DMARC record.
    pub dmarc_policy: DmarcPolicy,
    /// How long one question may take (per attempt; two attempts).
    pub timeout: Duration,
    /// How often the periodic check runs over every domain.
    pub check_interval: Duration,
    /// The shortest time between two on-demand checks of one domain.
    pub on_demand_every: Duration,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            platform_host: "localhost".into(),
            nameservers: Vec::new(),
            public_ports: PublicPorts::default(),
            dmarc_policy: DmarcPolicy::Quarantine,
            timeout: Duration::from_secs(5),
            check_interval: Duration::from_secs(3600),
            on_demand_every: Duration::from_secs(10),
        }
    }
}

/// The core's DNS side: its settings and when each domain was last checked on demand.
#[derive(Debug, Clone, Default)]
pub struct DnsState {
    settings: Arc<DnsSettings>,
    recent: Arc<Mutex<HashMap<String, Instant>>>,
}

/// Past this many remembered on-demand checks, the expired ones are forgotten.
const MAX_RECENT: usize = 10_000;

impl DnsState {
    /// State over `settings`.
    pub fn new(settings: DnsSettings) -> DnsState {
        DnsState {
            settings: Arc::new(settings),
            recent: Arc::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &DnsSettings {
        &self.settings
    }

    /// Takes the on-demand slot of `domain`: `Err(wait)` if it was taken less than
    /// [`DnsSettings::on_demand_every`] ago.
    fn take_slot(&self, domain: &str) -> Result<(), Duration> {
        let every = self.settings.on_demand_every;
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() >= MAX_RECENT {
            recent.retain(|_, at| now.duration_since(*at) < every);
        }
        if let Some(at) = recent.get(domain) {
            let since = now.duration_since(*at);
            if since < every {
                return Err(every - since);
            }
        }
        recent.insert(domain.to_string(), now);
        Ok(())
    }
}

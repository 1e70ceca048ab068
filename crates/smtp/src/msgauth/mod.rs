//! Message authentication: the inbound checks on port 25 ([`verify`]: SPF, DKIM, ARC, DMARC
//! with `mail-auth`) and DKIM signing of what users submit ([`sign`]).
//!
//! [`MsgAuth`] is built once per process from the `[dns]` name servers and shared by every SMTP
//! listener, so that the resolver's cache is one.

pub mod sign;
pub mod verify;

use std::net::SocketAddr;
use std::time::Duration;

use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use tracing::warn;

/// How long one DNS question may take, per attempt.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per question.
const DNS_ATTEMPTS: usize = 2;

/// The resolver of the checks; one per process.
pub struct MsgAuth {
    /// `None` when no resolver could be built (no usable `resolv.conf`): every check then
    /// reports `temperror` and mail still flows.
    pub authenticator: Option<MessageAuthenticator>,
}

impl std::fmt::Debug for MsgAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgAuth")
            .field("resolver", &self.authenticator.is_some())
            .finish_non_exhaustive()
    }
}

impl MsgAuth {
    /// A resolver on `nameservers` (UDP, then TCP for truncated answers), or on the system's
    /// `resolv.conf` when the list is empty.
    pub fn new(nameservers: &[SocketAddr]) -> MsgAuth {
        MsgAuth {
            authenticator: authenticator(nameservers),
        }
    }
}

fn authenticator(nameservers: &[SocketAddr]) -> Option<MessageAuthenticator> {
    let mut opts = ResolverOpts::default();
    opts.timeout = DNS_TIMEOUT;
    opts.attempts = DNS_ATTEMPTS;
    let built = if nameservers.is_empty() {
        MessageAuthenticator::new_system_conf()
    } else {
        let servers = nameservers
            .iter()
            .map(|addr| {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                ns
            })
            .collect();
        MessageAuthenticator::new(ResolverConfig::from_name_servers(servers), opts)
    };
    match built {
        Ok(a) => Some(a),
        Err(e) => {
            warn!(error = %e, "no DNS resolver: SPF, DKIM and DMARC will report temperror");
            None
        }
    }
}

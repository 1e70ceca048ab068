//! The services Marque runs, by their names in `[listeners]` and `--only`.

use std::fmt;
use std::str::FromStr;

/// One service: a protocol on a kind of port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// SMTP from other servers (MX), port 25.
    Smtp,
    /// SMTP submission with STARTTLS, port 587.
    Submission,
    /// SMTP submission over implicit TLS, port 465.
    Submissions,
    /// IMAP with STARTTLS, port 143.
    Imap,
    /// IMAP over implicit TLS, port 993.
    Imaps,
    /// POP3 with STLS, port 110.
    Pop3,
    /// POP3 over implicit TLS, port 995.
    Pop3s,
    /// ManageSieve, port 4190.
    ManageSieve,
    /// HTTP: admin API, autoconfig, ACME challenges, port 80.
    Http,
    /// HTTPS, port 443.
    Https,
}

impl Service {
    /// Every service, in the order they are listed.
    pub const ALL: [Service; 10] = [
        Service::Smtp,
        Service::Submission,
        Service::Submissions,
        Service::Imap,
        Service::Imaps,
        Service::Pop3,
        Service::Pop3s,
        Service::ManageSieve,
        Service::Http,
        Service::Https,
    ];

    /// The name in `[listeners]` and `--only`.
    pub fn name(self) -> &'static str {
        match self {
            Service::Smtp => "smtp",
            Service::Submission => "submission",
            Service::Submissions => "submissions",
            Service::Imap => "imap",
            Service::Imaps => "imaps",
            Service::Pop3 => "pop3",
            Service::Pop3s => "pop3s",
            Service::ManageSieve => "managesieve",
            Service::Http => "http",
            Service::Https => "https",
        }
    }

    /// Whether every connection starts with a TLS handshake.
    pub fn implicit_tls(self) -> bool {
        matches!(
            self,
            Service::Submissions | Service::Imaps | Service::Pop3s | Service::Https
        )
    }

    /// The comma-separated list of names, for messages.
    pub fn names() -> String {
        Service::ALL.map(Service::name).join(", ")
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.name() == s)
            .ok_or_else(|| format!("unknown service \"{s}\" (known: {})", Service::names()))
    }
}

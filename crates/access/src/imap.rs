//! IMAP: for now, the answer of a service that is not available yet.

use marque_core::net::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Greets with `* BYE [UNAVAILABLE] ...` and closes.
///
/// RFC 9051 §7.1.5: BYE as the greeting means the server will not accept the connection;
/// RFC 5530 §3: `UNAVAILABLE` says the failure is temporary.
#[derive(Debug, Clone)]
pub struct Unavailable {
    hostname: String,
}

impl Unavailable {
    /// A handler that names `hostname` in its greeting.
    pub fn new(hostname: impl Into<String>) -> Self {
        Unavailable {
            hostname: hostname.into(),
        }
    }

    /// The exact greeting, CRLF included.
    pub fn greeting(&self) -> String {
        format!(
            "* BYE [UNAVAILABLE] {} IMAP service not available\r\n",
            self.hostname
        )
    }
}

impl Handler for Unavailable {
    async fn handle(&self, mut conn: Connection) {
        let _ = conn.write_all(self.greeting().as_bytes()).await;
        let _ = conn.shutdown().await;
    }
}

/// The handler for the `imap` and `imaps` listeners.
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl Handler {
    let _ = core;
    Unavailable::new(hostname)
}

#[cfg(test)]
mod tests {
    #[test]
    fn greeting_is_an_untagged_bye() {
        let g = super::Unavailable::new("imap.example").greeting();
        assert!(g.starts_with("* BYE [UNAVAILABLE] imap.example "));
        assert!(g.ends_with("\r\n"));
    }
}

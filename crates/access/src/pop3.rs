//! POP3: for now, the answer of a service that is not available yet.

use marque_core::net::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Greets with `-ERR [SYS/TEMP] ...` and closes.
///
/// RFC 1939 §4: the greeting is a status line; RFC 2449 §8 and RFC 3206 §4: `SYS/TEMP` is a
/// temporary system failure, so the client may try again later.
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
            "-ERR [SYS/TEMP] {} POP3 service not available\r\n",
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

/// The handler for the `pop3` and `pop3s` listeners.
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl Handler {
    let _ = core;
    Unavailable::new(hostname)
}

#[cfg(test)]
mod tests {
    #[test]
    fn greeting_is_a_temporary_error() {
        let g = super::Unavailable::new("pop.example").greeting();
        assert!(g.starts_with("-ERR [SYS/TEMP] pop.example "));
    }
}

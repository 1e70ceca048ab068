//! ManageSieve: for now, the answer of a service that is not available yet.

use marque_core::net::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Greets with `BYE (TRYLATER) "..."` and closes.
///
/// RFC 5804 §1.3: `TRYLATER` means a temporary failure; §2.3 allows `BYE` in place of the
/// greeting capabilities when the server will not serve the connection.
#[derive(Debug, Clone)]
pub struct Unavailable {
    hostname: String,
}

impl Unavailable {
    /// A handler that names `hostname` in its reply.
    pub fn new(hostname: impl Into<String>) -> Self {
        Unavailable {
            hostname: hostname.into(),
        }
    }

    /// The exact reply, CRLF included.
    pub fn greeting(&self) -> String {
        let host = self.hostname.replace(['"', '\\'], "");
        format!("BYE (TRYLATER) \"{host} ManageSieve service not available\"\r\n")
    }
}

impl Handler for Unavailable {
    async fn handle(&self, mut conn: Connection) {
        let _ = conn.write_all(self.greeting().as_bytes()).await;
        let _ = conn.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn greeting_is_a_bye() {
        assert_eq!(
            super::Unavailable::new("sieve.example").greeting(),
            "BYE (TRYLATER) \"sieve.example ManageSieve service not available\"\r\n"
        );
    }
}

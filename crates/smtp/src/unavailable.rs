//! The answer of an SMTP service that is not available yet.

use marque_core::net::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Greets with `421 4.3.2 <hostname> Service not available` and closes.
///
/// RFC 5321 §3.8 and §4.2.4: a server that must refuse service sends `421` instead of the
/// greeting; RFC 3463 §3.5: `4.3.2` is "system not accepting network messages".
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

    /// The exact reply line, CRLF included.
    pub fn reply(&self) -> String {
        format!("421 4.3.2 {} Service not available\r\n", self.hostname)
    }
}

impl Handler for Unavailable {
    async fn handle(&self, mut conn: Connection) {
        let _ = conn.write_all(self.reply().as_bytes()).await;
        let _ = conn.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_is_a_421_with_enhanced_code() {
        assert_eq!(
            Unavailable::new("mx.example").reply(),
            "421 4.3.2 mx.example Service not available\r\n"
        );
    }
}

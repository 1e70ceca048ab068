//! HTTP: for now, `503 Service Unavailable` with an RFC 9457 problem-details body.

use std::time::Duration;

use marque_core::net::{Connection, Handler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most of a request head that is read before answering.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client has to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers each connection's request with `503` and closes.
#[derive(Debug, Clone)]
pub struct Unavailable {
    hostname: String,
}

impl Unavailable {
    /// A handler that names `hostname` in its body.
    pub fn new(hostname: impl Into<String>) -> Self {
        Unavailable {
            hostname: hostname.into(),
        }
    }

    /// The full HTTP/1.1 response.
    pub fn response(&self) -> String {
        // RFC 9457 §3: problem details; `about:blank` means the status code says it all (§4.2.1).
        let body = serde_json::json!({
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": format!("The admin API of {} is not available yet.", self.hostname),
        })
        .to_string();
        // RFC 9110 §15.6.4 (503) and §10.2.3 (Retry-After).
        format!(
            "HTTP/1.1 503 Service Unavailable\r\n\
             Content-Type: application/problem+json\r\n\
             Content-Length: {}\r\n\
             Retry-After: 60\r\n\
             Cache-Control: no-store\r\n\
             Connection: close\r\n\
             \r\n\
             {body}",
            body.len()
        )
    }
}

/// Reads until the end of the request head (an empty line), the size cap, EOF or the timeout.
async fn read_head(conn: &mut Connection) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let read = async {
        while head.len() < MAX_HEAD {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(HEAD_TIMEOUT, read).await;
}

impl Handler for Unavailable {
    async fn handle(&self, mut conn: Connection) {
        read_head(&mut conn).await;
        let _ = conn.write_all(self.response().as_bytes()).await;
        let _ = conn.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn response_is_a_problem_document() {
        let r = super::Unavailable::new("panel.example").response();
        assert!(r.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Content-Type: application/problem+json"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["status"], 503);
    }
}

//! The HTTP/1.1 connection itself, with a raw client: keep-alive, the bound on the request
//! head, the header read timeout.

mod common;

use common::{ADMIN, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one response with a `Content-Length` body; returns the head and the body.
async fn response(s: &mut TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.expect("read body");
                assert!(n > 0, "closed inside a body");
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
            return (head, body);
        }
        let n = s.read(&mut chunk).await.expect("read head");
        assert!(
            n > 0,
            "closed before a response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_connection_serves_several_requests() {
    let srv = start().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    for _ in 0..3 {
        let req = format!(
            "GET /api/v1/me HTTP/1.1\r\nHost: admin.test\r\nAuthorization: Bearer {ADMIN}\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let (head, body) = response(&mut s).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert!(body.contains("\"admin\""), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_head_is_refused() {
    let srv = start().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let big = "a".repeat(1024 * 1024);
    let req = format!("GET /api/v1/me HTTP/1.1\r\nHost: admin.test\r\nX-Big: {big}\r\n\r\n");
    // The server may stop reading once it has refused: a failed write is fine.
    let _ = s.write_all(req.as_bytes()).await;
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    let text = String::from_utf8_lossy(&got);
    // RFC 6585 §5.
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_client_that_never_finishes_its_head_is_dropped() {
    let srv = start().await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: adm")
        .await
        .unwrap();
    // With the clock paused, tokio jumps to the header read timeout once every task waits.
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got).await;
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408 "),
        "{text}"
    );
}

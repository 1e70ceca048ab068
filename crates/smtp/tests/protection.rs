//! Slow clients and oversized input: timeouts (under `tokio::time::pause`, no real waiting)
//! and bounded command lines.

mod common;

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).await.expect("read");
    l
}

/// Reads reply lines until the last line of a reply (`NNN `).
async fn reply(r: &mut BufReader<TcpStream>) -> String {
    loop {
        let l = line(r).await;
        if l.len() < 4 || l.as_bytes()[3] == b' ' {
            return l;
        }
    }
}

#[tokio::test]
async fn idle_clients_are_closed_with_421_after_the_timeouts() {
    let mut config = common::test_config();
    config.command_timeout = Duration::from_secs(300);
    config.data_timeout = Duration::from_secs(180);
    let s = common::start_with(config).await;
    tokio::time::pause();

    // Waiting for a command.
    let mut c = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    assert!(line(&mut c).await.starts_with("220 "));
    let before = tokio::time::Instant::now();
    assert!(line(&mut c).await.starts_with("421 4.4.2"));
    assert!(before.elapsed() >= Duration::from_secs(300));
    assert_eq!(line(&mut c).await, "", "closed");

    // In the middle of DATA.
    let mut c = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    assert!(line(&mut c).await.starts_with("220 "));
    for cmd in [
        "EHLO c.example\r\n",
        "MAIL FROM:<x@remote.example>\r\n",
        "RCPT TO:<ann@c.example>\r\n",
        "DATA\r\n",
    ] {
        c.get_mut().write_all(cmd.as_bytes()).await.unwrap();
        let r = reply(&mut c).await;
        assert!(r.starts_with('2') || r.starts_with('3'), "{cmd} -> {r}");
    }
    c.get_mut().write_all(b"Subject: slow\r\n").await.unwrap();
    assert!(
        line(&mut c)
            .await
            .starts_with("421 4.4.2 Timeout during DATA")
    );
    tokio::time::resume();
    assert!(common::inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_command_line_is_read_through_not_buffered() {
    let s = common::start().await;
    let mut c = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    assert!(line(&mut c).await.starts_with("220 "));
    // 4 MB without a line end: far past the 2 KiB command limit.
    let junk = vec![b'A'; 4 * 1024 * 1024];
    let (mut rd, mut wr) = c.into_inner().into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(b"NOOP ").await.unwrap();
        wr.write_all(&junk).await.unwrap();
        wr.write_all(b"\r\nNOOP\r\n").await.unwrap();
        wr
    });
    let mut r = BufReader::new(&mut rd);
    let mut l = String::new();
    r.read_line(&mut l).await.unwrap();
    assert_eq!(l, "500 5.5.2 Line too long\r\n");
    l.clear();
    r.read_line(&mut l).await.unwrap();
    assert_eq!(l, "250 2.0.0 OK\r\n");
    writer.await.unwrap();
}

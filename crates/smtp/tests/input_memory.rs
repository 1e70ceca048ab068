//! Thirty clients on port 25 each send 48 MB of a message and then pause without ending it:
//! the server must not hold their messages in memory. Its resident size (read from
//! `/proc/self/status`: the server runs in this test's process, alone in this test binary)
//! grows by less than the 96 MiB stated in docs/configuration.md, where holding the content
//! would take 1.4 GB.

mod common;

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const SESSIONS: usize = 30;
const SENT: usize = 48 * 1024 * 1024;
const BUDGET: u64 = 96 * 1024 * 1024;

fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

async fn expect(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>, code: &str) {
    loop {
        let mut l = String::new();
        r.read_line(&mut l).await.expect("read");
        assert!(l.starts_with(code), "expected {code}, got {l:?}");
        if l.as_bytes().get(3) == Some(&b' ') {
            return;
        }
    }
}

/// Sends the envelope and `SENT` bytes of content, then waits for `stop` with the message
/// unfinished.
async fn paused_sender(
    port: u16,
    sent: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, "220").await;
    for (cmd, code) in [
        ("EHLO client.example\r\n", "250"),
        ("MAIL FROM:<x@remote.example>\r\n", "250"),
        ("RCPT TO:<ann@c.example>\r\n", "250"),
        ("DATA\r\n", "354"),
    ] {
        w.write_all(cmd.as_bytes()).await.expect("write");
        expect(&mut r, code).await;
    }
    let mut line = vec![b'm'; 998];
    line.extend_from_slice(b"\r\n");
    let chunk = line.repeat(64);
    let mut n = 0;
    while n < SENT {
        w.write_all(&chunk).await.expect("write content");
        n += chunk.len();
    }
    w.flush().await.expect("flush");
    sent.send(()).await.expect("report");
    let mut stop = stop;
    let _ = stop.wait_for(|s| *s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_large_messages_are_not_held_in_memory() {
    let mut config = common::test_config();
    config.max_message_size = 50 * 1024 * 1024;
    let s = common::start_with(config).await;
    // Settle the allocator with one short message first.
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.ehlo("client.example")
expect(c.mail("x@remote.example"), 250)
expect(c.rcpt("ann@c.example"), 250)
expect(c.data("Subject: warm\r\n\r\nhello\r\n"), 250)
c.quit()
"#,
    )
    .await;
    let before = resident();

    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::channel(SESSIONS);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut senders = Vec::new();
    for _ in 0..SESSIONS {
        senders.push(tokio::spawn(paused_sender(
            s.smtp.port(),
            sent_tx.clone(),
            stop_rx.clone(),
        )));
    }
    for _ in 0..SESSIONS {
        tokio::time::timeout(Duration::from_secs(600), sent_rx.recv())
            .await
            .expect("every client sent its content in time")
            .expect("a client failed");
    }
    // What is still in the sockets' buffers reaches the server.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = resident();
    let grown = after.saturating_sub(before);
    println!(
        "resident: {} MiB before, {} MiB with {SESSIONS} paused sessions of {} MiB each (+{} MiB)",
        before >> 20,
        after >> 20,
        SENT >> 20,
        grown >> 20
    );
    assert!(
        grown < BUDGET,
        "the server grew by {} MiB holding paused messages",
        grown >> 20
    );

    let _ = stop_tx.send(true);
    for t in senders {
        t.await.expect("sender");
    }
    // Nothing of the unfinished messages was stored.
    assert_eq!(common::inbox(&s.core, "ann@c.example").await.len(), 1);
}

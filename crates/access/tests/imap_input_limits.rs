//! What one IMAP command may make the server hold in memory: the literals of a command other
//! than APPEND together (1 MiB), and an APPEND message, which takes its size from the
//! process-wide input budget before it is read (`NO [LIMIT]` when there is no room).

#[path = "imap/common.rs"]
mod common;

use std::time::Duration;

use common::{Offer, PASSWORD, USER};
use marque_session::InputBudget;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

struct Client {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
}

impl Client {
    async fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let (r, w) = s.into_split();
        let mut c = Client {
            r: BufReader::new(r),
            w,
        };
        assert!(c.line().await.starts_with("* OK"));
        c
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), self.r.read_line(&mut l))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(n > 0, "connection closed");
        l
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).await.expect("write");
    }

    /// Reads up to the tagged answer of `tag`; returns it.
    async fn tagged(&mut self, tag: &str) -> String {
        loop {
            let l = self.line().await;
            if l.starts_with(&format!("{tag} ")) {
                return l;
            }
        }
    }

    async fn login(&mut self) {
        self.send(format!("l LOGIN {USER} \"{PASSWORD}\"\r\n").as_bytes())
            .await;
        assert!(self.tagged("l").await.starts_with("l OK"));
    }
}

fn message(size: usize) -> Vec<u8> {
    let mut m = b"From: a@b.example\r\nSubject: big\r\n\r\n".to_vec();
    while m.len() + 80 < size {
        m.extend_from_slice(&[b'y'; 78]);
        m.extend_from_slice(b"\r\n");
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_literals_of_one_search_are_capped_together() {
    let server = common::start(None).await;
    let mut c = Client::connect(server.port).await;
    c.login().await;
    c.send(b"s SELECT INBOX\r\n").await;
    assert!(c.tagged("s").await.starts_with("s OK"));
    // Fifteen literals of 64 KiB are taken; the sixteenth would pass 1 MiB and is refused
    // before it is read.
    c.send(b"x SEARCH").await;
    for _ in 0..16 {
        c.send(b" TEXT {65536}\r\n").await;
        let l = c.line().await;
        if l.starts_with("x ") {
            assert!(l.starts_with("x BAD"), "{l}");
            // The session goes on.
            c.send(b"n NOOP\r\n").await;
            assert!(c.tagged("n").await.starts_with("n OK"));
            return;
        }
        assert!(l.starts_with('+'), "{l}");
        c.send(&[b'z'; 65536]).await;
    }
    panic!("sixteen literals of 64 KiB were accepted in one command");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_waits_for_room_in_the_input_budget() {
    // A budget of 1 MiB; a request waits a quarter of a second for room.
    let budget = InputBudget::new(1024 * 1024, Duration::from_millis(250));
    let server = common::start_configured(Offer::Plain, Default::default(), move |h| {
        h.with_input_budget(budget)
    })
    .await;
    let mut a = Client::connect(server.port).await;
    let mut b = Client::connect(server.port).await;
    a.login().await;
    b.login().await;

    // A announces 700 KB and pauses after the continuation: the budget holds its 700 KB.
    let big = message(700_000);
    a.send(format!("a1 APPEND INBOX {{{}}}\r\n", big.len()).as_bytes())
        .await;
    assert!(a.line().await.starts_with('+'));
    a.send(&big[..1000]).await;

    // B's 500 KB do not fit beside it: refused for now, with nothing read.
    let other = message(500_000);
    b.send(format!("b1 APPEND INBOX {{{}}}\r\n", other.len()).as_bytes())
        .await;
    let refused = b.tagged("b1").await;
    assert!(refused.starts_with("b1 NO [LIMIT]"), "{refused}");

    // A finishes; its room is given back, and B's retry is stored.
    a.send(&big[1000..]).await;
    a.send(b"\r\n").await;
    assert!(a.tagged("a1").await.starts_with("a1 OK"));
    b.send(format!("b2 APPEND INBOX {{{}}}\r\n", other.len()).as_bytes())
        .await;
    assert!(b.line().await.starts_with('+'));
    b.send(&other).await;
    b.send(b"\r\n").await;
    assert!(b.tagged("b2").await.starts_with("b2 OK"));

    // A message larger than the whole budget is refused at once; a non-synchronising one
    // cannot be skipped, so that connection closes after the answer.
    b.send(b"b3 APPEND INBOX {2000000}\r\n").await;
    assert!(b.tagged("b3").await.starts_with("b3 NO [LIMIT]"));
    b.send(b"b4 APPEND INBOX {2000000+}\r\n").await;
    assert!(b.tagged("b4").await.starts_with("b4 NO [LIMIT]"));
    let mut rest = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), b.r.read_line(&mut rest)).await;
    assert!(rest.is_empty() || rest.starts_with("* BYE"), "{rest}");

    let account = common::account(&server.core, USER).await;
    let inbox = marque_store::mail::mailbox_by_name(server.core.store(), account, "INBOX")
        .expect("read")
        .expect("INBOX");
    let stored = marque_store::mail::messages(server.core.store(), account, inbox.id, 1, 100)
        .expect("messages");
    assert_eq!(stored.len(), 2);
}

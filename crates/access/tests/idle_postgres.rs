//! IMAP IDLE across processes: the IMAP service runs over one store on a PostgreSQL database;
//! messages arrive through a second store (and core) on the same database, as an SMTP node
//! would deliver them. The IDLE session hears of each within 2 s, also after its store's
//! listener connection has been killed.

#[path = "imap/common.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{PASSWORD, USER, account, deliver};
use marque_core::{Core, HashCost};
use marque_store::{BackendKind, PostgresOptions, Store, StoreOptions};
use marque_tests::{Offer, Platform, Services};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How soon the IDLE session must hear of a message delivered elsewhere.
const PROMPTLY: Duration = Duration::from_secs(2);

struct Client {
    r: BufReader<TcpStream>,
}

impl Client {
    async fn line(&mut self, within: Duration) -> String {
        let mut line = String::new();
        tokio::time::timeout(within, self.r.read_line(&mut line))
            .await
            .expect("a line in time")
            .expect("read");
        assert!(!line.is_empty(), "the server closed the connection");
        line
    }

    async fn send(&mut self, text: &str) {
        self.r.get_mut().write_all(text.as_bytes()).await.unwrap();
    }

    /// Sends a command and reads to its tagged answer, which must be OK.
    async fn ok(&mut self, tag: &str, command: &str) {
        self.send(&format!("{tag} {command}\r\n")).await;
        loop {
            let line = self.line(Duration::from_secs(20)).await;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{command}: {line}");
                return;
            }
        }
    }

    /// Waits up to `within` for the untagged line `wanted`.
    async fn expect(&mut self, wanted: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self.line(left).await;
            if line.trim_end() == wanted {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_hears_of_mail_delivered_through_another_store_on_the_database() {
    let db = marque_tests::postgres::database();
    let options = StoreOptions {
        backend: BackendKind::Postgres(PostgresOptions {
            url: db.url().to_string(),
            pool_size: 4,
            ca_file: None,
        }),
        ..StoreOptions::default()
    };
    let platform = Platform::builder()
        .store_options(options.clone())
        .customer("C")
        .domain("c.example")
        .mailbox(USER, 100)
        .build()
        .await;
    let services = Services::new(Duration::from_secs(1));
    let imap = marque_access::imap::Imap::new(&platform.core, "imap.test");
    let addr = services.listen("imap", Offer::Plain, Arc::new(imap)).await;
    // The other node: its own store and core on the same database.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = Core::open_with(
        Store::open(elsewhere.path(), options).unwrap(),
        HashCost::insecure_for_tests(),
    )
    .unwrap();
    let ann = account(&other, USER).await;

    let mut c = Client {
        r: BufReader::new(TcpStream::connect(addr).await.unwrap()),
    };
    c.line(Duration::from_secs(20)).await;
    c.ok("a", &format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    c.ok("b", "SELECT INBOX").await;
    c.send("c IDLE\r\n").await;
    let cont = c.line(Duration::from_secs(20)).await;
    assert!(cont.starts_with('+'), "{cont}");

    deliver(&other, ann, b"Subject: one\r\n\r\nfrom the other node\r\n").await;
    c.expect("* 1 EXISTS", PROMPTLY).await;

    // The IMAP node's listener connection is killed: the next message is heard of all the same.
    let killed = db
        .sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'marque-listen' AND datname = current_database()",
        )
        .unwrap();
    assert_eq!(killed.lines().count(), 2, "{killed}");
    deliver(&other, ann, b"Subject: two\r\n\r\nafter the kill\r\n").await;
    c.expect("* 2 EXISTS", PROMPTLY).await;

    c.send("DONE\r\n").await;
    loop {
        let line = c.line(Duration::from_secs(20)).await;
        if line.starts_with("c ") {
            assert!(line.starts_with("c OK"), "{line}");
            break;
        }
    }
}

//! `/healthz` and `/readyz` on the http listener: no authentication, plain one-line answers,
//! and readiness that follows the store (a PostgreSQL database that goes away makes the node
//! not ready, without saying where the database is).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use marque_admin::{Api, Settings};
use marque_hosting::Hosting;
use marque_store::{BackendKind, PostgresOptions, StoreOptions};
use marque_tests::{Offer, Platform, Services};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A platform with the API on 127.0.0.1:0.
struct Node {
    addr: SocketAddr,
    _services: Services,
    _platform: Platform,
}

async fn node(store: StoreOptions) -> Node {
    let platform = Platform::builder().store_options(store).build().await;
    let hosting = Hosting::new(platform.core.clone());
    let services = Services::new(Duration::from_secs(1));
    let api = Arc::new(Api::new(&hosting, "admin.test", Settings::default()));
    let addr = services.listen("http", Offer::Plain, api).await;
    Node {
        addr,
        _services: services,
        _platform: platform,
    }
}

/// One request without credentials; the status, the headers (lower-cased) and the body.
async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: admin.test\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_without_credentials() {
    let n = node(StoreOptions::default()).await;
    let (status, head, body) = request(n.addr, "GET", "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("content-type: text/plain"), "{head}");
    let (status, _, body) = request(n.addr, "GET", "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    // HEAD answers as GET, without a body.
    let (status, _, body) = request(n.addr, "HEAD", "/readyz").await;
    assert_eq!((status, body.as_str()), (200, ""));
    // Only reading is allowed.
    let (status, _, _) = request(n.addr, "POST", "/readyz").await;
    assert_eq!(status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_database_is_gone_is_not_ready() {
    let db = marque_tests::postgres::database();
    let n = node(StoreOptions {
        backend: BackendKind::Postgres(PostgresOptions {
            url: db.url().to_string(),
            pool_size: 4,
            ca_file: None,
        }),
        ..StoreOptions::default()
    })
    .await;
    let (status, _, body) = request(n.addr, "GET", "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    // Dropping the database closes every connection to it and refuses new ones.
    let name = db.name().to_string();
    drop(db);
    let (status, head, body) = request(n.addr, "GET", "/readyz").await;
    assert_eq!((status, body.as_str()), (503, "store unavailable\n"));
    assert!(
        !head.contains(&name) && !body.contains("127.0.0.1"),
        "{head}{body}"
    );
    // Alive all the same.
    let (status, _, _) = request(n.addr, "GET", "/healthz").await;
    assert_eq!(status, 200);
}

//! The plumbing against real sockets on 127.0.0.1:0.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::limits::Refusal;
use super::*;

/// Greets with its service name and TLS state, then either waits for shutdown (saying `bye`)
/// or, on `STARTTLS`, upgrades and greets again.
struct Greeter;

impl Handler for Greeter {
    async fn handle(&self, mut conn: Connection) {
        let hello = format!("hello {} tls={}\r\n", conn.service(), conn.is_tls());
        if conn.write_all(hello.as_bytes()).await.is_err() {
            return;
        }
        let mut stop = conn.shutdown_signal();
        let mut line = [0u8; 10];
        tokio::select! {
            _ = stop.wait() => {
                let _ = conn.write_all(b"bye\r\n").await;
            }
            read = conn.read_exact(&mut line) => {
                if read.is_ok() && &line == b"STARTTLS\r\n" && conn.can_starttls() {
                    let _ = conn.write_all(b"go ahead\r\n").await;
                    if let Ok(mut conn) = conn.starttls().await {
                        let _ = conn.write_all(format!("hello again tls={}\r\n", conn.is_tls()).as_bytes()).await;
                        let _ = conn.flush().await;
                        let _ = conn.read(&mut line).await;
                    }
                }
            }
        }
    }

    async fn refuse(&self, mut conn: Connection, why: Refusal) {
        let _ = conn.write_all(format!("busy {why:?}\r\n").as_bytes()).await;
    }
}

/// Never looks at the shutdown signal.
struct Stubborn;

impl Handler for Stubborn {
    async fn handle(&self, mut conn: Connection) {
        let _ = conn.write_all(b"hi\r\n").await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

fn certificate() -> (TlsConfig, Vec<u8>) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = c.cert.pem();
    let tls =
        TlsConfig::from_pem(cert.as_bytes(), c.signing_key.serialize_pem().as_bytes()).unwrap();
    (tls, cert.into_bytes())
}

fn connector(cert_pem: &[u8]) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn start<H: Handler>(
    listener: impl FnOnce(Listener) -> Listener,
    handler: H,
    grace: Duration,
) -> (std::net::SocketAddr, Shutdown, JoinHandle<()>) {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = listener(Listener::new("test", tcp));
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let task = tokio::spawn(serve(listener, Arc::new(handler), shutdown.signal(), grace));
    (addr, shutdown, task)
}

async fn read_line<R: tokio::io::AsyncRead + Unpin>(r: &mut BufReader<R>) -> String {
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut line))
        .await
        .expect("a line in time")
        .unwrap();
    line
}

#[tokio::test]
async fn accepts_and_hands_the_connection_to_the_handler() {
    let (addr, shutdown, task) = start(|l| l, Greeter, Duration::from_secs(5)).await;
    let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut c).await, "hello test tls=false\r\n");
    shutdown.trigger();
    assert_eq!(read_line(&mut c).await, "bye\r\n");
    task.await.unwrap();
}

#[tokio::test]
async fn refuses_over_the_per_ip_limit_and_admits_again_after_a_close() {
    let limits = Limits {
        max_connections: 10,
        max_per_ip: 1,
    };
    let (addr, shutdown, task) = start(|l| l.limits(limits), Greeter, Duration::from_secs(5)).await;
    let mut first = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut first).await, "hello test tls=false\r\n");
    let mut second = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut second).await, "busy TooManyFromIp\r\n");
    drop(first);
    // The first session ends when it reads EOF; its place is given back.
    let mut third = None;
    for _ in 0..100 {
        let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
        if read_line(&mut c).await.starts_with("hello") {
            third = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(third.is_some(), "a place is free again");
    shutdown.trigger();
    task.await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_accepting_and_aborts_sessions_after_the_grace_period() {
    let (addr, shutdown, task) = start(|l| l, Stubborn, Duration::from_millis(200)).await;
    let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut c).await, "hi\r\n");
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve returns after the grace period")
        .unwrap();
    // The aborted session's socket is closed: EOF.
    assert_eq!(read_line(&mut c).await, "");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn implicit_tls_handshakes_before_the_handler_runs() {
    let (tls, cert) = certificate();
    let (addr, shutdown, task) =
        start(|l| l.implicit_tls(tls), Greeter, Duration::from_secs(5)).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let stream = connector(&cert).connect(name, tcp).await.unwrap();
    let mut c = BufReader::new(stream);
    assert_eq!(read_line(&mut c).await, "hello test tls=true\r\n");
    shutdown.trigger();
    assert_eq!(read_line(&mut c).await, "bye\r\n");
    task.await.unwrap();
}

#[tokio::test]
async fn starttls_upgrades_a_plain_connection() {
    let (tls, cert) = certificate();
    let (addr, shutdown, task) = start(|l| l.starttls(tls), Greeter, Duration::from_secs(5)).await;
    let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut c).await, "hello test tls=false\r\n");
    c.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    assert_eq!(read_line(&mut c).await, "go ahead\r\n");
    let name = ServerName::try_from("localhost").unwrap();
    let stream = connector(&cert)
        .connect(name, c.into_inner())
        .await
        .unwrap();
    let mut c = BufReader::new(stream);
    assert_eq!(read_line(&mut c).await, "hello again tls=true\r\n");
    drop(c);
    shutdown.trigger();
    task.await.unwrap();
}

#[tokio::test]
async fn a_tls_listener_drops_a_client_that_does_not_speak_tls() {
    let (tls, _) = certificate();
    let (addr, shutdown, task) =
        start(|l| l.implicit_tls(tls), Greeter, Duration::from_secs(5)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"EHLO plain\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("hello"));
    shutdown.trigger();
    task.await.unwrap();
}

#[tokio::test]
async fn a_starttls_handshake_that_never_starts_is_dropped_after_the_listener_timeout() {
    let (tls, _) = certificate();
    let listener = |l: Listener| l.starttls(tls).handshake_timeout(Duration::from_secs(1));
    let (addr, shutdown, task) = start(listener, Greeter, Duration::from_secs(5)).await;
    let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert_eq!(read_line(&mut c).await, "hello test tls=false\r\n");
    c.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    assert_eq!(read_line(&mut c).await, "go ahead\r\n");
    // No ClientHello: the server gives up after its 1 s and closes.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(30), c.read_to_end(&mut rest)).await;
    assert!(closed.expect("closed well within 30 s").is_ok());
    assert!(rest.is_empty(), "{rest:?}");
    shutdown.trigger();
    task.await.unwrap();
}

/// Echoes what it reads until the client goes quiet or the server stops, then says why.
struct Echo;

impl Handler for Echo {
    async fn handle(&self, conn: Connection) {
        let mut io = LineIo::new(conn);
        loop {
            let last = match io.fill_within(Duration::from_secs(5)).await {
                Ok(Timed::Ready(0)) | Err(_) => return,
                Ok(Timed::Ready(_)) => {
                    let data = io.buffered().to_vec();
                    io.consume(data.len());
                    io.queue(&data);
                    false
                }
                Ok(Timed::Idle) => {
                    io.queue(b"idle\r\n");
                    true
                }
                Ok(Timed::Shutdown) => {
                    io.queue(b"stopping\r\n");
                    true
                }
            };
            if io.flush_within(Duration::from_secs(5)).await.is_err() || last {
                return;
            }
            assert_eq!(io.queued(), 0, "the queue is emptied");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn timed_reads_end_on_idle_time_and_on_shutdown() {
    let (addr, shutdown, task) = start(|l| l, Echo, Duration::from_secs(5)).await;
    let mut a = BufReader::new(TcpStream::connect(addr).await.unwrap());
    a.get_mut().write_all(b"ping\r\n").await.unwrap();
    assert_eq!(read_line(&mut a).await, "ping\r\n");
    // Nothing more: the paused clock runs to the idle time.
    let before = tokio::time::Instant::now();
    assert_eq!(read_line(&mut a).await, "idle\r\n");
    assert!(before.elapsed() >= Duration::from_secs(5));

    let mut b = BufReader::new(TcpStream::connect(addr).await.unwrap());
    b.get_mut().write_all(b"pong\r\n").await.unwrap();
    assert_eq!(read_line(&mut b).await, "pong\r\n");
    shutdown.trigger();
    assert_eq!(read_line(&mut b).await, "stopping\r\n");
    task.await.unwrap();
}

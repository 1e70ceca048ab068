//! The life of a session around the commands: the autologout timer (RFC 1939 §3), with
//! tokio's paused clock instead of waiting (an idle session is closed with `-ERR`, without
//! entering the UPDATE state, and gives its lock back); server shutdown; connection limits.

#[path = "pop3/common.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{HOST, LOGIN, PASSWORD, Server};
use marque_access::pop3::Pop3;
use marque_session::{Limits, Listener, Shutdown, serve};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Longer than the idle timeout: only a hung server makes it fire.
const PATIENCE: Duration = Duration::from_secs(3600);

async fn line(c: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    tokio::time::timeout(PATIENCE, c.read_line(&mut l))
        .await
        .expect("an answer")
        .expect("read");
    l
}

#[tokio::test(flavor = "current_thread")]
async fn an_idle_session_is_logged_out_without_update() {
    let server = Server::start_with(|p| p.idle_timeout(Duration::from_secs(600))).await;
    let before = server.uids().await;
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut()
        .write_all(format!("USER {LOGIN}\r\nPASS {PASSWORD}\r\nDELE 1\r\n").as_bytes())
        .await
        .expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
    assert!(line(&mut c).await.starts_with("+OK maildrop has 3"));
    assert!(line(&mut c).await.starts_with("+OK message 1 deleted"));
    assert!(server.pop3.locks().is_locked(server.account));

    tokio::time::pause();
    let bye = line(&mut c).await;
    assert!(bye.starts_with("-ERR [SYS/TEMP] autologout"), "{bye}");
    assert_eq!(line(&mut c).await, "", "closed after the autologout");
    tokio::time::resume();

    assert!(!server.pop3.locks().is_locked(server.account));
    assert_eq!(server.uids().await, before, "no UPDATE state without QUIT");
}

#[tokio::test(flavor = "current_thread")]
async fn the_timer_restarts_with_each_command() {
    let server = Server::start_with(|p| p.idle_timeout(Duration::from_secs(600))).await;
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    tokio::time::pause();
    for _ in 0..3 {
        tokio::time::advance(Duration::from_secs(500)).await;
        c.get_mut().write_all(b"CAPA\r\n").await.expect("write");
        assert!(line(&mut c).await.starts_with("+OK Capability"));
        while line(&mut c).await != ".\r\n" {}
    }
    // 1,500 s have passed, never 600 in a row: the session is alive.
    c.get_mut().write_all(b"QUIT\r\n").await.expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_sessions_without_update() {
    let server = Server::start().await;
    let before = server.uids().await;
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut()
        .write_all(format!("USER {LOGIN}\r\nPASS {PASSWORD}\r\nDELE 1\r\n").as_bytes())
        .await
        .expect("write");
    for _ in 0..3 {
        assert!(line(&mut c).await.starts_with("+OK "));
    }
    server.stop();
    assert_eq!(
        line(&mut c).await,
        "-ERR [SYS/TEMP] server shutting down\r\n"
    );
    assert_eq!(line(&mut c).await, "");
    assert_eq!(server.uids().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_the_connection_limit_is_told_to_come_back() {
    let server = Server::start().await;
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let limits = Limits {
        max_connections: 10,
        max_per_ip: 1,
    };
    let shutdown = Shutdown::new();
    tokio::spawn(serve(
        Listener::new("pop3", tcp).limits(limits),
        Arc::new(server.pop3.clone()),
        shutdown.signal(),
        Duration::from_secs(5),
    ));
    let mut first = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    assert!(line(&mut first).await.starts_with("+OK "));
    let mut second = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    assert!(
        line(&mut second)
            .await
            .starts_with("-ERR [SYS/TEMP] too many connections")
    );
    shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_over_one_store_share_the_maildrop_locks() {
    let server = Server::start().await;
    // `marque serve` builds one handler per listener (pop3, pop3s).
    let other = Pop3::new(&server.core, HOST);
    let held = other.locks().try_lock(server.account).await.expect("free");
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut()
        .write_all(format!("USER {LOGIN}\r\nPASS {PASSWORD}\r\n").as_bytes())
        .await
        .expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
    assert!(line(&mut c).await.starts_with("-ERR [IN-USE] "));
    drop(held);
    c.get_mut()
        .write_all(format!("USER {LOGIN}\r\nPASS {PASSWORD}\r\nQUIT\r\n").as_bytes())
        .await
        .expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
    assert!(line(&mut c).await.starts_with("+OK maildrop has 3"));
    assert!(line(&mut c).await.starts_with("+OK "));
}

#[tokio::test(flavor = "current_thread")]
async fn a_client_that_never_starts_the_tls_handshake_is_dropped() {
    let server = Server::start_with(|p| p.idle_timeout(Duration::from_secs(600))).await;
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut().write_all(b"STLS\r\n").await.expect("write");
    assert!(line(&mut c).await.starts_with("+OK begin TLS"));
    tokio::time::pause();
    assert_eq!(line(&mut c).await, "", "closed once the timer fires");
}

#[tokio::test(flavor = "current_thread")]
async fn a_stls_handshake_that_stalls_is_dropped_after_its_timeout() {
    let server = Server::start_with(|p| p.idle_timeout(Duration::from_secs(600))).await;
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut().write_all(b"STLS\r\n").await.expect("write");
    assert!(line(&mut c).await.starts_with("+OK begin TLS"));
    // The first bytes of a ClientHello (a 512-byte handshake record announced), then nothing:
    // the paused clock runs to the handshake timeout, well before the autologout timer.
    tokio::time::pause();
    c.get_mut()
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    let before = tokio::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(60), line(&mut c)).await;
    assert_eq!(closed.expect("closed within a minute"), "", "closed");
    assert!(before.elapsed() >= marque_session::HANDSHAKE_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_have_no_maildrop() {
    use marque_core::{Actor, NewStaff, StaffKind};
    let server = Server::start().await;
    server
        .core
        .create_staff(
            &Actor::operator(),
            NewStaff {
                tenant: server.customer,
                login: "helpdesk-admin".into(),
                password: Some("staff password 123".into()),
                kind: StaffKind::Admin,
            },
        )
        .await
        .expect("staff");
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut()
        .write_all(b"USER helpdesk-admin\r\nPASS staff password 123\r\nQUIT\r\n")
        .await
        .expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
    assert!(line(&mut c).await.starts_with("-ERR [AUTH] "));
    assert!(line(&mut c).await.starts_with("+OK "));
    // The password was right (the log says so): the refusal is POP3's, for a principal that
    // is not a mailbox.
    let log = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 10)
        .await
        .expect("auth log");
    assert!(
        log.records
            .iter()
            .any(|r| r.login == "helpdesk-admin" && r.protocol == "pop3" && r.outcome == "success"),
        "{:?}",
        log.records
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_banned_on_another_service_is_refused_with_the_right_password() {
    use marque_core::authlog::Attempt;
    let fast = Server::fast_sign_in();
    let policy = marque_core::signin::SignInPolicy {
        throttle: marque_core::signin::ThrottleConfig {
            ban_after: 3,
            ..fast.throttle
        },
        ..fast
    };
    let server = Server::start_with_policy(policy, |p| p).await;
    // Failed SMTP AUTHs from 127.0.0.1, as the SMTP service records them.
    for _ in 0..3 {
        let attempt = Attempt {
            protocol: "smtp",
            login: LOGIN,
            remote: "127.0.0.1",
            mechanism: "PLAIN",
        };
        assert!(server.core.sign_in(attempt, "wrong").await.is_err());
    }
    let mut c = BufReader::new(TcpStream::connect(server.plain).await.expect("connect"));
    assert!(line(&mut c).await.starts_with("+OK "));
    c.get_mut()
        .write_all(format!("USER {LOGIN}\r\nPASS {PASSWORD}\r\n").as_bytes())
        .await
        .expect("write");
    assert!(line(&mut c).await.starts_with("+OK "));
    let refused = line(&mut c).await;
    assert!(
        refused.starts_with("-ERR [SYS/TEMP] too many failed sign-ins"),
        "{refused}"
    );
}

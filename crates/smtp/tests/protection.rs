//! Slow clients and oversized input: timeouts per phase (under `tokio::time::pause`, no real
//! waiting), bounded command lines, talking before the greeting, per-IP connection limits, AUTH
//! failure delays and bans, plaintext injected after STARTTLS and a STARTTLS handshake that
//! stalls. Smuggled end-of-data is in `protection_smuggling.rs`, relay tricks and enumeration in
//! `protection_relay.rs`, message size, text line length and recipient limits in
//! `protection_limits.rs`.

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

#[tokio::test]
async fn a_client_that_talks_before_the_greeting_is_refused() {
    let mut config = common::test_config();
    config.greeting_delay = Duration::from_secs(5);
    let s = common::start_with(config).await;
    tokio::time::pause();
    let mut eager = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    eager
        .get_mut()
        .write_all(b"EHLO eager.example\r\n")
        .await
        .unwrap();
    assert_eq!(
        line(&mut eager).await,
        "554 5.5.0 Commands sent before the greeting\r\n"
    );
    assert_eq!(line(&mut eager).await, "", "closed");

    let mut patient = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    assert_eq!(
        line(&mut patient).await,
        "220 mx.test.example ESMTP Marque\r\n"
    );
    patient.get_mut().write_all(b"NOOP\r\n").await.unwrap();
    assert_eq!(line(&mut patient).await, "250 2.0.0 OK\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_greeting_delay_a_patient_client_is_served() {
    let mut config = common::test_config();
    config.greeting_delay = marque_smtp::Config::new("x").greeting_delay;
    let s = common::start_with(config).await;
    common::python(
        s.smtp.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
assert c.sendmail("x@remote.example", ["ann@c.example"], "Subject: patient\r\n\r\nhi\r\n") == {}
c.quit()
"#,
    )
    .await;
    assert_eq!(common::inbox(&s.core, "ann@c.example").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_auth_failures_ban_the_address_for_a_while() {
    let config = common::test_config();
    let s = common::start_with_sign_in(
        config,
        marque_core::signin::ThrottleConfig {
            ban_after: 3,
            ..common::fast_sign_in()
        },
    )
    .await;
    common::python(
        s.submission.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
bad = base64.b64encode(b"\0ann@c.example\0not the password").decode()
expect(c.docmd("AUTH", "PLAIN " + bad), 535, "5.7.8")
unknown = base64.b64encode(b"\0nobody@c.example\0whatever").decode()
# An unknown user gets exactly the same answer.
expect(c.docmd("AUTH", "PLAIN " + unknown), 535, "5.7.8")
expect(c.docmd("AUTH", "PLAIN " + bad), 535, "5.7.8")
code, text = c.getreply()
assert code == 421 and text.startswith(b"4.7.0"), (code, text)

s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
greeting = s.recv(4096)
assert greeting.startswith(b"421 4.7.0"), greeting
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_per_ip_connection_limit_the_answer_is_421() {
    use marque_session::{Limits, Listener, Shutdown, serve};
    let s = common::start().await;
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listener = Listener::new("smtp", tcp).limits(Limits {
        max_connections: 10,
        max_per_ip: 1,
    });
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let handler = std::sync::Arc::new(marque_smtp::Smtp::new(&s.core, common::test_config()));
    tokio::spawn(serve(
        listener,
        handler,
        shutdown.signal(),
        Duration::from_secs(5),
    ));
    let mut first = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(line(&mut first).await.starts_with("220 "));
    let mut second = BufReader::new(TcpStream::connect(addr).await.unwrap());
    assert!(line(&mut second).await.starts_with("421 4.7.0"));
    shutdown.trigger();
    assert!(line(&mut first).await.starts_with("421 4.3.2"));
}

#[tokio::test]
async fn a_client_that_stalls_inside_a_bdat_chunk_is_closed_with_421() {
    let mut config = common::test_config();
    config.data_timeout = Duration::from_secs(180);
    let s = common::start_with(config).await;
    tokio::time::pause();
    let mut c = BufReader::new(TcpStream::connect(s.smtp).await.unwrap());
    assert!(line(&mut c).await.starts_with("220 "));
    for cmd in [
        "EHLO c.example\r\n",
        "MAIL FROM:<x@remote.example>\r\n",
        "RCPT TO:<ann@c.example>\r\n",
    ] {
        c.get_mut().write_all(cmd.as_bytes()).await.unwrap();
        let r = reply(&mut c).await;
        assert!(r.starts_with('2'), "{cmd} -> {r}");
    }
    // 100 octets announced, 10 sent.
    c.get_mut()
        .write_all(b"BDAT 100 LAST\r\nSubject: \r\n")
        .await
        .unwrap();
    let before = tokio::time::Instant::now();
    assert_eq!(
        line(&mut c).await,
        "421 4.4.2 Timeout during BDAT, closing\r\n"
    );
    assert!(before.elapsed() >= Duration::from_secs(180));
    assert_eq!(line(&mut c).await, "", "closed");
    tokio::time::resume();
    assert!(common::inbox(&s.core, "ann@c.example").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_pipelined_after_starttls_is_discarded() {
    let s = common::start().await;
    common::python(
        s.smtp.port(),
        r#"
sock = socket.create_connection(("127.0.0.1", PORT), timeout=20)
f = sock.makefile("rb")
f.readline()
sock.sendall(b"EHLO c\r\n")
while not f.readline().startswith(b"250 "):
    pass
# CVE-2011-0411: commands sent with STARTTLS, before the handshake, must not be run inside TLS.
sock.sendall(b"STARTTLS\r\nRSET\r\nMAIL FROM:<evil@remote.example>\r\n")
assert f.readline() == b"220 2.0.0 Ready to start TLS\r\n"
# Any plaintext reply to RSET would land before the server's TLS handshake and break it.
t = CTX.wrap_socket(sock, server_hostname="localhost")
t.sendall(b"QUIT\r\n")
out = b""
while True:
    chunk = t.recv(4096)
    if not chunk:
        break
    out += chunk
# Only QUIT is answered: neither RSET's 250 nor MAIL's 503 (no EHLO yet after TLS).
assert out.startswith(b"221 2.0.0 ") and out.count(b"\r\n") == 1, out
"#,
    )
    .await;
}

/// The first bytes of a TLS ClientHello: a handshake record of 512 bytes announced, 6 sent.
const HALF_A_CLIENT_HELLO: &[u8] = &[0x16, 0x03, 0x01, 0x02, 0x00, 0x01];

#[tokio::test]
async fn a_starttls_handshake_that_stalls_is_dropped_after_its_timeout() {
    let s = common::start().await;
    let mut c = BufReader::new(TcpStream::connect(s.submission).await.unwrap());
    assert!(line(&mut c).await.starts_with("220 "));
    c.get_mut().write_all(b"EHLO c.example\r\n").await.unwrap();
    assert!(reply(&mut c).await.starts_with("250 "));
    c.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    assert_eq!(line(&mut c).await, "220 2.0.0 Ready to start TLS\r\n");
    // The paused clock runs to the handshake timeout, well before the command timeout.
    tokio::time::pause();
    c.get_mut().write_all(HALF_A_CLIENT_HELLO).await.unwrap();
    let before = tokio::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(60), line(&mut c)).await;
    assert_eq!(closed.expect("closed within a minute"), "", "closed");
    assert!(before.elapsed() >= marque_session::HANDSHAKE_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failures_are_answered_after_growing_delays() {
    let config = common::test_config();
    let s = common::start_with_sign_in(
        config,
        marque_core::signin::ThrottleConfig {
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_millis(800),
            ban_after: 100,
            ..common::fast_sign_in()
        },
    )
    .await;
    // Lower bounds only: the server sleeps at least this long before each 535.
    common::python(
        s.submission.port(),
        r#"
import time
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
bad = base64.b64encode(b"\0ann@c.example\0not the password").decode()
for least in [0.2, 0.4, 0.8, 0.8]:
    start = time.monotonic()
    expect(c.docmd("AUTH", "PLAIN " + bad), 535, "5.7.8")
    took = time.monotonic() - start
    assert took >= least, (least, took)
c.quit()
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_silent_inside_an_auth_exchange_is_closed_with_421() {
    let mut config = common::test_config();
    config.command_timeout = Duration::from_secs(1);
    let s = common::start_with(config).await;
    common::python(
        s.submission.port(),
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
expect(c.docmd("AUTH", "LOGIN"), 334)
# No answer to the challenge: the command timeout ends the exchange and the session.
code, text = c.getreply()
assert code == 421 and text.startswith(b"4.4.2"), (code, text)
try:
    c.noop()
    assert False, "still open"
except smtplib.SMTPServerDisconnected:
    pass
"#,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_banned_on_imap_is_refused_by_submission() {
    let s = common::start_with_sign_in(
        common::test_config(),
        marque_core::signin::ThrottleConfig {
            ban_after: 3,
            ..common::fast_sign_in()
        },
    )
    .await;
    // Failed IMAP sign-ins from 127.0.0.1, as the IMAP service records them.
    for _ in 0..3 {
        let attempt = marque_core::authlog::Attempt {
            protocol: "imap",
            login: "ann@c.example",
            remote: "127.0.0.1",
            mechanism: "LOGIN",
        };
        assert!(s.core.sign_in(attempt, "wrong").await.is_err());
    }
    // The ban is the address's on every service: submission refuses it at the greeting.
    let mut c = BufReader::new(TcpStream::connect(s.submission).await.unwrap());
    let greeting = line(&mut c).await;
    assert!(greeting.starts_with("421 4.7.0"), "{greeting}");
}

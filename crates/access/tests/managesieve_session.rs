//! ManageSieve over a raw socket: every command with its response codes, SASL, and the
//! limits on literals, lines, commands and sign-in failures.

mod managesieve_common;

use managesieve_common::{OTHER, PASSWORD, Raw, USER, start};
use marque_hosting::sieve::SieveLimits;

const SCRIPT: &str = "require \"fileinto\";\r\nif header :contains \"subject\" \"spam\" {\r\n  fileinto \"Junk\";\r\n}\r\n";

fn put(name: &str, script: &str) -> String {
    format!("PUTSCRIPT \"{name}\" {{{}+}}\r\n{script}\r\n", script.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_capabilities_and_plain_on_loopback() {
    let server = start(SieveLimits::default(), |s| s).await;
    let mut c = Raw::connect(server.port).await;
    let caps = c.cmd("CAPABILITY\r\n").await;
    for want in [
        "\"IMPLEMENTATION\" \"Marque ManageSieve\"",
        "\"SASL\" \"PLAIN\"",
        "\"STARTTLS\"",
        "\"MAXREDIRECTS\" \"1\"",
        "\"VERSION\" \"1.0\"",
    ] {
        assert!(caps.contains(want), "{want} missing from {caps}");
    }
    let sieve = caps
        .lines()
        .find(|l| l.starts_with("\"SIEVE\""))
        .expect("SIEVE line");
    for ext in [
        "fileinto",
        "vacation",
        "imap4flags",
        "copy",
        "body",
        "variables",
    ] {
        assert!(sieve.contains(ext), "{ext} missing from {sieve}");
    }
    assert!(caps.ends_with("OK\r\n"), "{caps}");
    assert!(c.cmd("LISTSCRIPTS\r\n").await.starts_with("NO"));
    let wrong = c.login(USER, "wrong password").await;
    assert!(wrong.starts_with("NO"), "{wrong}");
    assert!(c.login(USER, PASSWORD).await.starts_with("OK"));
    assert!(c.login(USER, PASSWORD).await.starts_with("NO"));
    // The attempts are in the authentication log with the protocol.
    let page = server
        .core
        .auth_log(marque_core::PROVIDER, None, 0, u64::MAX, None, 10)
        .await
        .unwrap();
    let outcomes: Vec<(&str, &str)> = page
        .records
        .iter()
        .map(|r| (r.protocol.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("managesieve", "success"), ("managesieve", "failure")]
    );
    assert_eq!(c.cmd("LOGOUT\r\n").await, "OK \"logout completed\"\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_sign_in_can_require_tls() {
    let server = start(SieveLimits::default(), |s| s.plaintext_on_loopback(false)).await;
    let mut c = Raw::connect(server.port).await;
    let caps = c.cmd("CAPABILITY\r\n").await;
    assert!(caps.contains("\"SASL\" \"\""), "{caps}");
    let r = c.login(USER, PASSWORD).await;
    assert!(r.starts_with("NO (ENCRYPT-NEEDED)"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_command_with_its_response_codes() {
    let limits = SieveLimits {
        max_scripts: 2,
        max_script_size: 1000,
    };
    let server = start(limits, |s| s).await;
    let mut c = Raw::connect(server.port).await;
    assert!(c.login(USER, PASSWORD).await.starts_with("OK"));
    assert_eq!(
        c.cmd(&put("main", SCRIPT)).await,
        "OK \"script stored\"\r\n"
    );
    let r = c.cmd(&put("bad", "keep;\r\nfileinto \"x\";\r\n")).await;
    assert!(r.starts_with("NO ") && r.contains("line 2"), "{r}");
    let r = c.cmd("CHECKSCRIPT {5+}\r\nkeep;\r\n").await;
    assert!(r.starts_with("OK"), "{r}");
    let r = c.cmd("CHECKSCRIPT \"fileinto \\\"x\\\";\"\r\n").await;
    assert!(r.starts_with("NO "), "{r}");
    let big = format!("# {}\r\nkeep;", "x".repeat(1000));
    let r = c.cmd(&put("big", &big)).await;
    assert!(r.starts_with("NO (QUOTA/MAXSIZE)"), "{r}");
    let r = c.cmd("HAVESPACE \"big\" 5000\r\n").await;
    assert!(r.starts_with("NO (QUOTA/MAXSIZE)"), "{r}");
    assert!(c.cmd("HAVESPACE \"x\" 100\r\n").await.starts_with("OK"));
    assert!(c.cmd(&put("second", "keep;")).await.starts_with("OK"));
    let r = c.cmd(&put("third", "keep;")).await;
    assert!(r.starts_with("NO (QUOTA/MAXSCRIPTS)"), "{r}");
    let r = c.cmd("HAVESPACE \"third\" 10\r\n").await;
    assert!(r.starts_with("NO (QUOTA/MAXSCRIPTS)"), "{r}");

    assert!(c.cmd("SETACTIVE \"main\"\r\n").await.starts_with("OK"));
    let r = c.cmd("SETACTIVE \"nothing\"\r\n").await;
    assert!(r.starts_with("NO (NONEXISTENT)"), "{r}");
    assert_eq!(
        c.cmd("LISTSCRIPTS\r\n").await,
        "\"main\" ACTIVE\r\n\"second\"\r\nOK\r\n"
    );
    assert_eq!(
        c.cmd("GETSCRIPT \"main\"\r\n").await,
        format!("{{{}}}\r\n{SCRIPT}\r\nOK\r\n", SCRIPT.len())
    );
    let r = c.cmd("GETSCRIPT \"none\"\r\n").await;
    assert!(r.starts_with("NO (NONEXISTENT)"), "{r}");
    let r = c.cmd("DELETESCRIPT \"main\"\r\n").await;
    assert!(r.starts_with("NO (ACTIVE)"), "{r}");
    let r = c.cmd("RENAMESCRIPT \"main\" \"second\"\r\n").await;
    assert!(r.starts_with("NO (ALREADYEXISTS)"), "{r}");
    assert!(
        c.cmd("RENAMESCRIPT \"main\" \"filters\"\r\n")
            .await
            .starts_with("OK")
    );
    assert!(c.cmd("SETACTIVE \"\"\r\n").await.starts_with("OK"));
    assert!(
        c.cmd("DELETESCRIPT \"filters\"\r\n")
            .await
            .starts_with("OK")
    );
    let r = c.cmd("DELETESCRIPT \"filters\"\r\n").await;
    assert!(r.starts_with("NO (NONEXISTENT)"), "{r}");
    assert_eq!(
        c.cmd("NOOP \"t1\"\r\n").await,
        "OK (TAG \"t1\") \"done\"\r\n"
    );

    // The other user sees none of it; UNAUTHENTICATE and sign in as them.
    assert!(c.cmd("UNAUTHENTICATE\r\n").await.starts_with("OK"));
    assert!(c.cmd("LISTSCRIPTS\r\n").await.starts_with("NO"));
    assert!(c.login(OTHER, PASSWORD).await.starts_with("OK"));
    assert_eq!(c.cmd("LISTSCRIPTS\r\n").await, "OK\r\n");

    // With a vacation on, replacing the active script without the section warns.
    let r = c.cmd(&put("mine", "keep;")).await;
    assert!(r.starts_with("OK"));
    assert!(c.cmd("SETACTIVE \"mine\"\r\n").await.starts_with("OK"));
    server
        .hosting
        .set_vacation(
            &marque_core::Actor::operator(),
            OTHER,
            Some(marque_hosting::sieve::Vacation {
                enabled: true,
                body: "away".into(),
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    let r = c.cmd(&put("mine", "keep;")).await;
    assert!(r.starts_with("OK (WARNINGS)"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_continuation_and_cancel() {
    use base64::Engine;
    use tokio::io::AsyncBufReadExt;
    let server = start(SieveLimits::default(), |s| s).await;
    let mut c = Raw::connect(server.port).await;
    c.send(b"AUTHENTICATE \"PLAIN\"\r\n").await;
    let mut line = String::new();
    c.r.read_line(&mut line).await.unwrap();
    assert_eq!(line, "\"\"\r\n");
    assert!(c.cmd("\"*\"\r\n").await.starts_with("NO"));
    c.send(b"AUTHENTICATE \"PLAIN\"\r\n").await;
    line.clear();
    c.r.read_line(&mut line).await.unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    let r = c.cmd(&format!("{{{}+}}\r\n{token}\r\n", token.len())).await;
    assert!(r.starts_with("OK"), "{r}");
    assert_eq!(c.cmd("LISTSCRIPTS\r\n").await, "OK\r\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_limits_hold() {
    let server = start(SieveLimits::default(), |s| s.max_commands(20)).await;
    let mut c = Raw::connect(server.port).await;
    assert!(
        c.cmd("FROB\r\n")
            .await
            .starts_with("NO \"unknown command FROB\"")
    );
    assert!(c.cmd("GETSCRIPT\r\n").await.starts_with("NO"));
    assert!(c.cmd("\"quoted\" first\r\n").await.starts_with("NO"));
    assert!(c.cmd("NOOP \"a\\x\"\r\n").await.starts_with("NO"));
    // Still in sync after the errors.
    assert!(c.cmd("NOOP\r\n").await.starts_with("OK"));
    // A literal larger than the limit is refused before it is sent.
    let r = c.cmd("PUTSCRIPT \"x\" {999999999+}\r\n").await;
    assert!(r.starts_with("BYE (QUOTA/MAXSIZE)"), "{r}");
    assert!(c.response().await.ends_with("<EOF>"));

    // A line without an end.
    let mut c = Raw::connect(server.port).await;
    c.send(&vec![b'A'; 20_000]).await;
    let r = c.response().await;
    assert!(r.starts_with("BYE \"line too long\""), "{r}");

    // Commands per connection.
    let mut c = Raw::connect(server.port).await;
    for _ in 0..20 {
        assert!(c.cmd("NOOP\r\n").await.starts_with("OK"));
    }
    assert!(c.cmd("NOOP\r\n").await.starts_with("BYE"));

    // Sign-in failures end the connection.
    let mut c = Raw::connect(server.port).await;
    for _ in 0..4 {
        assert!(c.login(USER, "nope").await.starts_with("NO"));
    }
    assert!(c.login(USER, "nope").await.starts_with("BYE"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_starttls_handshake_that_stalls_is_dropped_after_its_timeout() {
    let server = start(SieveLimits::default(), |s| s).await;
    let mut c = Raw::connect(server.port).await;
    let ok = c.cmd("STARTTLS\r\n").await;
    assert!(ok.starts_with("OK"), "{ok}");
    // The first bytes of a ClientHello (a 512-byte handshake record announced), then nothing:
    // the paused clock runs to the handshake timeout, well before the idle timeout.
    tokio::time::pause();
    c.send(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await;
    let before = tokio::time::Instant::now();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(60), c.response()).await;
    assert_eq!(closed.expect("closed within a minute"), "<EOF>");
    assert!(before.elapsed() >= marque_session::HANDSHAKE_TIMEOUT);
}

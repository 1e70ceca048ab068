//! `marque serve` as a real process on loopback.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

use common::{MARQUE, greeting, read_line, tls_connect, write_config};

const ALL: [&str; 10] = [
    "smtp",
    "submission",
    "submissions",
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "managesieve",
    "http",
    "https",
];

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn serves_every_service_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ALL);
    let mut server = MARQUE.serve(&config, &[], &[]);
    assert_eq!(server.listeners.len(), 10);
    let data = dir.path().join("data");

    // First start: a private admin token, its path logged but not its value.
    let token_file = data.join("admin-token");
    assert_eq!(mode(&token_file), 0o600);
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert!(token.trim().len() >= 32);
    assert!(!data.join("admin-token.new").exists());
    assert_eq!(mode(&data.join("tls/key.pem")), 0o600);

    assert_eq!(
        greeting(server.addr("smtp")),
        "220 localhost ESMTP Marque\r\n"
    );
    assert_eq!(
        greeting(server.addr("submission")),
        "220 localhost ESMTP Marque\r\n"
    );
    let imap = greeting(server.addr("imap"));
    assert!(
        imap.starts_with("* OK [CAPABILITY ") && imap.ends_with("localhost IMAP4rev1 ready\r\n"),
        "{imap}"
    );
    assert!(greeting(server.addr("pop3")).starts_with("+OK localhost POP3 ready "));
    let sieve = greeting(server.addr("managesieve"));
    assert!(
        sieve.starts_with("\"IMPLEMENTATION\" \"Marque ManageSieve\"\r\n"),
        "{sieve}"
    );

    // The admin API: refused without a token (a problem document), served with the one
    // written on first start.
    let get = |path: &str, auth: Option<&str>| {
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
    };
    let mut http = std::net::TcpStream::connect(server.addr("http")).unwrap();
    http.write_all(get("/api/v1/tenants", None).as_bytes())
        .unwrap();
    let mut response = String::new();
    http.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401 "), "{response}");
    assert!(response.contains("application/problem+json"));
    let mut http = std::net::TcpStream::connect(server.addr("http")).unwrap();
    http.write_all(get("/api/v1/tenants", Some(token.trim())).as_bytes())
        .unwrap();
    let mut response = String::new();
    http.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    assert!(response.contains("\"items\""), "{response}");

    // Implicit TLS with the self-signed certificate generated on first start.
    let cert = data.join("tls/cert.pem");
    let mut imaps = tls_connect(server.addr("imaps"), &cert, "localhost");
    assert!(read_line(&mut imaps).starts_with("* OK [CAPABILITY "));
    let mut smtps = tls_connect(server.addr("submissions"), &cert, "localhost");
    assert_eq!(read_line(&mut smtps), "220 localhost ESMTP Marque\r\n");
    let mut pop3s = tls_connect(server.addr("pop3s"), &cert, "localhost");
    assert!(read_line(&mut pop3s).starts_with("+OK localhost POP3 ready "));
    let mut https = tls_connect(server.addr("https"), &cert, "localhost");
    https
        .write_all(get("/api/v1/me", Some(token.trim())).as_bytes())
        .unwrap();
    assert_eq!(read_line(&mut https), "HTTP/1.1 200 OK\r\n");

    let status = server.terminate();
    assert!(status.success(), "exit {status:?}; log:\n{}", server.log());
    let log = server.log();
    assert!(log.contains(&token_file.display().to_string()), "{log}");
    assert!(!log.contains(token.trim()), "the token leaked into the log");
    assert!(log.contains("stopped"), "{log}");

    // A restart keeps the token.
    let mut again = MARQUE.serve(&config, &["--only", "smtp"], &[]);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    assert!(again.terminate().success());
}

#[test]
fn a_token_from_the_environment_is_not_written_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let secret = "operator-chosen-secret-0123456789";
    let mut server = MARQUE.serve(&config, &[], &[("MARQUE_ADMIN_TOKEN", secret)]);
    assert!(!dir.path().join("data/admin-token").exists());
    assert!(server.terminate().success());
    assert!(!server.log().contains(secret));
}

#[test]
fn a_too_short_token_from_the_environment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let out = MARQUE
        .command()
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("MARQUE_ADMIN_TOKEN", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin token"), "{err}");
    assert!(!dir.path().join("data/admin-token").exists());
}

#[test]
fn a_second_server_on_the_same_data_dir_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let mut first = MARQUE.serve(&config, &[], &[]);

    let second = MARQUE.run(&["serve", "--config", config.to_str().unwrap()]);
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("is in use by a running marque"), "{err}");

    // Operator commands open the data directory too, and say the same.
    let op = MARQUE.run(&["tenant", "list", "--config", config.to_str().unwrap()]);
    assert!(!op.status.success());
    let err = String::from_utf8_lossy(&op.stderr);
    assert!(err.contains("is in use by a running marque"), "{err}");

    assert!(first.terminate().success());
}

#[test]
fn only_runs_the_named_services() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp", "imap", "pop3"]);
    let mut server = MARQUE.serve(&config, &["--only", "smtp,pop3"], &[]);
    let names: Vec<_> = server.listeners.keys().cloned().collect();
    assert_eq!(names, ["pop3", "smtp"]);
    assert!(greeting(server.addr("pop3")).starts_with("+OK "));
    assert!(server.terminate().success());
}

#[test]
fn only_rejects_unknown_and_unconfigured_services() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let path = config.to_str().unwrap();

    let out = MARQUE.run(&["serve", "--config", path, "--only", "smtp,gopher"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown service \"gopher\""));

    let out = MARQUE.run(&["serve", "--config", path, "--only", "imap"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--only imap: the configuration gives it no address")
    );
}

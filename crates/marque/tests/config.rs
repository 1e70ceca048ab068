//! `marque config check` on good and bad files.

mod common;

use common::MARQUE;

#[test]
fn reports_every_problem_with_its_key_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"
[server]
hostname = "not a host"

[listeners]
imap = ["x"]
smtp = ["127.0.0.1:2525", "127.0.0.1:2525"]
telnet = ["127.0.0.1:23"]

[log]
format = "xml"
level = "loud=="
"#,
    )
    .unwrap();
    let out = MARQUE.run(&["config", "check", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "server.hostname: invalid host name \"not a host\"",
        "listeners.imap[0]: invalid socket address \"x\"",
        "listeners.smtp[1]: 127.0.0.1:2525 is also used by listeners.smtp[0]",
        "listeners.telnet: unknown service \"telnet\"",
        "log.format: unknown format \"xml\"",
        "log.level: invalid filter",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("6 problems"), "{err}");
}

#[test]
fn the_shipped_config_is_valid() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/marque.toml");
    let out = MARQUE.run(&["config", "check", "--config", shipped]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Production ports.
    for port in [25, 587, 465, 143, 993, 110, 995, 4190, 80, 443] {
        assert!(
            stdout.contains(&format!(":{port}")),
            "no port {port} in:\n{stdout}"
        );
    }
}

#[test]
fn without_a_file_the_embedded_default_is_checked() {
    let out = MARQUE.run(&["config", "check"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("the embedded default"), "{stdout}");
    assert!(stdout.contains("127.0.0.1:2525"), "{stdout}");
    assert!(stdout.contains("./data"), "{stdout}");
}

#[test]
fn a_missing_file_is_an_error() {
    let out = MARQUE.run(&["config", "check", "--config", "/nonexistent/marque.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/marque.toml"));
}

//! Debian's Postfix as a peer: a Postfix instance with its own configuration directory on
//! loopback relays everything to our port-25 listener (`relayhost = [127.0.0.1]:PORT`). Python's
//! smtplib hands a message to Postfix; it must reach the mailbox with Postfix's `Received:` line
//! under ours, and a recipient we refuse with `550` must bounce in Postfix (a permanent
//! failure), not sit in its queue.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A running Postfix instance in a temporary directory, stopped on drop.
struct Postfix {
    config: PathBuf,
    log: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

const MASTER_CF: &str = "\
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn postfix(config: &Path, action: &str) -> std::process::Output {
    Command::new("postfix")
        .arg("-c")
        .arg(config)
        .arg(action)
        .output()
        .expect("postfix must be installed (Debian package postfix)")
}

impl Postfix {
    /// Starts Postfix listening on a free loopback port, relaying everything to `relay_port`.
    fn start(relay_port: u16) -> Postfix {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        // The postfix user must reach the queue and data directories.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path();
        let config = root.join("conf");
        let data = root.join("data");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(root.join("queue")).unwrap();
        let chown = Command::new("chown")
            .arg("postfix:postfix")
            .arg(&data)
            .status()
            .expect("chown");
        assert!(
            chown.success(),
            "the postfix user must exist (Debian package postfix)"
        );
        let port = free_port();
        let log = root.join("maillog");
        let main = format!(
            "compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.test.example
mydomain = test.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:{relay_port}
smtp_dns_support_level = disabled
smtp_tls_security_level = may
alias_maps =
alias_database =
maillog_file = {log}
maillog_file_prefixes = {root}
",
            queue = root.join("queue").display(),
            data = data.display(),
            log = log.display(),
            root = root.display(),
        );
        std::fs::write(config.join("main.cf"), main).unwrap();
        let master = format!("127.0.0.1:{port} inet n - n - - smtpd\n{MASTER_CF}");
        std::fs::write(config.join("master.cf"), master).unwrap();
        let out = postfix(&config, "start");
        assert!(
            out.status.success(),
            "postfix start: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let p = Postfix {
            config,
            log,
            port,
            _dir: dir,
        };
        p.wait_for(|log| log.contains("daemon started"), "master to start");
        // The master opens its listener before it logs; wait until it takes connections.
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "postfix does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for(&self, ready: impl Fn(&str) -> bool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log();
            if ready(&log) {
                return;
            }
            assert!(Instant::now() < deadline, "waited for {what}; log:\n{log}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if !postfix(&self.config, "stop").status.success() {
            let _ = postfix(&self.config, "abort");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_relays_to_us() {
    let s = common::start().await;
    let pf = Postfix::start(s.smtp.port());
    common::python(
        pf.port,
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
msg = ("From: sender@remote.example\r\nTo: ann@c.example\r\n"
       "Message-ID: <via-postfix@remote.example>\r\nSubject: through Postfix\r\n\r\n"
       "Relayed by Postfix.\r\n.leading dot\r\n")
assert c.sendmail("sender@remote.example", ["ann@c.example"], msg) == {}
assert c.sendmail("sender@remote.example", ["nobody@c.example"], "Subject: nobody\r\n\r\nx\r\n") == {}
c.quit()
"#,
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let ann = loop {
        let ann = common::inbox(&s.core, "ann@c.example").await;
        if !ann.is_empty() {
            break ann;
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived; postfix log:\n{}",
            pf.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ann.len(), 1);
    let text = String::from_utf8_lossy(&ann[0].1).into_owned();
    // Ours first (from Postfix, over STARTTLS), then Postfix's own from smtplib.
    let received: Vec<_> = text
        .match_indices("Received: ")
        .map(|(i, _)| &text[i..])
        .collect();
    assert_eq!(received.len(), 2, "{text}");
    assert!(received[0].contains("from relay.test.example"), "{text}");
    assert!(received[0].contains("with ESMTPS"), "{text}");
    assert!(
        received[1].contains("by relay.test.example (Postfix)"),
        "{text}"
    );
    assert!(
        text.contains("Message-ID: <via-postfix@remote.example>"),
        "{text}"
    );
    assert!(
        text.ends_with("\r\nRelayed by Postfix.\r\n.leading dot\r\n"),
        "{text}"
    );

    // Our 550 is final for Postfix: it bounces instead of retrying.
    pf.wait_for(
        |log| {
            log.lines()
                .any(|l| l.contains("to=<nobody@c.example>") && l.contains("status=bounced"))
        },
        "the bounce of nobody@c.example",
    );
    let log = pf.log();
    assert!(
        log.lines()
            .any(|l| l.contains("to=<ann@c.example>") && l.contains("status=sent (250 2.0.0")),
        "{log}"
    );
    assert!(log.contains("550 5.1.1"), "{log}");
}

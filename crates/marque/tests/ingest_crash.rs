//! Never lose acknowledged mail: the real binary takes 2,000 messages over eight parallel SMTP
//! connections (Python smtplib), is killed with SIGKILL partway, and is started again. Every
//! message that got its `250` must be in the mailbox (found over IMAP by Message-ID), exactly
//! once and byte for byte; a message cut off by the kill may be there or not, but whole.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{MARQUE, write_config};
use marque_tests::clients::succeeded;

const PASSWORD: &str = "crash test password";
const TOTAL: usize = 2000;
const CONNECTIONS: usize = 8;
/// Acknowledged messages after which the server is killed.
const KILL_AFTER: usize = 600;

/// The message for number `n`: its body says what it must be, so a truncated or mixed-up
/// copy is recognised.
const MESSAGE_PY: &str = r#"
def message(n):
    body = "".join("line %d of message %d: %s\r\n" % (i, n, "x" * 60) for i in range(40))
    return ("From: sender@remote.example\r\nTo: ann@crash.example\r\n"
            "Message-ID: <%d@crash.test>\r\nSubject: crash %d\r\n\r\n" % (n, n)) + body
"#;

fn set_up(config: &Path) {
    let c = config.to_str().unwrap();
    let out = succeeded(
        "marque",
        &MARQUE.run(&[
            "tenant", "create", "--config", c, "--name", "Crash", "--kind", "customer",
        ]),
    );
    assert!(out.starts_with("created customer 2 "), "{out}");
    succeeded(
        "marque",
        &MARQUE.run(&[
            "domain",
            "create",
            "crash.example",
            "--tenant",
            "2",
            "--config",
            c,
        ]),
    );
    succeeded(
        "marque",
        &MARQUE.run_with_stdin(
            &[
                "mailbox",
                "create",
                "ann@crash.example",
                "--quota-mb",
                "2048",
                "--password-stdin",
                "--config",
                c,
            ],
            &format!("{PASSWORD}\n"),
        ),
    );
}

/// Sends the messages from `CONNECTIONS` threads; prints `ack N` as each `250` arrives.
fn sender_script(port: u16) -> String {
    format!(
        r#"
import smtplib, sys, threading
{MESSAGE_PY}
lock = threading.Lock()
def worker(k):
    try:
        c = smtplib.SMTP("127.0.0.1", {port}, timeout=60)
        c.ehlo("crash.client")
        for n in range(k, {TOTAL}, {CONNECTIONS}):
            c.sendmail("sender@remote.example", ["ann@crash.example"], message(n).encode())
            with lock:
                sys.stdout.write("ack %d\n" % n)
                sys.stdout.flush()
    except Exception as e:
        with lock:
            sys.stdout.write("stopped %d %r\n" % (k, e))
            sys.stdout.flush()
threads = [threading.Thread(target=worker, args=(k,)) for k in range({CONNECTIONS})]
for t in threads: t.start()
for t in threads: t.join()
"#
    )
}

/// Reads every message over IMAP; checks each is whole and prints its number.
fn reader_script(port: u16) -> String {
    format!(
        r#"
import imaplib, re
{MESSAGE_PY}
m = imaplib.IMAP4("127.0.0.1", {port})
m.login("ann@crash.example", "{PASSWORD}")
typ, data = m.select("INBOX", readonly=True)
count = int(data[0])
if count:
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    for part in data:
        if not isinstance(part, tuple):
            continue
        raw = part[1]
        n = int(re.search(rb"Message-ID: <(\d+)@crash.test>", raw).group(1))
        expected = message(n).encode()
        # Our Received: line comes first; the rest is the message as sent.
        assert raw.endswith(expected), "message %d is not whole" % n
        print("have", n)
m.logout()
"#
    )
}

#[test]
fn every_acknowledged_message_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp", "imap"]);
    // No greeting delay: the test wants many transactions quickly, not the pre-greeting check.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[smtp]\ngreeting_delay_ms = 0\n");
    std::fs::write(&config, text).unwrap();
    set_up(&config);

    let mut server = MARQUE.serve(&config, &[], &[]);
    let mut sender = Command::new("python3")
        .arg("-c")
        .arg(sender_script(server.addr("smtp").port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed");
    let mut acked = std::collections::BTreeSet::new();
    let mut killed = false;
    for line in BufReader::new(sender.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ack ") {
            acked.insert(n.parse::<usize>().unwrap());
        }
        if !killed && acked.len() >= KILL_AFTER {
            // SIGKILL: no shutdown, no flush; only what was fsynced before each 250 remains.
            server.kill();
            killed = true;
        }
    }
    assert!(sender.wait().unwrap().success());
    assert!(
        killed,
        "the sender finished before the kill: {} acks",
        acked.len()
    );
    assert!(acked.len() < TOTAL, "the kill came too late");

    let server = MARQUE.serve(&config, &[], &[]);
    let out = Command::new("python3")
        .arg("-c")
        .arg(reader_script(server.addr("imap").port()))
        .output()
        .expect("python3");
    let stdout = succeeded("python3", &out);
    let mut have = std::collections::BTreeMap::<usize, usize>::new();
    for l in stdout.lines() {
        let n: usize = l.strip_prefix("have ").unwrap().parse().unwrap();
        *have.entry(n).or_default() += 1;
    }
    let lost: Vec<_> = acked.iter().filter(|n| !have.contains_key(n)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let doubled: Vec<_> = have.iter().filter(|(_, c)| **c > 1).collect();
    assert!(doubled.is_empty(), "stored more than once: {doubled:?}");
    // At most one message per connection was in flight at the kill.
    assert!(
        have.len() <= acked.len() + CONNECTIONS,
        "{} stored",
        have.len()
    );
    eprintln!(
        "{} acknowledged before SIGKILL, {} stored after restart",
        acked.len(),
        have.len()
    );
}

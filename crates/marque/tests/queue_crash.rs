//! The outbound queue survives SIGKILL: the real binary takes 300 messages for a remote domain
//! over submission (Python smtplib), its workers deliver them through the domain's MX (a DNS
//! server on loopback) to an SMTP sink that records every Message-ID, and the server is killed
//! with SIGKILL while the queue is delivering. After a restart the queue drains; then every
//! message that got its `250` from Marque has reached the sink, and a message reached the sink
//! twice only if its session was still open at the kill (the sink had said `250` but Marque had
//! not yet recorded it: the at-least-once window of docs/architecture.md).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{MARQUE, Server};
use marque_tests::clients::succeeded;
use marque_tests::dns::{self, Zone};

const PASSWORD: &str = "queue crash password";
const TOTAL: usize = 300;
const CONNECTIONS: usize = 4;
/// Messages the sink has received when the server is killed.
const KILL_AFTER: usize = 60;
/// `[outbound] concurrency`: at most this many sessions are open at the kill.
const CONCURRENCY: usize = 10;

const MESSAGE_PY: &str = r#"
def message(n):
    body = "".join("line %d of message %d: %s\r\n" % (i, n, "y" * 60) for i in range(30))
    return ("From: ann@crash.example\r\nTo: sink@remote.test\r\n"
            "Message-ID: <%d@queue.crash>\r\nSubject: queue %d\r\n\r\n" % (n, n)) + body + (
            "end of message %d\r\n" % n)
"#;

/// Serves MX for `remote.test` (→ `mx.remote.test`) and A for `mx.remote.test` (127.0.0.1)
/// on loopback, from the runtime `rt` (the server stops when it is dropped).
fn dns(rt: &tokio::runtime::Runtime) -> dns::TestDns {
    rt.block_on(dns::serve([Zone::new("remote.test")
        .mx("remote.test", 10, "mx.remote.test")
        .a("mx.remote.test", Ipv4Addr::LOCALHOST)]))
}

/// What the sink saw.
#[derive(Default)]
struct SinkLog {
    /// Message numbers in order of arrival (one per accepted DATA).
    received: Vec<usize>,
    /// Messages whose session had not yet ended with QUIT (Marque quits only after it has
    /// recorded the delivery).
    unconfirmed: BTreeSet<usize>,
    /// Messages whose content was not the one sent.
    damaged: Vec<usize>,
}

/// An SMTP server on 127.0.0.1 that accepts everything and records each message's number.
struct Sink {
    port: u16,
    log: Arc<Mutex<SinkLog>>,
    open: Arc<AtomicUsize>,
}

fn sink() -> Sink {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let log: Arc<Mutex<SinkLog>> = Arc::default();
    let open: Arc<AtomicUsize> = Arc::default();
    let (log2, open2) = (log.clone(), open.clone());
    std::thread::spawn(move || {
        for tcp in l.incoming() {
            let Ok(tcp) = tcp else { continue };
            open2.fetch_add(1, Ordering::SeqCst);
            let (log, open) = (log2.clone(), open2.clone());
            std::thread::spawn(move || {
                let _ = sink_session(tcp, &log);
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Sink { port, log, open }
}

fn sink_session(tcp: TcpStream, log: &Mutex<SinkLog>) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut w = tcp.try_clone()?;
    let mut r = BufReader::new(tcp);
    w.write_all(b"220 sink.remote.test ESMTP\r\n")?;
    let mut mine = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            "250-sink.remote.test\r\n250-PIPELINING\r\n250 8BITMIME"
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            let n = data
                .split("Message-ID: <")
                .nth(1)
                .and_then(|rest| rest.split('@').next())
                .and_then(|n| n.parse::<usize>().ok())
                .expect("the message has its Message-ID");
            let mut g = log.lock().unwrap();
            g.received.push(n);
            g.unconfirmed.insert(n);
            if !data.ends_with(&format!("end of message {n}\r\n")) {
                g.damaged.push(n);
            }
            mine.push(n);
            "250 2.0.0 accepted"
        } else if upper == "QUIT" {
            let mut g = log.lock().unwrap();
            for n in mine.drain(..) {
                g.unconfirmed.remove(&n);
            }
            w.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            "250 ok"
        };
        w.write_all(format!("{reply}\r\n").as_bytes())?;
    }
}

fn write_config(dir: &Path, dns: SocketAddr, sink_port: u16) -> std::path::PathBuf {
    let text = format!(
        "[server]\nhostname = \"localhost\"\ndata_dir = \"{}\"\nshutdown_grace_secs = 2\n\n\
         [listeners]\nsubmission = [\"127.0.0.1:0\"]\nhttp = [\"127.0.0.1:0\"]\n\n\
         [dns]\nnameservers = [\"{dns}\"]\n\n\
         [submission]\nmax_messages_per_hour = 0\nmax_recipients_per_hour = 0\n\n\
         [outbound]\nport = {sink_port}\nconcurrency = {CONCURRENCY}\nretry_initial_secs = 1\n\
         retry_max_delay_secs = 2\n",
        dir.join("data").display()
    );
    let path = dir.join("marque.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn set_up(config: &Path) {
    let c = config.to_str().unwrap();
    succeeded(
        "marque",
        &MARQUE.run(&[
            "tenant", "create", "--config", c, "--name", "Crash", "--kind", "customer",
        ]),
    );
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
                "100",
                "--password-stdin",
                "--config",
                c,
            ],
            &format!("{PASSWORD}\n"),
        ),
    );
}

/// Submits the messages from `CONNECTIONS` threads; prints `ack N` as each `250` arrives.
fn sender_script(port: u16) -> String {
    format!(
        r#"
import smtplib, ssl, sys, threading
{MESSAGE_PY}
lock = threading.Lock()
def worker(k):
    try:
        c = smtplib.SMTP("127.0.0.1", {port}, timeout=60)
        c.starttls(context=ssl._create_unverified_context())
        c.ehlo("crash.client")
        c.login("ann@crash.example", "{PASSWORD}")
        for n in range(k, {TOTAL}, {CONNECTIONS}):
            c.sendmail("ann@crash.example", ["sink@remote.test"], message(n).encode())
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

/// The queue's entries through the admin API, as the operator.
fn queue_len(server: &Server, token: &str) -> usize {
    let mut http = TcpStream::connect(server.addr("http")).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        http,
        "GET /api/v1/queue HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    http.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
    v["items"].as_array().expect("items").len()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn the_queue_delivers_every_acknowledged_message_after_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dns = dns(&rt);
    let config = write_config(dir.path(), dns.addr, sink.port);
    set_up(&config);

    let mut server = MARQUE.serve(&config, &[], &[]);
    let mut sender = Command::new("python3")
        .arg("-c")
        .arg(sender_script(server.addr("submission").port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed");
    let acked: Arc<Mutex<BTreeSet<usize>>> = Arc::default();
    let out = sender.stdout.take().unwrap();
    let acked2 = acked.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("ack ") {
                acked2.lock().unwrap().insert(n.parse::<usize>().unwrap());
            } else {
                eprintln!("sender: {line}");
            }
        }
    });
    wait_for("deliveries to start", Duration::from_secs(120), || {
        sink.log.lock().unwrap().received.len() >= KILL_AFTER
    });
    // SIGKILL: sessions are cut wherever they are; only what was fsynced remains.
    server.kill();
    assert!(sender.wait().unwrap().success());
    reader.join().unwrap();
    // Every session of the killed process has ended at the sink.
    wait_for(
        "the sink's sessions to close",
        Duration::from_secs(30),
        || sink.open.load(Ordering::SeqCst) == 0,
    );
    let acked = acked.lock().unwrap().clone();
    let (before, in_flight) = {
        let g = sink.log.lock().unwrap();
        (g.received.len(), g.unconfirmed.clone())
    };
    assert!(
        before < acked.len(),
        "the queue had drained before the kill ({before} received, {} acknowledged)",
        acked.len()
    );

    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let server = MARQUE.serve(&config, &[], &[]);
    wait_for("the queue to drain", Duration::from_secs(300), || {
        let have: BTreeSet<usize> = sink.log.lock().unwrap().received.iter().copied().collect();
        acked.is_subset(&have) && queue_len(&server, token.trim()) == 0
    });

    let g = sink.log.lock().unwrap();
    assert!(g.damaged.is_empty(), "damaged in transit: {:?}", g.damaged);
    let mut copies = BTreeMap::<usize, usize>::new();
    for n in &g.received {
        *copies.entry(*n).or_default() += 1;
    }
    let lost: Vec<_> = acked.iter().filter(|n| !copies.contains_key(n)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but never delivered: {lost:?}"
    );
    let twice: BTreeSet<usize> = copies
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(n, _)| *n)
        .collect();
    assert!(
        twice.is_subset(&in_flight),
        "delivered twice though the first delivery was complete: {:?}",
        twice.difference(&in_flight).collect::<Vec<_>>()
    );
    assert!(
        copies.values().all(|c| *c <= 2),
        "a message delivered more than twice: {copies:?}"
    );
    assert!(
        in_flight.len() <= CONCURRENCY,
        "{} sessions unconfirmed at the kill",
        in_flight.len()
    );
    // Nothing but what was submitted.
    assert!(copies.keys().all(|n| *n < TOTAL));
    eprintln!(
        "{} acknowledged, {before} at the sink before SIGKILL ({} of them unconfirmed), \
         {} delivered twice, {} messages at the sink in the end",
        acked.len(),
        in_flight.len(),
        twice.len(),
        copies.len()
    );
}

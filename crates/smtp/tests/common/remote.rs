//! Remote peers for outbound tests: a DNS server on 127.0.0.1 answering from a fixed zone, a
//! scripted SMTP server that records what it accepted, the outbound workers configured to
//! retry fast, and a submission client (Python smtplib).

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, MX};
use hickory_resolver::proto::rr::{Name, RData, Record};
use marque_core::{Actor, Core};
use marque_hosting::Hosting;
use marque_session::Shutdown;
use marque_smtp::outbound::{OutboundConfig, run};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};

use super::{PASSWORD, python};

/// A DNS server on 127.0.0.1 answering from `zone` (name → records); other names are NXDOMAIN.
pub async fn dns(zone: Vec<(&str, RData)>) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind dns");
    let addr = sock.local_addr().expect("addr");
    let zone: Vec<(Name, RData)> = zone
        .into_iter()
        .map(|(n, r)| (Name::from_ascii(n).expect("name"), r))
        .collect();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::new(q.metadata.id, MessageType::Response, q.metadata.op_code);
            resp.metadata.authoritative = true;
            resp.metadata.recursion_desired = q.metadata.recursion_desired;
            let mut known = false;
            for query in &q.queries {
                resp.add_query(query.clone());
                for (name, rdata) in &zone {
                    if name.eq_case(query.name()) || name == query.name() {
                        known = true;
                        if rdata.record_type() == query.query_type() {
                            resp.add_answer(Record::from_rdata(name.clone(), 60, rdata.clone()));
                        }
                    }
                }
            }
            if !known {
                resp.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Ok(bytes) = resp.to_vec() {
                let _ = sock.send_to(&bytes, from).await;
            }
        }
    });
    addr
}

pub fn mx(host: &str) -> RData {
    RData::MX(MX::new(10, Name::from_ascii(host).expect("name")))
}

pub fn a(ip: [u8; 4]) -> RData {
    RData::A(A::from(std::net::Ipv4Addr::from(ip)))
}

/// One transaction a scripted peer received.
#[derive(Debug, Clone, Default)]
pub struct Got {
    pub client: Option<IpAddr>,
    pub helo: String,
    pub mail: String,
    pub rcpts: Vec<String>,
    pub data: String,
}

/// What a scripted peer answers to RCPT in its `n`th transaction (0-based).
pub type Script = Arc<dyn Fn(usize) -> &'static str + Send + Sync>;

/// A scripted SMTP server on `ip` (port chosen by the system); records what it accepted and
/// every MAIL it saw.
pub struct Peer {
    pub addr: SocketAddr,
    pub got: Arc<Mutex<Vec<Got>>>,
    pub mails: Arc<Mutex<usize>>,
}

pub async fn peer(ip: &str, script: Script) -> Peer {
    peer_with(ip, script, true).await
}

/// A scripted peer that offers the DSN extension (RFC 3461) or not.
pub async fn peer_with(ip: &str, script: Script, dsn: bool) -> Peer {
    let l = TcpListener::bind((ip, 0)).await.expect("bind peer");
    let addr = l.local_addr().expect("addr");
    let got: Arc<Mutex<Vec<Got>>> = Arc::default();
    let mails: Arc<Mutex<usize>> = Arc::default();
    let (g, mcount) = (got.clone(), mails.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, from)) = l.accept().await else {
                return;
            };
            let (g, mcount, script) = (g.clone(), mcount.clone(), script.clone());
            tokio::spawn(async move {
                let (r, mut w) = tcp.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 peer.remote.test ESMTP\r\n").await;
                let mut cur = Got {
                    client: Some(from.ip()),
                    ..Got::default()
                };
                let mut refuse = false;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    let upper = cmd.to_ascii_uppercase();
                    let reply: String = if upper.starts_with("EHLO") {
                        cur.helo = cmd[5..].to_string();
                        if dsn {
                            "250-peer.remote.test\r\n250-PIPELINING\r\n250-DSN\r\n250 SIZE 1000000"
                                .into()
                        } else {
                            "250-peer.remote.test\r\n250-PIPELINING\r\n250 SIZE 1000000".into()
                        }
                    } else if upper.starts_with("MAIL FROM:") {
                        let n = {
                            let mut m = mcount.lock().unwrap();
                            *m += 1;
                            *m - 1
                        };
                        cur.mail = cmd[10..].to_string();
                        cur.rcpts.clear();
                        let answer = script(n);
                        refuse = !answer.starts_with('2');
                        "250 2.1.0 ok".into()
                    } else if upper.starts_with("RCPT TO:") {
                        cur.rcpts.push(cmd[8..].to_string());
                        let n = *mcount.lock().unwrap() - 1;
                        script(n).into()
                    } else if upper == "DATA" {
                        if refuse {
                            "554 5.5.1 no valid recipients".into()
                        } else {
                            let _ = w.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            cur.data = data;
                            g.lock().unwrap().push(cur.clone());
                            "250 2.0.0 queued as 42".into()
                        }
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        "250 ok".into()
                    };
                    let _ = w.write_all(format!("{reply}\r\n").as_bytes()).await;
                }
            });
        }
    });
    Peer { addr, got, mails }
}

/// Workers against `dns` on `port`, retrying fast.
pub fn workers(core: &Core, dns: SocketAddr, port: u16) -> Shutdown {
    workers_with(core, dns, port, |_| {})
}

/// Workers as [`workers`], with `adjust` applied to their configuration.
pub fn workers_with(
    core: &Core,
    dns: SocketAddr,
    port: u16,
    adjust: impl FnOnce(&mut OutboundConfig),
) -> Shutdown {
    let mut cfg = OutboundConfig::new("mx.test.example");
    cfg.port = port;
    cfg.nameservers = vec![dns];
    cfg.retry_initial_ms = 100;
    cfg.retry_max_delay_ms = 200;
    cfg.poll_interval = Duration::from_millis(50);
    cfg.timeouts.command = Duration::from_secs(20);
    adjust(&mut cfg);
    let shutdown = Shutdown::new();
    tokio::spawn(run(
        core.clone(),
        cfg,
        shutdown.signal(),
        Duration::from_secs(5),
    ));
    shutdown
}

/// Waits (up to a minute) until `done` holds.
pub async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..1200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

pub async fn queue_len(hosting: &Hosting) -> usize {
    hosting
        .queue_list(&Actor::operator(), 0, 100)
        .await
        .expect("queue")
        .len()
}

/// Submits one message from ann@c.example over submission with smtplib.
pub async fn submit(port: u16, to: &str, mail_opts: &str, rcpt_opts: &str, body: &str) {
    let script = format!(
        r#"
c = smtplib.SMTP("127.0.0.1", PORT)
c.starttls(context=CTX)
c.ehlo("client.example")
assert c.has_extn("dsn"), c.esmtp_features
expect(c.login("ann@c.example", "{PASSWORD}"), 235)
expect(c.mail("ann@c.example", [{mail_opts}]), 250)
expect(c.rcpt("{to}", [{rcpt_opts}]), 250, "2.1.5")
expect(c.data({body:?}), 250)
c.quit()
"#
    );
    python(port, &script).await;
}

//! The workload: realistic messages, the preload through APPEND, and one round of the command
//! mix for N clients. Each client holds a signed-in session on INBOX and repeats one cycle:
//! SELECT, FETCH of a page of headers (x3), FETCH of a whole message (x3), STORE of a flag
//! (x2), SEARCH, APPEND, EXPUNGE of the message it appended, IDLE in and out, and LOGIN on a
//! fresh connection. Every command's time is summed per command, so a command's rate is
//! clients / its mean latency under the mixed load.

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use super::client::Client;
use super::servers::{PASSWORD, user};

/// The commands measured, in the order they are reported.
pub const COMMANDS: [&str; 9] = [
    "LOGIN",
    "SELECT",
    "FETCH hdr",
    "FETCH body",
    "STORE",
    "SEARCH",
    "APPEND",
    "EXPUNGE",
    "IDLE",
];

/// A small deterministic generator (xorshift64*), so both servers get the same messages.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const WORDS: [&str; 24] = [
    "invoice",
    "meeting",
    "tomorrow",
    "quarterly",
    "report",
    "attached",
    "please",
    "review",
    "budget",
    "project",
    "deadline",
    "thanks",
    "schedule",
    "customer",
    "update",
    "draft",
    "contract",
    "shipping",
    "question",
    "weekend",
    "release",
    "notes",
    "agenda",
    "travel",
];
const PEOPLE: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

/// A message of 2 to 20 KB: usual headers, some of them replies, and lines of words.
pub fn message(rng: &mut Rng, n: u64) -> Vec<u8> {
    let size = 2048 + rng.below(18 * 1024) as usize;
    let from = PEOPLE[rng.below(8) as usize];
    let to = PEOPLE[rng.below(8) as usize];
    let subject: Vec<&str> = (0..4).map(|_| WORDS[rng.below(24) as usize]).collect();
    let day = 1 + rng.below(28);
    let mut m = format!(
        "Return-Path: <{from}@example.org>\r\nReceived: from mx.example.org by bench.test; \
         Tue, {day} Jan 2025 10:{:02}:00 +0000\r\nFrom: {from} <{from}@example.org>\r\n\
         To: {to} <{to}@{}>\r\nSubject: {}{}\r\nDate: Tue, {day} Jan 2025 10:{:02}:00 +0000\r\n\
         Message-ID: <{n}.{}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        n % 60,
        super::servers::DOMAIN,
        if n.is_multiple_of(3) { "Re: " } else { "" },
        subject.join(" "),
        n % 60,
        rng.next()
    )
    .into_bytes();
    while m.len() < size {
        let mut line = String::new();
        while line.len() < 70 {
            line.push_str(WORDS[rng.below(24) as usize]);
            line.push(' ');
        }
        m.extend_from_slice(line.trim_end().as_bytes());
        m.extend_from_slice(b"\r\n");
    }
    m
}

/// Signs in as user `u` and selects INBOX.
pub async fn session(port: u16, u: usize) -> io::Result<Client> {
    let mut c = Client::connect(port).await?;
    c.cmd(&format!("LOGIN \"{}\" \"{PASSWORD}\"", user(u)))
        .await?;
    c.cmd("SELECT INBOX").await?;
    Ok(c)
}

/// APPENDs `per_user` messages to each of `users` users' INBOX, one connection per user.
pub async fn preload(port: u16, users: usize, per_user: u64) -> io::Result<()> {
    let mut tasks = Vec::new();
    for u in 0..users {
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(port).await?;
            c.cmd(&format!("LOGIN \"{}\" \"{PASSWORD}\"", user(u)))
                .await?;
            let mut rng = Rng::new(u as u64 + 1);
            for n in 0..per_user {
                c.append("INBOX", &message(&mut rng, n)).await?;
            }
            c.cmd("LOGOUT").await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    Ok(())
}

/// Per command: how many ran and the time they took, over all clients.
#[derive(Debug, Default, Clone)]
pub struct Tally(pub BTreeMap<&'static str, (u64, Duration)>);

impl Tally {
    fn add(&mut self, cmd: &'static str, d: Duration) {
        let e = self.0.entry(cmd).or_default();
        e.0 += 1;
        e.1 += d;
    }

    fn merge(&mut self, other: Tally) {
        for (k, (n, d)) in other.0 {
            let e = self.0.entry(k).or_default();
            e.0 += n;
            e.1 += d;
        }
    }

    /// Operations per second of `cmd` with `clients` clients: clients / mean latency.
    pub fn rate(&self, cmd: &str, clients: usize) -> f64 {
        match self.0.get(cmd) {
            Some(&(n, d)) if !d.is_zero() => n as f64 * clients as f64 / d.as_secs_f64(),
            _ => 0.0,
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().map(|v| v.0).sum()
    }
}

/// Times one command into the tally.
macro_rules! timed {
    ($tally:expr, $name:expr, $e:expr) => {{
        let t = Instant::now();
        let r = $e;
        $tally.add($name, t.elapsed());
        r
    }};
}

/// One client's cycles until `until`.
async fn client(port: u16, id: usize, users: usize, until: Instant) -> io::Result<Tally> {
    let u = id % users;
    let mut tally = Tally::default();
    let mut c = session(port, u).await?;
    let mut rng = Rng::new(1_000 + id as u64);
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        timed!(tally, "SELECT", c.cmd("SELECT INBOX").await?);
        for _ in 0..3 {
            let first = 1 + rng.below(950);
            timed!(
                tally,
                "FETCH hdr",
                c.cmd(&format!(
                    "FETCH {first}:{} (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS \
                     (FROM TO SUBJECT DATE MESSAGE-ID)])",
                    first + 49
                ))
                .await?
            );
        }
        for _ in 0..3 {
            let m = 1 + rng.below(1000);
            timed!(
                tally,
                "FETCH body",
                c.cmd(&format!("FETCH {m} (BODY.PEEK[])")).await?
            );
        }
        for i in 0..2 {
            let m = 1 + rng.below(1000);
            let sign = if i == 0 { '+' } else { '-' };
            timed!(
                tally,
                "STORE",
                c.cmd(&format!("STORE {m} {sign}FLAGS.SILENT (\\Flagged)"))
                    .await?
            );
        }
        let word = WORDS[rng.below(24) as usize];
        timed!(
            tally,
            "SEARCH",
            c.cmd(&format!("UID SEARCH UNFLAGGED SUBJECT \"{word}\""))
                .await?
        );
        let msg = message(&mut rng, 1_000_000 + id as u64 * 100_000 + n);
        let uid = timed!(tally, "APPEND", c.append("INBOX", &msg).await?);
        let uid = uid.ok_or_else(|| io::Error::other("APPEND without APPENDUID"))?;
        timed!(tally, "EXPUNGE", {
            c.cmd(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))
                .await?;
            c.cmd(&format!("UID EXPUNGE {uid}")).await?
        });
        timed!(tally, "IDLE", {
            let tag = c.idle_start().await?;
            c.idle_done(&tag).await?
        });
        timed!(tally, "LOGIN", {
            let mut l = Client::connect(port).await?;
            l.cmd(&format!("LOGIN \"{}\" \"{PASSWORD}\"", user(u)))
                .await?;
            l.cmd("LOGOUT").await?
        });
    }
    c.cmd("LOGOUT").await?;
    Ok(tally)
}

/// One round: `clients` clients for `secs` seconds.
pub async fn round(port: u16, clients: usize, users: usize, secs: u64) -> io::Result<Tally> {
    let until = Instant::now() + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..clients)
        .map(|id| tokio::spawn(client(port, id, users, until)))
        .collect();
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await.map_err(io::Error::other)??);
    }
    Ok(all)
}

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

/// The commands this run measures: all of [`COMMANDS`], or those named in `ONLY`
/// (comma-separated, e.g. `ONLY="FETCH hdr,SEARCH"`), in which case the mix is left out too.
pub fn selected() -> Vec<&'static str> {
    match std::env::var("ONLY") {
        Ok(only) => {
            let wanted: Vec<String> = only.split(',').map(|c| c.trim().to_uppercase()).collect();
            COMMANDS
                .into_iter()
                .filter(|c| wanted.iter().any(|w| w.eq_ignore_ascii_case(c)))
                .collect()
        }
        Err(_) => COMMANDS.to_vec(),
    }
}

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

    pub fn total(&self) -> u64 {
        self.0.values().map(|v| v.0).sum()
    }
}

/// What one client carries from command to command.
struct Ctx {
    port: u16,
    user: usize,
    id: usize,
    rng: Rng,
    n: u64,
    /// UIDs this client appended and has not expunged yet.
    appended: Vec<u32>,
    /// Messages preloaded per INBOX.
    messages: u64,
}

/// Runs one command of the benchmark on `c`.
async fn op(c: &mut Client, cx: &mut Ctx, cmd: &str) -> io::Result<()> {
    match cmd {
        "LOGIN" => {
            let mut l = Client::connect(cx.port).await?;
            l.cmd(&format!("LOGIN \"{}\" \"{PASSWORD}\"", user(cx.user)))
                .await?;
            l.cmd("LOGOUT").await?;
        }
        "SELECT" => {
            c.cmd("SELECT INBOX").await?;
        }
        "FETCH hdr" => {
            // A page of 50 (fewer if the INBOX holds fewer).
            let first = 1 + cx.rng.below(cx.messages.saturating_sub(49).max(1));
            c.cmd(&format!(
                "FETCH {first}:{} (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS \
                 (FROM TO SUBJECT DATE MESSAGE-ID)])",
                (first + 49).min(cx.messages)
            ))
            .await?;
        }
        "FETCH body" => {
            let m = 1 + cx.rng.below(cx.messages);
            c.cmd(&format!("FETCH {m} (BODY.PEEK[])")).await?;
        }
        "STORE" => {
            let m = 1 + cx.rng.below(cx.messages);
            let sign = if cx.rng.below(2) == 0 { '+' } else { '-' };
            c.cmd(&format!("STORE {m} {sign}FLAGS.SILENT (\\Flagged)"))
                .await?;
        }
        "SEARCH" => {
            let word = WORDS[cx.rng.below(24) as usize];
            c.cmd(&format!("UID SEARCH UNFLAGGED SUBJECT \"{word}\""))
                .await?;
        }
        "APPEND" => {
            cx.n += 1;
            let msg = message(&mut cx.rng, 1_000_000 + cx.id as u64 * 100_000 + cx.n);
            let uid = c.append("INBOX", &msg).await?;
            cx.appended
                .push(uid.ok_or_else(|| io::Error::other("APPEND without APPENDUID"))?);
        }
        "EXPUNGE" => {
            // One of the messages this client appended; `client` appends one first, outside
            // the measured time, when none is left.
            let uid = cx
                .appended
                .pop()
                .ok_or_else(|| io::Error::other("EXPUNGE without an appended message"))?;
            c.cmd(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))
                .await?;
            c.cmd(&format!("UID EXPUNGE {uid}")).await?;
        }
        "IDLE" => {
            let tag = c.idle_start().await?;
            c.idle_done(&tag).await?;
        }
        other => return Err(io::Error::other(format!("unknown command {other}"))),
    }
    Ok(())
}

/// One pass of the mix (see the module's doc), every command timed into `tally`.
async fn mix(c: &mut Client, cx: &mut Ctx, tally: &mut Tally) -> io::Result<()> {
    const CYCLE: [&str; 14] = [
        "SELECT",
        "FETCH hdr",
        "FETCH hdr",
        "FETCH hdr",
        "FETCH body",
        "FETCH body",
        "FETCH body",
        "STORE",
        "STORE",
        "SEARCH",
        "APPEND",
        "EXPUNGE",
        "IDLE",
        "LOGIN",
    ];
    for cmd in CYCLE {
        let t = Instant::now();
        op(c, cx, cmd).await?;
        tally.add(cmd, t.elapsed());
    }
    Ok(())
}

/// What one round measures: per command, the operations per second while every client ran
/// only that command; then the mix.
#[derive(Debug, Default)]
pub struct Round {
    /// Operations per second per command phase, summed over the clients.
    pub alone: BTreeMap<&'static str, f64>,
    /// Operations per command phase, over all clients.
    pub done: BTreeMap<&'static str, u64>,
    /// The mix: per command, count and time.
    pub mix: Tally,
}

/// One client through every phase, each for `phase` from the moment every client is ready.
///
/// A client's rate in a phase is its operations divided by the time it spent on them: the
/// EXPUNGE phase first APPENDs the message it expunges whenever the client has none of its own
/// left, and that APPEND's time is left out (before, the EXPUNGE phase could only remove what
/// the APPEND phase had added, so both phases printed the same count).
async fn client(
    mut c: Client,
    mut cx: Ctx,
    together: std::sync::Arc<tokio::sync::Barrier>,
    phase: Duration,
) -> io::Result<Round> {
    let mut round = Round::default();
    let commands = selected();
    for &cmd in &commands {
        // Every client starts a phase at once, when the last one has finished the previous
        // phase (sign-ins with argon2 can outlast theirs by seconds).
        together.wait().await;
        let begin = Instant::now();
        let end = begin + phase;
        let mut done = 0u64;
        let mut excluded = Duration::ZERO;
        // At least one operation: a client still busy with the previous phase (50 sign-ins
        // with argon2 can outlast a phase) still measures its own rate.
        loop {
            if cmd == "EXPUNGE" && cx.appended.is_empty() {
                let t = Instant::now();
                op(&mut c, &mut cx, "APPEND").await?;
                excluded += t.elapsed();
            }
            op(&mut c, &mut cx, cmd).await?;
            done += 1;
            if Instant::now() >= end {
                break;
            }
        }
        let busy = begin.elapsed().saturating_sub(excluded).as_secs_f64();
        round.done.insert(cmd, done);
        round
            .alone
            .insert(cmd, if busy > 0.0 { done as f64 / busy } else { 0.0 });
    }
    together.wait().await;
    let end = Instant::now() + phase;
    while commands.len() == COMMANDS.len() && Instant::now() < end {
        mix(&mut c, &mut cx, &mut round.mix).await?;
    }
    c.cmd("LOGOUT").await?;
    Ok(round)
}

/// One round: `clients` clients signed in, then every command alone for `phase` each, then
/// the mix for `phase`.
/// `messages` is how many messages each INBOX was preloaded with: FETCH and STORE pick
/// message numbers among them.
pub async fn round(
    port: u16,
    clients: usize,
    users: usize,
    messages: u64,
    phase: Duration,
) -> io::Result<Round> {
    let mut sessions = Vec::with_capacity(clients);
    for id in 0..clients {
        sessions.push(tokio::spawn(session(port, id % users)));
    }
    let mut conns = Vec::with_capacity(clients);
    for s in sessions {
        conns.push(s.await.map_err(io::Error::other)??);
    }
    let together = std::sync::Arc::new(tokio::sync::Barrier::new(conns.len()));
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(id, c)| {
            let cx = Ctx {
                port,
                user: id % users,
                id,
                rng: Rng::new(1_000 + id as u64),
                n: 0,
                appended: Vec::new(),
                messages: messages.max(1),
            };
            tokio::spawn(client(c, cx, together.clone(), phase))
        })
        .collect();
    let mut all = Round::default();
    for t in tasks {
        let r = t.await.map_err(io::Error::other)??;
        for (k, n) in r.alone {
            *all.alone.entry(k).or_default() += n;
        }
        for (k, n) in r.done {
            *all.done.entry(k).or_default() += n;
        }
        all.mix.merge(r.mix);
    }
    Ok(all)
}

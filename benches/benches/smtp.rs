//! SMTP ingest benchmark: Postfix's `smtp-source` (20 sessions, 4 KB messages, 20,000
//! messages) against Marque (store fsync on) and, in the same run, against Debian's Postfix
//! delivering over LMTP to Dovecot (maildir, default fsync). Each round is timed from the first
//! connection until IMAP `STATUS INBOX (MESSAGES)` shows every message, so both stacks are
//! measured to the point where a user can read the mail. Rounds alternate (A B A B) on fresh
//! data so that drift on a shared machine hits both alike; prints each round, the medians and
//! the ratio.
//!
//! Everything runs from temporary directories on loopback high ports. Needs `postfix`,
//! `dovecot-imapd` and `dovecot-lmtpd` (`ensure_bench_tools` in deploy/scripts/setup.sh) and
//! root (Postfix and Dovecot switch to their own users).
//!
//! Run: `cargo bench -p marque-benches --bench smtp --profile dev` (`MESSAGES=` for fewer
//! messages, `ROUNDS=` for more rounds per stack).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marque_core::{Actor, Core, NewDomain, NewMailbox, NewTenant, PROVIDER, TenantKind};
use marque_session::{Listener, Shutdown, serve};
use marque_store::{Store, StoreOptions};

const SESSIONS: u32 = 20;
const MESSAGE_SIZE: u32 = 4096;
const RECIPIENT: &str = "ann@bench.example";
const PASSWORD: &str = "bench-password";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A temporary directory the postfix, dovecot and nobody users can enter.
fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod temp dir");
    dir
}

fn chown(owner: &str, path: &Path) {
    let ok = Command::new("chown")
        .arg(owner)
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chown {owner} {}", path.display());
}

fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends one IMAP command and returns the tagged status line and what came before it.
fn imap_command(r: &mut BufReader<TcpStream>, tag: &str, cmd: &str) -> (String, String) {
    r.get_mut()
        .write_all(format!("{tag} {cmd}\r\n").as_bytes())
        .expect("imap write");
    let mut untagged = String::new();
    loop {
        let mut line = String::new();
        assert!(
            r.read_line(&mut line).expect("imap read") > 0,
            "imap closed"
        );
        if line.starts_with(&format!("{tag} ")) {
            return (line, untagged);
        }
        untagged.push_str(&line);
    }
}

/// Polls `STATUS INBOX (MESSAGES)` until `expected` messages are visible.
fn wait_visible(imap: SocketAddr, expected: u64, what: &str) {
    let tcp = TcpStream::connect(imap).expect("imap connect");
    tcp.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut r = BufReader::new(tcp);
    let mut greeting = String::new();
    r.read_line(&mut greeting).expect("imap greeting");
    let (status, _) = imap_command(&mut r, "a", &format!("LOGIN {RECIPIENT} \"{PASSWORD}\""));
    assert!(status.starts_with("a OK"), "{what} IMAP login: {status}");
    let deadline = Instant::now() + Duration::from_secs(1800);
    for n in 0u64.. {
        let tag = format!("s{n}");
        let (status, untagged) = imap_command(&mut r, &tag, "STATUS INBOX (MESSAGES)");
        assert!(status.contains(" OK"), "{what} STATUS: {status}");
        let count = untagged
            .split("MESSAGES ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if count >= expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: only {count} of {expected} messages visible"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs smtp-source against `port`; panics if it fails.
fn smtp_source(port: u16, messages: u64) {
    let out = Command::new("smtp-source")
        .args(["-s", &SESSIONS.to_string()])
        .args(["-l", &MESSAGE_SIZE.to_string()])
        .args(["-m", &messages.to_string()])
        .args(["-f", "sender@remote.example", "-t", RECIPIENT])
        .args(["-M", "source.bench.example"])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .expect("smtp-source must be installed (Debian package postfix)");
    assert!(
        out.status.success(),
        "smtp-source: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Marque in this process: SMTP and IMAP on a fresh store with fsync on.
struct Marque {
    smtp: SocketAddr,
    imap: SocketAddr,
    shutdown: Shutdown,
    _dir: tempfile::TempDir,
}

impl Marque {
    async fn start() -> Marque {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = StoreOptions::default();
        assert!(matches!(options.durability, marque_store::Durability::Sync));
        let store = Store::open(dir.path(), options).expect("open store");
        let core = Core::open(store).expect("open core");
        core.bootstrap(None).await.expect("bootstrap");
        let op = Actor::operator();
        let tenant = core
            .create_tenant(
                &op,
                NewTenant {
                    name: "Bench".into(),
                    kind: TenantKind::Customer,
                    parent: PROVIDER,
                    ..NewTenant::default()
                },
            )
            .await
            .expect("tenant")
            .tenant
            .id;
        core.create_domain(
            &op,
            NewDomain {
                name: "bench.example".into(),
                tenant,
                ..NewDomain::default()
            },
        )
        .await
        .expect("domain");
        core.create_mailbox(
            &op,
            NewMailbox {
                address: RECIPIENT.into(),
                password: PASSWORD.into(),
                quota_mb: Some(100_000),
                tier: None,
                postmaster: false,
            },
        )
        .await
        .expect("mailbox");
        let mut config = marque_smtp::Config::new("mx.bench.example");
        // smtp-source opens a connection per message and talks as soon as it is greeted; the
        // pre-greeting check would add its delay to every message.
        config.greeting_delay = Duration::ZERO;
        let shutdown = Shutdown::new();
        let smtp_tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let smtp = smtp_tcp.local_addr().unwrap();
        let smtp_handler = std::sync::Arc::new(marque_smtp::Smtp::new(&core, config));
        tokio::spawn(serve(
            Listener::new("smtp", smtp_tcp),
            smtp_handler,
            shutdown.signal(),
            Duration::from_secs(5),
        ));
        let imap_tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let imap = imap_tcp.local_addr().unwrap();
        let imap_handler = std::sync::Arc::new(marque_access::imap_handler(&core, "localhost"));
        tokio::spawn(serve(
            Listener::new("imap", imap_tcp),
            imap_handler,
            shutdown.signal(),
            Duration::from_secs(5),
        ));
        Marque {
            smtp,
            imap,
            shutdown,
            _dir: dir,
        }
    }
}

impl Drop for Marque {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

const POSTFIX_MASTER_CF: &str = "\
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
lmtp      unix  - - n -     - lmtp
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
";

/// Postfix (default settings apart from paths and ports) handing bench.example to Dovecot's
/// LMTP; Dovecot stores in maildir and serves IMAP.
struct Reference {
    smtp_port: u16,
    imap: SocketAddr,
    postfix_conf: PathBuf,
    dovecot: Child,
    _dir: tempfile::TempDir,
}

impl Reference {
    fn start() -> Reference {
        let dir = shared_tempdir();
        let root = dir.path().to_path_buf();
        let (smtp_port, lmtp_port, imap_port) = (free_port(), free_port(), free_port());

        for d in ["conf", "queue", "data", "mail", "dovecot"] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        chown("postfix:postfix", &root.join("data"));
        chown("nobody:nogroup", &root.join("mail"));
        let dovecot_conf = root.join("dovecot/dovecot.conf");
        let dovecot_log = root.join("dovecot/dovecot.log");
        std::fs::write(
            &dovecot_conf,
            format!(
                r#"base_dir = {root}/dovecot/run
state_dir = {root}/dovecot/state
log_path = {log}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{root}/mail/%n
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
"#,
                root = root.display(),
                log = dovecot_log.display(),
            ),
        )
        .expect("dovecot.conf");
        let dovecot = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&dovecot_conf)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dovecot must be installed (Debian packages dovecot-imapd, dovecot-lmtpd)");
        wait_listening(imap_port, "dovecot imap");
        wait_listening(lmtp_port, "dovecot lmtp");

        let conf = root.join("conf");
        let main = format!(
            "compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.reference.example
mydomain = reference.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = bench.example
relay_recipient_maps =
relay_transport = lmtp:inet:127.0.0.1:{lmtp_port}
smtp_dns_support_level = disabled
alias_maps =
alias_database =
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
",
            root = root.display()
        );
        std::fs::write(conf.join("main.cf"), main).expect("main.cf");
        let master = format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n{POSTFIX_MASTER_CF}");
        std::fs::write(conf.join("master.cf"), master).expect("master.cf");
        let out = Command::new("postfix")
            .arg("-c")
            .arg(&conf)
            .arg("start")
            .output()
            .expect("postfix must be installed (Debian package postfix)");
        assert!(
            out.status.success(),
            "postfix start: {}",
            std::fs::read_to_string(root.join("maillog")).unwrap_or_default()
        );
        wait_listening(smtp_port, "postfix");
        Reference {
            smtp_port,
            imap: SocketAddr::from(([127, 0, 0, 1], imap_port)),
            postfix_conf: conf,
            dovecot,
            _dir: dir,
        }
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.postfix_conf)
            .arg("stop")
            .output();
        // SIGTERM lets Dovecot stop its children; then reap it.
        let _ = Command::new("kill")
            .arg(self.dovecot.id().to_string())
            .status();
        let _ = self.dovecot.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One timed round: smtp-source to `smtp_port`, then wait until IMAP shows every message.
fn round(smtp_port: u16, imap: SocketAddr, messages: u64, what: &str) -> f64 {
    let start = Instant::now();
    smtp_source(smtp_port, messages);
    let sent = start.elapsed();
    wait_visible(imap, messages, what);
    let visible = start.elapsed();
    let rate = messages as f64 / visible.as_secs_f64();
    println!(
        "{what:>18}: {rate:>8.0} msg/s ({messages} in {:.1} s; smtp-source done at {:.1} s)",
        visible.as_secs_f64(),
        sent.as_secs_f64()
    );
    rate
}

fn main() {
    let messages = env_or("MESSAGES", 20_000);
    let rounds = env_or("ROUNDS", 2) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "smtp benchmark: smtp-source, {SESSIONS} sessions, {MESSAGE_SIZE}-byte messages, {messages} messages per round, {rounds} rounds each, A B alternating; timed until IMAP shows them all"
    );
    let (mut marque, mut reference) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let m = rt.block_on(Marque::start());
        let (smtp, imap) = (m.smtp.port(), m.imap);
        marque.push(rt.block_on(async {
            tokio::task::spawn_blocking(move || round(smtp, imap, messages, "marque"))
                .await
                .expect("round")
        }));
        rt.block_on(async { drop(m) });

        let r = Reference::start();
        reference.push(round(r.smtp_port, r.imap, messages, "postfix+dovecot"));
        drop(r);
    }
    let (m, r) = (median(marque), median(reference));
    println!("median marque          {m:>8.0} msg/s");
    println!("median postfix+dovecot {r:>8.0} msg/s");
    println!("ratio marque/reference {:>8.2}x", m / r);
}

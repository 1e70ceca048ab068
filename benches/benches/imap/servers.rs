//! The two servers under test, on loopback high ports over a temporary directory: `marque
//! serve` (the built binary, its store prepared through the core with the same users) and
//! Debian's Dovecot (`dovecot -F -c FILE`: maildir with its default fsync, passwd-file users,
//! `ssl = no`; see [`DovecotAuth`] for how its passwords are kept). Both are stopped when
//! dropped.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use marque_core::{Actor, Core, HashCost, NewDomain, NewMailbox, NewTenant};
use marque_store::{Store, StoreOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The mail domain of every benchmark user.
pub const DOMAIN: &str = "bench.example";
/// Every user's password.
pub const PASSWORD: &str = "bench password 1";

/// `user<n>@bench.example`.
pub fn user(n: usize) -> String {
    format!("user{n}@{DOMAIN}")
}

fn fail(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// A free loopback port (bound and released; the server binds it again at once).
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A running server.
pub struct Server {
    pub name: &'static str,
    pub port: u16,
    child: Child,
    /// The process whose memory is measured (Marque) or whose children are (Dovecot's master).
    pub pid: u32,
    pub dovecot: bool,
}

impl Server {
    /// Resident memory in KiB: Marque's process, or the sum over Dovecot's `imap` processes.
    pub fn rss_kib(&self) -> u64 {
        if !self.dovecot {
            return vm_rss(self.pid).unwrap_or(0);
        }
        imap_children(self.pid).into_iter().filter_map(vm_rss).sum()
    }

    /// Proportional set size in KiB (shared pages split between the processes that map them):
    /// Marque's process, or the sum over Dovecot's `imap` processes.
    pub fn pss_kib(&self) -> u64 {
        if !self.dovecot {
            return pss(self.pid).unwrap_or(0);
        }
        imap_children(self.pid).into_iter().filter_map(pss).sum()
    }

    /// Dovecot's `imap` processes (1 for Marque).
    pub fn processes(&self) -> usize {
        if self.dovecot {
            imap_children(self.pid).len()
        } else {
            1
        }
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// `VmRSS` of a process, in KiB.
fn vm_rss(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `Pss` of a process, in KiB.
fn pss(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = s.lines().find(|l| l.starts_with("Pss:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Processes named `imap` whose parent is `master`.
fn imap_children(master: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid ...`; comm may hold spaces, so split after the last ')'.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let comm = head.split_once('(').map(|x| x.1).unwrap_or_default();
            let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            comm == "imap" && ppid == Some(master)
        })
        .collect()
}

/// The `marque` binary next to this benchmark's own executable (`target/<profile>/deps/`).
fn marque_binary() -> io::Result<PathBuf> {
    if let Ok(p) = std::env::var("MARQUE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("marque"))
        .ok_or_else(|| fail("no directory above the benchmark executable"))?;
    if !bin.exists() {
        return Err(fail(format!(
            "{} is missing: build it first with `cargo build -p marque --profile dev` \
             (same CARGO_TARGET_DIR), or set MARQUE_BIN",
            bin.display()
        )));
    }
    Ok(bin)
}

/// Creates the store of `data_dir` with `users` mailboxes, as an operator would.
async fn prepare_marque(data_dir: &Path, users: usize) -> io::Result<()> {
    let store = Store::open(&data_dir.join("store"), StoreOptions::default())
        .map_err(|e| fail(format!("opening the store: {e}")))?;
    let core = Core::open_with(store, HashCost::default()).map_err(|e| fail(e.to_string()))?;
    core.bootstrap(None)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let op = Actor::operator();
    let tenant = core
        .create_tenant(
            &op,
            NewTenant {
                name: "Bench".into(),
                ..NewTenant::default()
            },
        )
        .await
        .map_err(|e| fail(e.to_string()))?
        .tenant
        .id;
    core.create_domain(
        &op,
        NewDomain {
            name: DOMAIN.into(),
            tenant,
            ..NewDomain::default()
        },
    )
    .await
    .map_err(|e| fail(e.to_string()))?;
    for n in 0..users {
        core.create_mailbox(
            &op,
            NewMailbox {
                address: user(n),
                password: PASSWORD.into(),
                quota_mb: Some(10_000),
                tier: None,
                postmaster: false,
            },
        )
        .await
        .map_err(|e| fail(format!("creating {}: {e}", user(n))))?;
    }
    Ok(())
}

/// Starts `marque serve` with IMAP only, `users` mailboxes, and connection limits and the
/// per-session command rate raised for the benchmark (Dovecot has no command rate limit, so
/// the figures measure the server rather than the limit).
pub async fn marque(dir: &Path, users: usize) -> io::Result<Server> {
    let data_dir = dir.join("marque");
    std::fs::create_dir_all(&data_dir)?;
    prepare_marque(&data_dir, users).await?;
    let port = free_port()?;
    let config = dir.join("marque.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nhostname = \"bench.test\"\ndata_dir = \"{}\"\n\n\
             [listeners]\nimap = [\"127.0.0.1:{port}\"]\n\n\
             [limits]\nmax_connections = 20000\nmax_connections_per_ip = 20000\n\
             imap_commands_per_second = 1000000\nimap_command_burst = 1000000\n\n\
             [log]\nlevel = \"warn\"\n\n[store]\ndurability = \"sync\"\n",
            data_dir.display()
        ),
    )?;
    let mut child = Command::new(marque_binary()?)
        .args(["serve", "--print-listeners", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| fail("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next_line().await? {
            Some(l) if l.trim() == "ready" => break,
            Some(_) => {}
            None => return Err(fail("marque serve exited before it was ready")),
        }
    }
    // Keep reading so that the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let pid = child.id().ok_or_else(|| fail("marque has no pid"))?;
    Ok(Server {
        name: "marque",
        port,
        child,
        pid,
        dovecot: false,
    })
}

/// How Dovecot keeps and checks its users' passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DovecotAuth {
    /// Dovecot at its fastest: plain-text passwords in the passwd-file and its authentication
    /// cache on, so a sign-in costs no hashing at all.
    Fastest,
    /// The same argon2id hashes as Marque's (same parameters) and no cache: every sign-in
    /// costs one hash on both sides.
    Argon2id,
}

impl DovecotAuth {
    /// From `DOVECOT_AUTH` (`fastest`, the default, or `argon2id`).
    pub fn from_env() -> io::Result<DovecotAuth> {
        match std::env::var("DOVECOT_AUTH").as_deref() {
            Err(_) | Ok("fastest") => Ok(DovecotAuth::Fastest),
            Ok("argon2id") => Ok(DovecotAuth::Argon2id),
            Ok(other) => Err(fail(format!(
                "DOVECOT_AUTH={other}: expected \"fastest\" or \"argon2id\""
            ))),
        }
    }

    /// The passwd-file's password field for `PASSWORD`.
    fn password_field(self) -> io::Result<String> {
        match self {
            DovecotAuth::Fastest => Ok(format!("{{PLAIN}}{PASSWORD}")),
            DovecotAuth::Argon2id => marque_core::password::hash(HashCost::default(), PASSWORD)
                .map(|hash| format!("{{ARGON2ID}}{hash}"))
                .map_err(|e| fail(e.to_string())),
        }
    }

    /// Settings added to dovecot.conf.
    fn settings(self) -> &'static str {
        match self {
            DovecotAuth::Fastest => "auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n",
            DovecotAuth::Argon2id => "",
        }
    }
}

/// Starts Dovecot with the same users, their passwords kept as `auth` says.
pub async fn dovecot(dir: &Path, users: usize, auth: DovecotAuth) -> io::Result<Server> {
    let binary = "/usr/sbin/dovecot";
    if !Path::new(binary).exists() {
        return Err(fail(
            "dovecot is not installed: apt-get install -y dovecot-imapd \
             (deploy/scripts/setup.sh ensure_bench_tools)",
        ));
    }
    let root = dir.join("dovecot");
    let mail = root.join("mail");
    for d in [&root, &mail, &root.join("run"), &root.join("state")] {
        std::fs::create_dir_all(d)?;
    }
    // Dovecot refuses mail access as root: as root, mail processes run as `nobody`.
    let (uid, gid, login_user, internal_user) = current_ids()?;
    if uid == 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))?;
    }
    let (mail_uid, mail_gid) = if uid == 0 { (65534, 65534) } else { (uid, gid) };
    std::os::unix::fs::chown(&mail, Some(mail_uid), Some(mail_gid))?;
    let mut passwd = String::new();
    for n in 0..users {
        let password = auth.password_field()?;
        passwd.push_str(&format!(
            "{}:{password}:{mail_uid}:{mail_gid}::{}::\n",
            user(n),
            mail.join(user(n)).display()
        ));
    }
    std::fs::write(root.join("passwd"), passwd)?;
    let port = free_port()?;
    let conf = root.join("dovecot.conf");
    std::fs::write(
        &conf,
        format!(
            r#"base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_process_limit = 12000
default_client_limit = 20000
default_vsz_limit = 0
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service imap {{
  process_limit = 12000
}}
protocol imap {{
  mail_max_userip_connections = 20000
}}
{auth_settings}"#,
            root = root.display(),
            auth_settings = auth.settings()
        ),
    )?;
    let child = Command::new(binary)
        .args(["-F", "-c"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| fail("dovecot has no pid"))?;
    // Ready when it answers with a greeting.
    for _ in 0..100 {
        if super::client::Client::connect(port).await.is_ok() {
            return Ok(Server {
                name: "dovecot",
                port,
                child,
                pid,
                dovecot: true,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(fail(format!(
        "dovecot did not answer on port {port}; see {}/dovecot.log",
        root.display()
    )))
}

/// (uid, gid, login user, internal user) for the Dovecot configuration: the current user for
/// everything, or Debian's `dovenull` and `dovecot` accounts when running as root.
fn current_ids() -> io::Result<(u32, u32, String, String)> {
    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata("/proc/self")?;
    let (uid, gid) = (me.uid(), me.gid());
    if uid == 0 {
        return Ok((0, 0, "dovenull".into(), "dovecot".into()));
    }
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let name = passwd
        .lines()
        .find(|l| l.split(':').nth(2) == Some(&uid.to_string()))
        .and_then(|l| l.split(':').next())
        .ok_or_else(|| fail(format!("uid {uid} is not in /etc/passwd")))?
        .to_string();
    Ok((uid, gid, name.clone(), name))
}

//! A throwaway PostgreSQL server for tests: one cluster per test process, a fresh database per
//! test.
//!
//! The first [`database`] call starts the cluster: `initdb` into a temporary directory (as the
//! `postgres` system user when the tests run as root, since PostgreSQL refuses to run as root),
//! then `pg_ctl start` on a free port of 127.0.0.1 with its socket in that directory, trusting
//! local connections. It never touches a system cluster (Debian's on port 5432). A watchdog
//! process, holding the read end of a pipe whose write end only this process has, stops the
//! cluster (`pg_ctl stop -m immediate`) and removes its directory as soon as this process exits,
//! however it exits: normally, by a panic, or by SIGKILL.
//!
//! With `MARQUE_TEST_POSTGRES_URL` set (`postgres://user@host:port/db`), tests use that server
//! instead and start nothing.
//!
//! PostgreSQL must be installed (Debian's `postgresql`): tests on the PostgreSQL backend fail,
//! and say so, when it is not.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where Debian installs each PostgreSQL version's programs.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";
/// The variable naming an existing server to use instead of starting one.
pub const URL_ENV: &str = "MARQUE_TEST_POSTGRES_URL";

/// The server this test process uses.
enum Server {
    /// A cluster this process started.
    Own {
        port: u16,
        psql: PathBuf,
        /// Dropped only when the process exits, which wakes the watchdog.
        _watchdog: Mutex<ChildStdin>,
    },
    /// `MARQUE_TEST_POSTGRES_URL`.
    External { url: String, psql: PathBuf },
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(1);

/// A database created for one test, dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// The URL to give the store: `postgres://...` with this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs one SQL command on this database as the server's superuser; its rows as text, one
    /// per line, columns separated by `|`.
    pub fn sql(&self, statement: &str) -> Result<String, String> {
        server().psql_on(&self.name, statement)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Connections of a store that outlived the test are closed by FORCE.
        let _ = server().psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A fresh, empty database on the test server (started on first use).
///
/// # Panics
/// When PostgreSQL is not installed or the server cannot start: the test fails and says why.
pub fn database() -> TestDatabase {
    let server = server();
    let name = format!(
        "marque_test_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    );
    if let Err(e) = server.psql(&format!("CREATE DATABASE {name}")) {
        panic!("cannot create the test database {name}: {e}");
    }
    let url = server.url_of(&name);
    TestDatabase { name, url }
}

/// The URL of the test server's `postgres` database (started on first use).
pub fn server_url() -> String {
    server().url_of("postgres")
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => Server::External {
            url,
            psql: bin_dir()
                .map(|b| b.join("psql"))
                .unwrap_or_else(|_| PathBuf::from("psql")),
        },
        _ => start().unwrap_or_else(|e| panic!("cannot start the test PostgreSQL server: {e}")),
    })
}

impl Server {
    fn url_of(&self, database: &str) -> String {
        match self {
            Server::Own { port, .. } => format!("postgres://postgres@127.0.0.1:{port}/{database}"),
            Server::External { url, .. } => with_database(url, database),
        }
    }

    /// Runs one SQL command as the server's superuser, on its `postgres` database.
    fn psql(&self, sql: &str) -> Result<String, String> {
        self.psql_on("postgres", sql)
    }

    /// Runs one SQL command as the server's superuser, on `database`.
    fn psql_on(&self, database: &str, sql: &str) -> Result<String, String> {
        let mut cmd = match self {
            Server::Own { port, psql, .. } => {
                let mut c = Command::new(psql);
                c.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
                    .args(["-d", database]);
                c
            }
            Server::External { url, psql } => {
                let mut c = Command::new(psql);
                c.args(["-d", &with_database(url, database)]);
                c
            }
        };
        let out = cmd
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

/// `url` with its database (the path) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority_path.split('/').next().unwrap_or(authority_path);
    let mut out = format!("{scheme}://{authority}/{database}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The newest installed PostgreSQL's `bin` directory.
fn bin_dir() -> Result<PathBuf, String> {
    let not_installed = || {
        format!(
            "PostgreSQL is not installed (no {INSTALL_ROOT}/<version>/bin/initdb): \
             apt-get install postgresql, or set {URL_ENV}"
        )
    };
    let entries = std::fs::read_dir(INSTALL_ROOT).map_err(|_| not_installed())?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(v, _)| *v)
        .map(|(_, bin)| bin)
        .ok_or_else(not_installed)
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` as a command, run as the `postgres` user when this process is root.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn start() -> Result<Server, String> {
    let bin = bin_dir()?;
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("marque-pg-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?
        .keep();
    let data = dir.join("data");
    if root {
        run(
            Command::new("chown").arg("postgres:postgres").arg(&dir),
            "chown of the cluster directory",
        )?;
    }
    // The watchdog first, so that whatever happens next, the directory is removed and any
    // server started in it is stopped when this process exits.
    let stop = format!(
        "cat >/dev/null; {runuser}'{pg_ctl}' stop -D '{data}' -m immediate -w >/dev/null 2>&1; \
         rm -rf '{dir}'",
        runuser = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = bin.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    let mut watchdog = Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C that stops the tests must not stop it first.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting the watchdog: {e}"))?;
    let mut watchdog_stdin = watchdog.stdin.take().ok_or("watchdog stdin")?;
    // Nothing is ever written; a failed write would only mean the watchdog is already gone.
    let _ = watchdog_stdin.flush();

    run(
        as_server_user(&bin.join("initdb"), root)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync"),
        "initdb",
    )?;
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='{}' \
             -c max_connections=300 -c shared_buffers=64MB",
            dir.display()
        );
        let started = run(
            as_server_user(&bin.join("pg_ctl"), root)
                .args(["start", "-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-o", &options]),
            "pg_ctl start",
        );
        match started {
            Ok(()) => {
                return Ok(Server::Own {
                    port,
                    psql: bin.join("psql"),
                    _watchdog: Mutex::new(watchdog_stdin),
                });
            }
            // Another process may have taken the port in between: try another.
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                last = format!("{e}\n{log}");
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://u:p@h:5433/old?sslmode=disable", "new"),
            "postgres://u:p@h:5433/new?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "d"), "postgresql://h/d");
    }
}

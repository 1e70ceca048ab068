//! The configuration: TOML, typed with serde, validated as a whole.
//!
//! Parsing goes section by section so that one bad section does not hide the problems of the
//! others; every problem carries its key path (`listeners.imap[0]`), and [`Config::parse`]
//! returns all of them at once.

mod acme;
mod cluster;
mod dnscheck;
mod mail;
mod outbound;
mod proxy;
mod raw;
mod service;
mod signin;
mod smtp;
mod store;
mod validate;
mod webhooks;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use acme::{Acme, Challenge};
pub use cluster::Cluster;
pub use dnscheck::DnsCheck;
pub use mail::{DnsConfig, SubmissionConfig};
pub use outbound::Outbound;
pub use proxy::Proxy;
pub use service::Service;
pub use smtp::Smtp;
pub use webhooks::Webhooks;

/// The configuration `marque` runs on when no file is given.
pub const DEFAULT: &str = include_str!("default.toml");

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[server]`.
    pub server: Server,
    /// `[listeners]`: the addresses of each service; a service without addresses does not run.
    pub listeners: BTreeMap<Service, Vec<SocketAddr>>,
    /// `[limits]`.
    pub limits: Limits,
    /// `[tls]`: the certificate files, or `None` for the self-signed one in `<data_dir>/tls/`.
    pub tls: Option<TlsFiles>,
    /// `[log]`.
    pub log: Log,
    /// `[store]`.
    pub store: Store,
    /// `[dns]`.
    pub dns: DnsConfig,
    /// `[smtp]`.
    pub smtp: Smtp,
    /// `[submission]`.
    pub submission: SubmissionConfig,
    /// `[sieve]`: limits of Sieve scripts, stored and at delivery.
    pub sieve: marque_delivery::SieveConfig,
    /// `[outbound]`: delivery of queued mail.
    pub outbound: Outbound,
    /// `[acme]`: certificates for branded hostnames.
    pub acme: Acme,
    /// `[webhooks]`: ranges webhooks may reach besides public addresses.
    pub webhooks: Webhooks,
    /// `[proxy_protocol]`: the services behind a load balancer that sends PROXY headers.
    pub proxy_protocol: Proxy,
    /// `[signin]`: the throttle of failed sign-ins shared by every service, and the client
    /// networks that may send a password before TLS.
    pub signin: marque_core::signin::SignInPolicy,
    /// `[cluster]`: this node's name and the length of the leases it keeps in the store.
    pub cluster: Cluster,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// The name the server gives itself in greetings, and the self-signed certificate's name.
    pub hostname: String,
    /// Where the store, the certificate and the admin token live.
    pub data_dir: PathBuf,
    /// How long open sessions have to finish after SIGTERM.
    pub shutdown_grace: Duration,
}

/// `[limits]`: open connections per listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// On one listener, all clients together.
    pub max_connections: usize,
    /// On one listener, from one IP address.
    pub max_connections_per_ip: usize,
    /// Sustained commands per second of one IMAP session (a token bucket: faster clients are
    /// slowed down, not cut off).
    pub imap_commands_per_second: usize,
    /// Commands an IMAP session may send at once above the sustained rate.
    pub imap_command_burst: usize,
    /// The process-wide budget of client input held in memory, in bytes
    /// (`input_memory_mb`).
    pub input_memory: u64,
}

/// `[tls]`: PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// `[log]`.
#[derive(Debug, Clone)]
pub struct Log {
    /// Human-readable lines or JSON objects, on standard error.
    pub format: LogFormat,
    /// A `tracing` filter: `info`, or `info,marque_core=debug`.
    pub level: String,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `[store]`: storage tuning.
#[derive(Debug, Clone)]
pub struct Store {
    /// The engine: RocksDB in `<data_dir>/store` (the default) or a PostgreSQL database.
    pub backend: marque_store::BackendKind,
    /// Whether an acknowledged write is fsynced first.
    pub durability: marque_store::Durability,
    /// RocksDB's block cache, in MiB.
    pub block_cache_mb: usize,
    /// Decoded message metadata kept in memory, in MiB (0: none).
    pub meta_cache_mb: usize,
    /// RocksDB's background threads for flushes and compactions.
    pub background_threads: i32,
}

/// One problem in a configuration, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key path, e.g. `listeners.imap[0]`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Where a configuration came from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file given with `--config` (or `MARQUE_CONFIG`).
    File(PathBuf),
    /// The embedded default.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Default => f.write_str("the embedded default"),
        }
    }
}

impl Config {
    /// Parses and validates TOML text; on failure returns every problem found.
    pub fn parse(text: &str) -> Result<Config, Problems> {
        validate::parse(text)
    }

    /// Reads `path`, or the embedded default when `None`.
    pub fn load(path: Option<&Path>) -> Result<(Config, Source), Problems> {
        match path {
            None => Ok((Config::parse(DEFAULT)?, Source::Default)),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Problems(vec![Problem {
                        path: String::new(),
                        message: format!("cannot read {}: {e}", path.display()),
                    }])
                })?;
                Ok((Config::parse(&text)?, Source::File(path.to_path_buf())))
            }
        }
    }

    /// `<data_dir>/store`: the RocksDB database (with the PostgreSQL backend, only the store's
    /// name in messages).
    pub fn store_dir(&self) -> PathBuf {
        self.server.data_dir.join("store")
    }

    /// `<data_dir>/spool`: message content on its way in (unnamed files, gone when closed).
    pub fn spool_dir(&self) -> PathBuf {
        self.server.data_dir.join("spool")
    }

    /// `<data_dir>/tls`: the self-signed certificate.
    pub fn tls_dir(&self) -> PathBuf {
        self.server.data_dir.join("tls")
    }

    /// `<data_dir>/admin-token`: the generated provider admin token.
    pub fn admin_token_path(&self) -> PathBuf {
        self.server.data_dir.join("admin-token")
    }

    /// The store options this configuration asks for.
    pub fn store_options(&self) -> marque_store::StoreOptions {
        let mut options = marque_store::StoreOptions {
            backend: self.store.backend.clone(),
            durability: self.store.durability,
            ..Default::default()
        };
        options.rocks.block_cache_bytes = self.store.block_cache_mb << 20;
        options.rocks.background_threads = self.store.background_threads;
        options.meta_cache_bytes = self.store.meta_cache_mb << 20;
        options
    }

    /// A summary for `marque config check`.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "hostname     {}", self.server.hostname);
        let _ = writeln!(s, "data_dir     {}", self.server.data_dir.display());
        let _ = writeln!(s, "grace        {}s", self.server.shutdown_grace.as_secs());
        let _ = writeln!(s, "listeners");
        for service in Service::ALL {
            let addrs = self
                .listeners
                .get(&service)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let shown = if addrs.is_empty() {
                "(not running)".to_string()
            } else {
                addrs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let tls = if service.implicit_tls() { " (TLS)" } else { "" };
            let _ = writeln!(s, "  {:<12} {shown}{tls}", service.name());
        }
        let _ = writeln!(
            s,
            "limits       {} connections per listener, {} per IP",
            self.limits.max_connections, self.limits.max_connections_per_ip
        );
        match &self.tls {
            Some(t) => {
                let _ = writeln!(s, "tls          {} / {}", t.cert.display(), t.key.display());
            }
            None => {
                let _ = writeln!(
                    s,
                    "tls          self-signed, in {}",
                    self.tls_dir().display()
                );
            }
        }
        let format = match self.log.format {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        };
        let _ = writeln!(s, "log          {format}, level {}", self.log.level);
        let durability = match self.store.durability {
            marque_store::Durability::Sync => "sync",
            marque_store::Durability::NoSync => "nosync",
        };
        match &self.store.backend {
            marque_store::BackendKind::RocksDb => {
                let _ = writeln!(
                    s,
                    "store        RocksDB in {}, durability {durability}, block cache {} MiB, \
                     metadata cache {} MiB, {} background threads",
                    self.store_dir().display(),
                    self.store.block_cache_mb,
                    self.store.meta_cache_mb,
                    self.store.background_threads
                );
            }
            marque_store::BackendKind::Postgres(pg) => {
                let _ = writeln!(
                    s,
                    "store        PostgreSQL, durability {durability}, pool of {} connections, \
                     metadata cache {} MiB",
                    pg.pool_size, self.store.meta_cache_mb
                );
            }
        }
        let dns = if self.dns.nameservers.is_empty() {
            "system resolv.conf".to_string()
        } else {
            let shown: Vec<String> = self
                .dns
                .nameservers
                .iter()
                .map(ToString::to_string)
                .collect();
            shown.join(", ")
        };
        let _ = writeln!(s, "dns          {dns}");
        let t = self.signin.throttle;
        let clear: Vec<String> = self
            .signin
            .cleartext_networks
            .iter()
            .map(ToString::to_string)
            .collect();
        let _ = writeln!(
            s,
            "signin       failures delayed {}..{} ms, address refused after {} for {} s; \
             passwords before TLS from {}",
            t.first_delay.as_millis(),
            t.max_delay.as_millis(),
            t.ban_after,
            t.window.as_secs(),
            if clear.is_empty() {
                "nowhere".to_string()
            } else {
                clear.join(", ")
            }
        );
        let _ = writeln!(
            s,
            "mail         DMARC p=reject {}, {} messages and {} recipients per user and hour",
            if self.smtp.dmarc_reject {
                "refused"
            } else {
                "delivered"
            },
            self.submission.max_messages_per_hour,
            self.submission.max_recipients_per_hour
        );
        s
    }
}

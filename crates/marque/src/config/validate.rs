//! From TOML text to a [`Config`], collecting every problem on the way.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{Config, Limits, Log, LogFormat, Problem, Problems, Server, Service, TlsFiles, raw};

/// Collects problems while the sections are read.
#[derive(Default)]
pub(super) struct Report(Vec<Problem>);

impl Report {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Deserializes one section key by key, so that each bad key is reported with its path
    /// and the good ones are still used.
    fn section<T: DeserializeOwned + Default>(
        &mut self,
        name: &str,
        value: Option<toml::Value>,
    ) -> T {
        let Some(value) = value else {
            return T::default();
        };
        let toml::Value::Table(table) = value else {
            self.add(name, format!("expected a table: [{name}]"));
            return T::default();
        };
        let mut good = toml::Table::new();
        for (key, value) in table {
            let mut one = toml::Table::new();
            one.insert(key.clone(), value.clone());
            match toml::Value::Table(one).try_into::<T>() {
                Ok(_) => {
                    good.insert(key, value);
                }
                Err(e) => self.add(format!("{name}.{key}"), e.message().trim().to_string()),
            }
        }
        toml::Value::Table(good).try_into().unwrap_or_default()
    }

    /// Orders problems as the sections are documented, keeping each section's own order.
    fn sorted(mut self) -> Vec<Problem> {
        const ORDER: [&str; 15] = [
            "server",
            "listeners",
            "limits",
            "tls",
            "log",
            "store",
            "dns",
            "smtp",
            "submission",
            "signin",
            "outbound",
            "sieve",
            "acme",
            "webhooks",
            "cluster",
        ];
        let rank = |p: &Problem| {
            let section = p.path.split(['.', '[']).next().unwrap_or("");
            ORDER
                .iter()
                .position(|s| *s == section)
                .unwrap_or(ORDER.len())
        };
        self.0.sort_by_key(rank);
        self.0
    }
}

pub(super) fn parse(text: &str) -> Result<Config, Problems> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| {
        Problems(vec![Problem {
            path: String::new(),
            message: format!("invalid TOML: {}", e.to_string().trim()),
        }])
    })?;
    let mut report = Report::default();

    let server: raw::Server = report.section("server", table.remove("server"));
    let limits: raw::Limits = report.section("limits", table.remove("limits"));
    let tls: raw::Tls = report.section("tls", table.remove("tls"));
    let log: raw::Log = report.section("log", table.remove("log"));
    let store: raw::Store = report.section("store", table.remove("store"));
    let smtp: super::smtp::Raw = report.section("smtp", table.remove("smtp"));
    let signin: super::signin::Raw = report.section("signin", table.remove("signin"));
    let sieve: marque_delivery::SieveConfig = report.section("sieve", table.remove("sieve"));
    let outbound: super::outbound::RawOutbound =
        report.section("outbound", table.remove("outbound"));
    let acme: super::acme::RawAcme = report.section("acme", table.remove("acme"));
    let webhooks: super::webhooks::RawWebhooks =
        report.section("webhooks", table.remove("webhooks"));
    let cluster: super::cluster::RawCluster = report.section("cluster", table.remove("cluster"));
    let proxy: super::proxy::RawProxy =
        report.section("proxy_protocol", table.remove("proxy_protocol"));
    let listeners = listeners(&mut report, table.remove("listeners"));
    let dns: raw::Dns = report.section("dns", table.remove("dns"));
    let submission: raw::Submission = report.section("submission", table.remove("submission"));
    for key in table.keys() {
        report.add(
            key.clone(),
            "unknown section (expected server, listeners, limits, tls, log, store, dns, smtp, submission, signin, outbound, sieve, acme, webhooks, cluster or proxy_protocol)",
        );
    }

    let server = check_server(&mut report, server);
    let limits = check_limits(&mut report, limits);
    let tls = check_tls(&mut report, tls);
    let log = check_log(&mut report, log);
    let store = super::store::check(&mut report, store);
    let dns = super::mail::check_dns(&mut report, dns);
    let signin = super::signin::check(&mut report, signin, super::signin::Older::of(&smtp));
    let smtp = super::smtp::check(&mut report, smtp);
    check_input_memory(&mut report, &limits, &smtp);
    let submission = super::mail::check_submission(&mut report, submission);
    for (key, problem) in sieve.problems() {
        report.add(key, problem);
    }
    let mut found = Vec::new();
    let outbound = super::outbound::check_outbound(outbound, &mut found);
    let acme = super::acme::check_acme(acme, &mut found);
    let webhooks = super::webhooks::check_webhooks(webhooks, &mut found);
    let cluster = super::cluster::check_cluster(cluster, &mut found);
    let proxy_protocol = super::proxy::check_proxy(proxy, &mut found);
    for (path, message) in found {
        report.add(path, message);
    }

    if !report.0.is_empty() {
        return Err(Problems(report.sorted()));
    }
    Ok(Config {
        server,
        listeners,
        limits,
        tls,
        log,
        store,
        dns,
        smtp,
        submission,
        sieve,
        outbound,
        acme,
        webhooks,
        proxy_protocol,
        signin,
        cluster,
    })
}

fn listeners(
    report: &mut Report,
    value: Option<toml::Value>,
) -> BTreeMap<Service, Vec<SocketAddr>> {
    let mut out = BTreeMap::new();
    let Some(value) = value else { return out };
    let toml::Value::Table(table) = value else {
        report.add("listeners", "expected a table of service = [addresses]");
        return out;
    };
    // Who holds each fixed address, to catch the same one given twice.
    let mut seen: HashMap<SocketAddr, String> = HashMap::new();
    for (name, value) in table {
        let service = match name.parse::<Service>() {
            Ok(s) => s,
            Err(e) => {
                report.add(format!("listeners.{name}"), e);
                continue;
            }
        };
        let toml::Value::Array(items) = value else {
            report.add(
                format!("listeners.{name}"),
                "expected a list of addresses, e.g. [\"127.0.0.1:143\"]",
            );
            continue;
        };
        let mut addrs = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("listeners.{name}[{i}]");
            let toml::Value::String(text) = item else {
                report.add(path, "expected a string such as \"127.0.0.1:143\"");
                continue;
            };
            match text.parse::<SocketAddr>() {
                Ok(addr) => {
                    if addr.port() != 0 {
                        if let Some(other) = seen.get(&addr) {
                            report.add(path, format!("{addr} is also used by {other}"));
                            continue;
                        }
                        seen.insert(addr, path);
                    }
                    addrs.push(addr);
                }
                Err(_) => report.add(
                    path,
                    format!("invalid socket address \"{text}\" (expected IP:PORT, [IPv6]:PORT)"),
                ),
            }
        }
        if !addrs.is_empty() {
            out.insert(service, addrs);
        }
    }
    out
}

fn valid_hostname(name: &str) -> bool {
    // RFC 1123 §2.1: letters, digits and hyphens; labels of 1 to 63, 253 in all.
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn check_server(report: &mut Report, raw: raw::Server) -> Server {
    let hostname = raw.hostname.unwrap_or_else(|| "localhost".into());
    if !valid_hostname(&hostname) {
        report.add(
            "server.hostname",
            format!("invalid host name \"{hostname}\" (letters, digits, hyphens and dots)"),
        );
    }
    let data_dir = raw.data_dir.unwrap_or_else(|| "./data".into());
    if data_dir.trim().is_empty() {
        report.add("server.data_dir", "must not be empty");
    }
    let grace = raw.shutdown_grace_secs.unwrap_or(10);
    if grace > 3600 {
        report.add(
            "server.shutdown_grace_secs",
            format!("{grace} is more than 3600"),
        );
    }
    Server {
        hostname,
        data_dir: PathBuf::from(data_dir),
        shutdown_grace: Duration::from_secs(grace),
    }
}

pub(super) fn positive(
    report: &mut Report,
    path: &str,
    value: Option<i64>,
    default: usize,
) -> usize {
    match value {
        None => default,
        Some(v) if v >= 1 => usize::try_from(v).unwrap_or(usize::MAX),
        Some(v) => {
            report.add(path, format!("must be at least 1, not {v}"));
            default
        }
    }
}

fn check_limits(report: &mut Report, raw: raw::Limits) -> Limits {
    Limits {
        max_connections: positive(report, "limits.max_connections", raw.max_connections, 1024),
        max_connections_per_ip: positive(
            report,
            "limits.max_connections_per_ip",
            raw.max_connections_per_ip,
            32,
        ),
        imap_commands_per_second: positive(
            report,
            "limits.imap_commands_per_second",
            raw.imap_commands_per_second,
            marque_access::imap::limits::COMMANDS_PER_SECOND,
        ),
        imap_command_burst: positive(
            report,
            "limits.imap_command_burst",
            raw.imap_command_burst,
            marque_access::imap::limits::COMMAND_BURST,
        ),
        input_memory: positive(
            report,
            "limits.input_memory_mb",
            raw.input_memory_mb,
            (marque_session::budget::DEFAULT_BYTES >> 20) as usize,
        ) as u64
            * 1024
            * 1024,
    }
}

/// The input budget must hold the largest input one session may take from it: an SMTP
/// message (twice its size while it is checked and stored) and an IMAP APPEND.
fn check_input_memory(report: &mut Report, limits: &Limits, smtp: &super::smtp::Smtp) {
    let needed = smtp
        .max_message_size
        .saturating_mul(2)
        .max(marque_access::imap::parse::frame::MAX_APPEND);
    if limits.input_memory < needed {
        report.add(
            "limits.input_memory_mb",
            format!(
                "{} MB cannot hold one message of smtp.max_message_size_kb (twice its size) \
                 or one IMAP APPEND of {} MB: at least {} MB",
                limits.input_memory >> 20,
                marque_access::imap::parse::frame::MAX_APPEND >> 20,
                needed.div_ceil(1024 * 1024)
            ),
        );
    }
}

fn check_tls(report: &mut Report, raw: raw::Tls) -> Option<TlsFiles> {
    let mut readable = |key: &str, path: &str| {
        if let Err(e) = std::fs::metadata(path) {
            report.add(format!("tls.{key}"), format!("cannot read \"{path}\": {e}"));
        }
    };
    match (raw.cert, raw.key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            readable("cert", &cert);
            readable("key", &key);
            Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            })
        }
        (Some(_), None) => {
            report.add("tls.key", "missing: tls.cert and tls.key go together");
            None
        }
        (None, Some(_)) => {
            report.add("tls.cert", "missing: tls.cert and tls.key go together");
            None
        }
    }
}

fn check_log(report: &mut Report, raw: raw::Log) -> Log {
    let format = match raw.format.as_deref() {
        None | Some("human") => LogFormat::Human,
        Some("json") => LogFormat::Json,
        Some(other) => {
            report.add(
                "log.format",
                format!("unknown format \"{other}\" (expected \"human\" or \"json\")"),
            );
            LogFormat::Human
        }
    };
    let level = raw.level.unwrap_or_else(|| "info".into());
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&level) {
        report.add("log.level", format!("invalid filter \"{level}\": {e}"));
    }
    Log { format, level }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => vec![],
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn the_embedded_default_is_valid() {
        let c = parse(super::super::DEFAULT).unwrap();
        assert_eq!(c.server.hostname, "localhost");
        assert_eq!(c.listeners.len(), 10);
        assert_eq!(
            c.listeners[&Service::Imap],
            vec!["127.0.0.1:2143".parse().unwrap()]
        );
    }

    #[test]
    fn an_empty_file_is_valid_and_runs_nothing() {
        let c = parse("").unwrap();
        assert!(c.listeners.is_empty());
        assert_eq!(c.store.durability, marque_store::Durability::Sync);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let p = problems(
            r#"
            [server]
            hostname = "bad host"
            [listeners]
            imap = ["x", "127.0.0.1:143"]
            imaps = ["127.0.0.1:143"]
            gopher = ["127.0.0.1:70"]
            pop3 = "127.0.0.1:110"
            [log]
            format = "xml"
            [store]
            durability = "maybe"
            block_cache_mb = 0
            meta_cache_mb = -1
            [tls]
            cert = "/nonexistent/cert.pem"
            [extra]
            "#,
        );
        let expect = [
            "server.hostname: invalid host name \"bad host\"",
            "listeners.imap[0]: invalid socket address \"x\"",
            "listeners.imaps[0]: 127.0.0.1:143 is also used by listeners.imap[1]",
            "listeners.gopher: unknown service \"gopher\"",
            "listeners.pop3: expected a list of addresses",
            "log.format: unknown format \"xml\"",
            "store.durability: unknown durability \"maybe\"",
            "store.block_cache_mb: must be at least 1, not 0",
            "store.meta_cache_mb: -1 is outside 0 to 65536",
            "tls.key: missing",
            "extra: unknown section",
        ];
        for e in expect {
            assert!(
                p.iter().any(|line| line.starts_with(e)),
                "no {e:?} in {p:#?}"
            );
        }
        assert_eq!(p.len(), expect.len(), "{p:#?}");
    }

    #[test]
    fn sieve_limits_are_checked() {
        let p = problems("[sieve]\nmax_actions = 0\nmax_instructions = \"many\"\nbogus = 1\n");
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(
            p.iter()
                .any(|l| l.starts_with("sieve.max_actions: must be at least 1")),
            "{p:#?}"
        );
        assert!(
            p.iter()
                .any(|l| l.starts_with("sieve.max_instructions: invalid type")),
            "{p:#?}"
        );
        assert!(
            p.iter()
                .any(|l| l.starts_with("sieve.bogus: unknown field")),
            "{p:#?}"
        );
        let c = parse("[sieve]\nmax_redirect_hops = 3\n").unwrap();
        assert_eq!(c.sieve.max_redirect_hops, 3);
        assert_eq!(
            c.sieve.max_actions,
            marque_delivery::SieveConfig::default().max_actions
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let p = problems("[server]\nhostnme = \"a\"\n[log]\nlevel = \"info\"\ncolour = true\n");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].starts_with("server.hostnme: unknown field `hostnme`"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("log.colour: unknown field `colour`"),
            "{p:#?}"
        );
    }

    #[test]
    fn wrong_types_are_reported_per_key_and_good_keys_still_count() {
        let p = problems(
            "[store]\nblock_cache_mb = \"big\"\nbackground_threads = 0\n[server]\nhostname = 7\n",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(p[0].starts_with("server.hostname: invalid type"), "{p:#?}");
        assert!(
            p[1].starts_with("store.block_cache_mb: invalid type"),
            "{p:#?}"
        );
        assert!(
            p[2].starts_with("store.background_threads: must be at least 1"),
            "{p:#?}"
        );
    }

    #[test]
    fn port_zero_may_repeat() {
        let c = parse("[listeners]\nsmtp = [\"127.0.0.1:0\"]\nimap = [\"127.0.0.1:0\"]\n").unwrap();
        assert_eq!(c.listeners.len(), 2);
    }

    #[test]
    fn sieve_limits_are_read_and_checked() {
        let c = parse("[sieve]\nmax_scripts = 3\nmax_script_size = 1000\n").unwrap();
        assert_eq!(c.sieve.max_scripts, 3);
        assert_eq!(c.sieve.max_script_size, 1000);
        assert_eq!(
            parse("").unwrap().sieve.storage_limits(),
            marque_hosting::sieve::SieveLimits::default()
        );
        let p = parse("[sieve]\nmax_scripts = 0\n").unwrap_err().0;
        assert!(
            p[0].to_string()
                .starts_with("sieve.max_scripts: must be at least 1")
        );
    }

    #[test]
    fn the_input_memory_budget_must_hold_the_largest_input() {
        assert_eq!(parse("").unwrap().limits.input_memory, 512 * 1024 * 1024);
        let c = parse("[limits]\ninput_memory_mb = 200\n").unwrap();
        assert_eq!(c.limits.input_memory, 200 * 1024 * 1024);
        // 50 MB messages need 100 MB; 64 MB APPENDs need 64.
        let p = parse("[limits]\ninput_memory_mb = 99\n").unwrap_err().0;
        assert!(
            p[0].to_string()
                .starts_with("limits.input_memory_mb: 99 MB cannot hold"),
            "{p:?}"
        );
        let p = parse("[limits]\ninput_memory_mb = 300\n[smtp]\nmax_message_size_kb = 204800\n")
            .unwrap_err()
            .0;
        assert!(p[0].to_string().contains("at least 400 MB"), "{p:?}");
        let p = parse("[limits]\ninput_memory_mb = 0\n").unwrap_err().0;
        assert!(
            p[0].to_string()
                .starts_with("limits.input_memory_mb: must be at least 1")
        );
    }

    #[test]
    fn the_imap_command_rate_is_read_and_checked() {
        let c = parse("").unwrap();
        assert_eq!(c.limits.imap_commands_per_second, 200);
        assert_eq!(c.limits.imap_command_burst, 400);
        let c = parse("[limits]\nimap_commands_per_second = 5000\nimap_command_burst = 9000\n")
            .unwrap();
        assert_eq!(c.limits.imap_commands_per_second, 5000);
        assert_eq!(c.limits.imap_command_burst, 9000);
        assert_eq!(
            problems("[limits]\nimap_commands_per_second = 0\nimap_command_burst = -1\n"),
            vec![
                "limits.imap_commands_per_second: must be at least 1, not 0",
                "limits.imap_command_burst: must be at least 1, not -1",
            ]
        );
    }
}

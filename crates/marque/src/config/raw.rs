//! The sections as written in TOML, before validation. Values that need checking stay strings
//! here so that validation can report them all, with their key paths.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub hostname: Option<String>,
    pub data_dir: Option<String>,
    pub shutdown_grace_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_connections: Option<i64>,
    pub max_connections_per_ip: Option<i64>,
    pub imap_commands_per_second: Option<i64>,
    pub imap_command_burst: Option<i64>,
    pub input_memory_mb: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: Option<String>,
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub backend: Option<String>,
    pub url: Option<String>,
    pub pool_size: Option<i64>,
    pub ca_file: Option<std::path::PathBuf>,
    pub durability: Option<String>,
    pub block_cache_mb: Option<i64>,
    pub meta_cache_mb: Option<i64>,
    pub background_threads: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    pub nameservers: Option<Vec<String>>,
    pub check_interval_secs: Option<i64>,
    pub dmarc_policy: Option<String>,
    pub public_ports: Option<super::dnscheck::RawPorts>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub max_messages_per_hour: Option<i64>,
    pub max_recipients_per_hour: Option<i64>,
}

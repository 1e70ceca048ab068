//! `[smtp]`: the limits and timeouts of the SMTP listeners (`smtp`, `submission`,
//! `submissions`), and what the MX does with DMARC failures. Connections per IP are
//! `[limits]`, shared with the other services.

use std::time::Duration;

use serde::Deserialize;

use super::validate::Report;

/// `[smtp]` as written in TOML.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    pub max_line_length: Option<i64>,
    pub max_message_size_kb: Option<i64>,
    pub max_recipients: Option<i64>,
    pub max_errors: Option<i64>,
    pub command_timeout_secs: Option<i64>,
    pub data_timeout_secs: Option<i64>,
    pub greeting_delay_ms: Option<i64>,
    pub auth_failure_delay_ms: Option<i64>,
    pub auth_failure_max_delay_ms: Option<i64>,
    pub auth_ban_after: Option<i64>,
    pub auth_ban_secs: Option<i64>,
    pub dmarc_reject: Option<bool>,
}

/// `[smtp]`, validated.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Longest command line, CRLF included.
    pub max_line_length: usize,
    /// Largest message, in bytes (advertised as SIZE).
    pub max_message_size: u64,
    /// Most recipients per transaction.
    pub max_recipients: usize,
    /// Bad commands, unknown recipients and failed AUTHs before `421` and close.
    pub max_errors: u32,
    /// Waiting for a command.
    pub command_timeout: Duration,
    /// Waiting for the next line of DATA or BDAT chunk.
    pub data_timeout: Duration,
    /// Port 25 waits this long before the greeting and refuses clients that talk first.
    pub greeting_delay: Duration,
    /// Delay before answering the first failed AUTH; doubled for each further one. These four
    /// are the older names of `[signin]`'s throttle keys ([`Config::sign_in_policy`] reads
    /// them), which now apply to every service.
    ///
    /// [`Config::sign_in_policy`]: super::Config::sign_in_policy
    pub auth_failure_delay: Duration,
    /// Longest such delay.
    pub auth_failure_max_delay: Duration,
    /// Failed AUTHs from one IP address after which it is refused.
    pub auth_ban_after: u32,
    /// How long failures are remembered, and the ban lasts, after the last one.
    pub auth_ban: Duration,
    /// Refuse with `550 5.7.1` a message whose DMARC check fails under `p=reject`.
    pub dmarc_reject: bool,
}

impl Smtp {
    /// The SMTP service's configuration for `hostname`.
    pub fn service_config(&self, hostname: &str) -> marque_smtp::Config {
        let mut c = marque_smtp::Config::new(hostname);
        c.max_command_line = self.max_line_length;
        c.max_message_size = self.max_message_size;
        c.max_recipients = self.max_recipients;
        c.max_errors = self.max_errors;
        c.command_timeout = self.command_timeout;
        c.data_timeout = self.data_timeout;
        c.greeting_delay = self.greeting_delay;
        c.dmarc_reject = self.dmarc_reject;
        c
    }
}

/// `value` if within `min..=max`, else a problem and `default`.
fn ranged(
    report: &mut Report,
    key: &str,
    value: Option<i64>,
    min: i64,
    max: i64,
    default: i64,
) -> u64 {
    match value {
        None => default as u64,
        Some(v) if (min..=max).contains(&v) => v as u64,
        Some(v) => {
            report.add(
                format!("smtp.{key}"),
                format!("{v} is outside {min} to {max}"),
            );
            default as u64
        }
    }
}

pub(super) fn check(report: &mut Report, raw: Raw) -> Smtp {
    // RFC 5321 §4.5.3.1.4: 512 at least; more for extension parameters.
    let line = ranged(
        report,
        "max_line_length",
        raw.max_line_length,
        512,
        65536,
        2048,
    );
    let size_kb = ranged(
        report,
        "max_message_size_kb",
        raw.max_message_size_kb,
        1,
        1024 * 1024,
        50 * 1024,
    );
    // RFC 5321 §4.5.3.1.8: at least 100 should be accepted; fewer is allowed but unkind.
    let rcpt = ranged(
        report,
        "max_recipients",
        raw.max_recipients,
        1,
        100_000,
        100,
    );
    let errors = ranged(report, "max_errors", raw.max_errors, 1, 1000, 10);
    // RFC 5321 §4.5.3.2: the server waits at least 5 minutes for a command, 3 for data.
    let command = ranged(
        report,
        "command_timeout_secs",
        raw.command_timeout_secs,
        1,
        3600,
        300,
    );
    let data = ranged(
        report,
        "data_timeout_secs",
        raw.data_timeout_secs,
        1,
        3600,
        180,
    );
    let greeting = ranged(
        report,
        "greeting_delay_ms",
        raw.greeting_delay_ms,
        0,
        30_000,
        1000,
    );
    let first = ranged(
        report,
        "auth_failure_delay_ms",
        raw.auth_failure_delay_ms,
        0,
        60_000,
        1000,
    );
    let max = ranged(
        report,
        "auth_failure_max_delay_ms",
        raw.auth_failure_max_delay_ms,
        0,
        300_000,
        16_000,
    );
    if max < first {
        report.add(
            "smtp.auth_failure_max_delay_ms",
            format!("{max} is less than auth_failure_delay_ms ({first})"),
        );
    }
    let ban_after = ranged(report, "auth_ban_after", raw.auth_ban_after, 1, 1000, 10);
    let ban = ranged(report, "auth_ban_secs", raw.auth_ban_secs, 1, 86_400, 900);
    Smtp {
        max_line_length: line as usize,
        max_message_size: size_kb * 1024,
        max_recipients: rcpt as usize,
        max_errors: errors as u32,
        command_timeout: Duration::from_secs(command),
        data_timeout: Duration::from_secs(data),
        greeting_delay: Duration::from_millis(greeting),
        auth_failure_delay: Duration::from_millis(first),
        auth_failure_max_delay: Duration::from_millis(max),
        auth_ban_after: ban_after as u32,
        auth_ban: Duration::from_secs(ban),
        dmarc_reject: raw.dmarc_reject.unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn defaults_match_the_service_defaults() {
        let c = Config::parse("").unwrap();
        let s = c.smtp.service_config("mx.example");
        let d = marque_smtp::Config::new("mx.example");
        assert_eq!(s.max_command_line, d.max_command_line);
        assert_eq!(s.max_message_size, d.max_message_size);
        assert_eq!(s.max_recipients, d.max_recipients);
        assert_eq!(s.max_errors, d.max_errors);
        assert_eq!(s.command_timeout, d.command_timeout);
        assert_eq!(s.data_timeout, d.data_timeout);
        assert_eq!(s.greeting_delay, d.greeting_delay);
        // The AUTH throttle is the core's, shared by every service (`[signin]`).
        let t = c.sign_in_policy().throttle;
        let d = marque_core::signin::ThrottleConfig::default();
        assert_eq!(t.first_delay, d.first_delay);
        assert_eq!(t.max_delay, d.max_delay);
        assert_eq!(t.ban_after, d.ban_after);
        assert_eq!(t.window, d.window);
    }

    #[test]
    fn every_key_reaches_the_service() {
        let c = Config::parse(
            "[smtp]\nmax_line_length = 1000\nmax_message_size_kb = 2048\nmax_recipients = 7\n\
             max_errors = 3\ncommand_timeout_secs = 60\ndata_timeout_secs = 30\n\
             greeting_delay_ms = 0\nauth_failure_delay_ms = 500\n\
             auth_failure_max_delay_ms = 4000\nauth_ban_after = 4\nauth_ban_secs = 120\n",
        )
        .unwrap();
        let s = c.smtp.service_config("mx.example");
        assert_eq!(s.hostname, "mx.example");
        assert_eq!(s.max_command_line, 1000);
        assert_eq!(s.max_message_size, 2048 * 1024);
        assert_eq!(s.max_recipients, 7);
        assert_eq!(s.max_errors, 3);
        assert_eq!(s.command_timeout.as_secs(), 60);
        assert_eq!(s.data_timeout.as_secs(), 30);
        assert!(s.greeting_delay.is_zero());
        // The older [smtp] names of the shared sign-in throttle's keys.
        let t = c.sign_in_policy().throttle;
        assert_eq!(t.first_delay.as_millis(), 500);
        assert_eq!(t.max_delay.as_millis(), 4000);
        assert_eq!(t.ban_after, 4);
        assert_eq!(t.window.as_secs(), 120);
    }

    #[test]
    fn out_of_range_values_are_reported_with_their_keys() {
        let e = Config::parse(
            "[smtp]\nmax_line_length = 100\nmax_recipients = 0\ncommand_timeout_secs = -1\n\
             auth_failure_delay_ms = 2000\nauth_failure_max_delay_ms = 1000\nbogus = 1\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "smtp.max_line_length: 100 is outside 512 to 65536",
            "smtp.max_recipients: 0 is outside 1 to 100000",
            "smtp.command_timeout_secs: -1 is outside 1 to 3600",
            "smtp.auth_failure_max_delay_ms: 1000 is less than auth_failure_delay_ms (2000)",
            "smtp.bogus",
        ] {
            assert!(e.contains(expected), "{expected} not in:\n{e}");
        }
    }
}

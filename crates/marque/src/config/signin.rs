//! `[signin]`: the one throttle of failed sign-ins that every service shares (SMTP AUTH, IMAP,
//! POP3, ManageSieve, the panel, API tokens), and the client networks that may send a
//! password before TLS. The `[smtp] auth_*` keys are older names of the throttle's first four
//! keys and are used when `[signin]` does not set them.

use std::time::Duration;

use marque_core::signin::{Network, SignInPolicy, ThrottleConfig};
use serde::Deserialize;

use super::Config;
use super::validate::Report;

/// `[signin]` as written in TOML.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    pub failure_delay_ms: Option<i64>,
    pub max_delay_ms: Option<i64>,
    pub ban_after: Option<i64>,
    pub ban_secs: Option<i64>,
    pub account_slow_after: Option<i64>,
    pub account_max_delay_ms: Option<i64>,
    pub cleartext_networks: Option<Vec<String>>,
}

/// The `[smtp] auth_*` keys, the throttle's older names.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Older {
    pub failure_delay_ms: Option<i64>,
    pub max_delay_ms: Option<i64>,
    pub ban_after: Option<i64>,
    pub ban_secs: Option<i64>,
}

impl Older {
    pub(super) fn of(smtp: &super::smtp::Raw) -> Older {
        Older {
            failure_delay_ms: smtp.auth_failure_delay_ms,
            max_delay_ms: smtp.auth_failure_max_delay_ms,
            ban_after: smtp.auth_ban_after,
            ban_secs: smtp.auth_ban_secs,
        }
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
                format!("signin.{key}"),
                format!("{v} is outside {min} to {max}"),
            );
            default as u64
        }
    }
}

pub(super) fn check(report: &mut Report, raw: Raw, older: Older) -> SignInPolicy {
    let d = ThrottleConfig::default();
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    // The [smtp] names were checked in [smtp]; out-of-range values there fall back here too.
    let first = ranged(
        report,
        "failure_delay_ms",
        raw.failure_delay_ms
            .or(older.failure_delay_ms.filter(|v| (0..=60_000).contains(v))),
        0,
        60_000,
        ms(d.first_delay),
    );
    let max = ranged(
        report,
        "max_delay_ms",
        raw.max_delay_ms
            .or(older.max_delay_ms.filter(|v| (0..=300_000).contains(v))),
        0,
        300_000,
        ms(d.max_delay),
    );
    if max < first && raw.max_delay_ms.is_some() {
        report.add(
            "signin.max_delay_ms",
            format!("{max} is less than failure_delay_ms ({first})"),
        );
    }
    let ban_after = ranged(
        report,
        "ban_after",
        raw.ban_after
            .or(older.ban_after.filter(|v| (1..=1000).contains(v))),
        1,
        1000,
        i64::from(d.ban_after),
    );
    let ban = ranged(
        report,
        "ban_secs",
        raw.ban_secs
            .or(older.ban_secs.filter(|v| (1..=86_400).contains(v))),
        1,
        86_400,
        d.window.as_secs() as i64,
    );
    let account_after = ranged(
        report,
        "account_slow_after",
        raw.account_slow_after,
        1,
        100_000,
        i64::from(d.account_after),
    );
    let account_max = ranged(
        report,
        "account_max_delay_ms",
        raw.account_max_delay_ms,
        0,
        300_000,
        ms(d.account_max_delay),
    );
    let cleartext_networks = match raw.cleartext_networks {
        None => Network::loopback(),
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (i, text) in list.iter().enumerate() {
                match text.parse::<Network>() {
                    Ok(n) => out.push(n),
                    Err(e) => report.add(format!("signin.cleartext_networks[{i}]"), e),
                }
            }
            out
        }
    };
    SignInPolicy {
        throttle: ThrottleConfig {
            first_delay: Duration::from_millis(first),
            max_delay: Duration::from_millis(max.max(first)),
            ban_after: ban_after as u32,
            window: Duration::from_secs(ban),
            account_after: account_after as u32,
            account_max_delay: Duration::from_millis(account_max),
        },
        cleartext_networks,
    }
}

impl Config {
    /// The sign-in policy the core applies for every service.
    pub fn sign_in_policy(&self) -> SignInPolicy {
        self.signin.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use marque_core::signin::SignInPolicy;
    use std::time::Duration;

    #[test]
    fn the_default_is_the_cores_and_allows_only_loopback_in_clear() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.sign_in_policy(), SignInPolicy::default());
        assert!(
            c.signin
                .cleartext_networks
                .iter()
                .any(|n| n.contains("127.0.0.1".parse().unwrap()))
        );
        assert!(
            !c.signin
                .cleartext_networks
                .iter()
                .any(|n| n.contains("192.0.2.1".parse().unwrap()))
        );
    }

    #[test]
    fn every_key_is_read_and_the_smtp_names_still_count() {
        let c = Config::parse(
            "[signin]\nfailure_delay_ms = 250\nmax_delay_ms = 2000\nban_after = 4\nban_secs = 60\n\
             account_slow_after = 7\naccount_max_delay_ms = 3000\n\
             cleartext_networks = [\"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let t = c.signin.throttle;
        assert_eq!(t.first_delay, Duration::from_millis(250));
        assert_eq!(t.max_delay, Duration::from_millis(2000));
        assert_eq!((t.ban_after, t.window.as_secs()), (4, 60));
        assert_eq!(
            (t.account_after, t.account_max_delay.as_millis()),
            (7, 3000)
        );
        assert!(c.signin.cleartext_networks[0].contains("10.9.8.7".parse().unwrap()));
        assert!(!c.signin.cleartext_networks[0].contains("127.0.0.1".parse().unwrap()));

        let older =
            Config::parse("[smtp]\nauth_failure_delay_ms = 500\nauth_ban_after = 3\n").unwrap();
        assert_eq!(
            older.signin.throttle.first_delay,
            Duration::from_millis(500)
        );
        assert_eq!(older.signin.throttle.ban_after, 3);

        let none = Config::parse("[signin]\ncleartext_networks = []\n").unwrap();
        assert!(none.signin.cleartext_networks.is_empty());
    }

    #[test]
    fn bad_values_are_reported_with_their_keys() {
        let e = Config::parse(
            "[signin]\nban_after = 0\ncleartext_networks = [\"10.0.0.0/40\", \"nope\"]\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "signin.ban_after: 0 is outside 1 to 1000",
            "signin.cleartext_networks[0]",
            "signin.cleartext_networks[1]",
        ] {
            assert!(e.contains(expected), "{expected} not in:\n{e}");
        }
    }
}

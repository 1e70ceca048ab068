//! `[webhooks]`: which address ranges webhooks may reach besides public addresses.

use marque_hosting::webhook_target::Network;
use serde::Deserialize;

/// `[webhooks]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    pub allow_networks: Option<Vec<String>>,
}

/// `[webhooks]`.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    /// Ranges that are not public (loopback, private, link-local...) but that webhooks may be
    /// sent to all the same, e.g. a receiver on the provider's own network.
    pub allow_networks: Vec<Network>,
}

/// Checks `[webhooks]`; each problem as (key path, message).
pub fn check_webhooks(raw: RawWebhooks, problems: &mut Vec<(String, String)>) -> Webhooks {
    let mut allow_networks = Vec::new();
    for (i, s) in raw.allow_networks.unwrap_or_default().iter().enumerate() {
        match s.trim().parse::<Network>() {
            Ok(n) => allow_networks.push(n),
            Err(e) => problems.push((format!("webhooks.allow_networks[{i}]"), e)),
        }
    }
    Webhooks { allow_networks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_one_by_one() {
        let mut p = Vec::new();
        let w = check_webhooks(
            RawWebhooks {
                allow_networks: Some(vec![
                    "127.0.0.0/8".into(),
                    "fd00::/8".into(),
                    "10.1.2.3/8".into(),
                    "not a range".into(),
                ]),
            },
            &mut p,
        );
        assert_eq!(w.allow_networks.len(), 2);
        let paths: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            paths,
            ["webhooks.allow_networks[2]", "webhooks.allow_networks[3]"]
        );
        assert!(p[0].1.contains("host bits"), "{p:?}");
        assert!(
            check_webhooks(RawWebhooks::default(), &mut p)
                .allow_networks
                .is_empty()
        );
    }
}

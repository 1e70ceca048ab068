//! `[cluster]`: this process's name among the processes that share one store, and how long
//! the leases it keeps there last.

use std::time::Duration;

use serde::Deserialize;

/// `[cluster]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub node: Option<String>,
    pub lease_secs: Option<u64>,
}

/// `[cluster]`.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The node's name, stable across restarts and distinct for every process on one store:
    /// its leases carry it, and a restarted node hands back only the leases of its own name.
    pub node: String,
    /// How long a periodic task's lease, a POP3 maildrop lock, a webhook claim and the node's
    /// heartbeat last without renewal (renewed every third of it): how soon another node
    /// takes over from one that died.
    pub lease: Duration,
}

/// The lease length when `lease_secs` is not given.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(90);

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            node: marque_store::lease::host_name(),
            lease: DEFAULT_LEASE,
        }
    }
}

/// Checks `[cluster]`; each problem as (key path, message).
pub fn check_cluster(raw: RawCluster, problems: &mut Vec<(String, String)>) -> Cluster {
    let mut c = Cluster::default();
    if let Some(node) = raw.node {
        let ok = !node.is_empty()
            && node.len() <= 64
            && node
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if ok {
            c.node = node;
        } else {
            problems.push((
                "cluster.node".into(),
                "1 to 64 characters among letters, digits, '.', '-' and '_'".into(),
            ));
        }
    }
    match raw.lease_secs {
        None => {}
        Some(s @ 1..=3600) => c.lease = Duration::from_secs(s),
        Some(_) => problems.push((
            "cluster.lease_secs".into(),
            "between 1 and 3600 seconds".into(),
        )),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_and_lease_lengths_are_checked() {
        let mut p = Vec::new();
        let c = check_cluster(RawCluster::default(), &mut p);
        assert!(p.is_empty());
        assert!(!c.node.is_empty());
        assert_eq!(c.lease, DEFAULT_LEASE);
        let c = check_cluster(
            RawCluster {
                node: Some("mx-1.example".into()),
                lease_secs: Some(5),
            },
            &mut p,
        );
        assert!(p.is_empty());
        assert_eq!((c.node.as_str(), c.lease.as_secs()), ("mx-1.example", 5));
        check_cluster(
            RawCluster {
                node: Some("two words".into()),
                lease_secs: Some(0),
            },
            &mut p,
        );
        let paths: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(paths, ["cluster.node", "cluster.lease_secs"]);
        check_cluster(
            RawCluster {
                node: Some(String::new()),
                lease_secs: Some(3601),
            },
            &mut p,
        );
        assert_eq!(p.len(), 4);
    }
}

//! Leases: which process may do a piece of work for now.
//!
//! Several processes may share one store (on PostgreSQL), so work that must be done by one of
//! them at a time — delivering a queued message, sending a webhook, a periodic task, a POP3
//! session on a maildrop — is guarded by a lease kept in the store, never in memory. A lease
//! names its [`Holder`] (the node and the incarnation of it that runs now) and when it runs out.
//! It is taken, renewed, checked and released inside store transactions, which are
//! serializable across processes, so two holders never both believe they hold one lease.
//!
//! The rules every user follows:
//! - [`take`] succeeds when the lease is free, has run out, or is already the caller's (then it
//!   is renewed); otherwise it reports the live holder ([`Take::Busy`]).
//! - A result is recorded only if [`holds`] says the caller still holds the lease, checked in
//!   the transaction that records it. A lease that ran out but that nobody took since is still
//!   the caller's: no one else can have started the work, and nobody can take it while the
//!   transaction runs.
//! - A holder that dies stops renewing; its leases run out and another takes them.
//! - A node that restarts hands back at once the leases of its own earlier incarnations
//!   ([`stale_of`]), and no one else's.
//!
//! Leases live in [`Keyspace::Meta`] as `'l' · scope · name`: the scope says what the lease is
//! on ([`crate::tags::lease`]), the name which one (a queue entry id, a task's name...).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::keyspace::{Key, Keyspace, decode, encode};
use crate::reader::Reader;
use crate::txn::Txn;
use crate::{Direction, Range};

pub use crate::tags::lease as scope;

/// A running process: its node name and the incarnation chosen when it started.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Holder {
    /// The node's name (`[cluster] node`, the host name by default), stable across restarts.
    pub node: String,
    /// Chosen afresh at each start: tells this run of the node from the earlier ones.
    pub incarnation: u64,
}

impl Holder {
    /// `node` with a new incarnation: the time of the call in nanoseconds, mixed with the
    /// process id, so two starts never share one.
    pub fn start(node: impl Into<String>) -> Holder {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let pid = u64::from(std::process::id());
        Holder {
            node: node.into(),
            incarnation: nanos ^ pid.rotate_left(48),
        }
    }

    /// This process's holder when none was configured: the host name, one incarnation for
    /// the whole process.
    pub fn local() -> Holder {
        static LOCAL: OnceLock<Holder> = OnceLock::new();
        LOCAL.get_or_init(|| Holder::start(host_name())).clone()
    }

    /// True if `other` is an earlier (or later) run of the same node.
    pub fn same_node_other_run(&self, other: &Holder) -> bool {
        self.node == other.node && self.incarnation != other.incarnation
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{:016x}", self.node, self.incarnation)
    }
}

/// The machine's host name (the kernel's), or `localhost` when it cannot be read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub holder: Holder,
    /// When it runs out, in milliseconds since the epoch.
    pub expires_ms: u64,
}

impl Lease {
    /// True until it runs out.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_ms > now_ms
    }
}

/// What [`take`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// The caller holds it now (taken or renewed), until the lease's expiry.
    Held(Lease),
    /// Someone else holds it, until the lease's expiry.
    Busy(Lease),
}

impl Take {
    /// True for [`Take::Held`].
    pub fn is_held(&self) -> bool {
        matches!(self, Take::Held(_))
    }
}

fn prefix(scope: u8) -> Vec<u8> {
    Key::new()
        .tag(crate::tags::meta::LEASE)
        .tag(scope)
        .into_bytes()
}

fn key(scope: u8, name: &[u8]) -> Vec<u8> {
    let mut k = prefix(scope);
    k.extend_from_slice(name);
    k
}

/// Reads the lease `scope` · `name`, live or not.
pub fn get(r: &impl Reader, scope: u8, name: &[u8]) -> Result<Option<Lease>> {
    r.get_value(Keyspace::Meta, &key(scope, name))
}

/// Takes or renews the lease for `ttl_ms` from `now_ms` if it is free, ran out, or is the
/// holder's already.
pub fn take(
    txn: &mut Txn<'_>,
    scope: u8,
    name: &[u8],
    holder: &Holder,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<Take> {
    if let Some(current) = get(txn, scope, name)?
        && current.holder != *holder
        && current.is_live(now_ms)
    {
        return Ok(Take::Busy(current));
    }
    let lease = Lease {
        holder: holder.clone(),
        expires_ms: now_ms.saturating_add(ttl_ms),
    };
    txn.put(Keyspace::Meta, key(scope, name), encode(&lease)?);
    Ok(Take::Held(lease))
}

/// Takes the lease for `ttl_ms` from `now_ms` only if it is free or ran out: unlike [`take`],
/// a live lease of `holder` itself is [`Take::Busy`] too (an exclusive lock that two tasks of
/// one process must not share).
pub fn acquire(
    txn: &mut Txn<'_>,
    scope: u8,
    name: &[u8],
    holder: &Holder,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<Take> {
    match get(txn, scope, name)? {
        Some(current) if current.is_live(now_ms) => Ok(Take::Busy(current)),
        _ => take(txn, scope, name, holder, now_ms, ttl_ms),
    }
}

/// True if `holder` holds the lease (live, or run out but taken by no one since).
pub fn holds(r: &impl Reader, scope: u8, name: &[u8], holder: &Holder) -> Result<bool> {
    Ok(get(r, scope, name)?.is_some_and(|l| l.holder == *holder))
}

/// True if someone holds the lease and it has not run out.
pub fn is_taken(r: &impl Reader, scope: u8, name: &[u8], now_ms: u64) -> Result<bool> {
    Ok(get(r, scope, name)?.is_some_and(|l| l.is_live(now_ms)))
}

/// Gives the lease back if `holder` holds it; returns whether it did.
pub fn release(txn: &mut Txn<'_>, scope: u8, name: &[u8], holder: &Holder) -> Result<bool> {
    if holds(txn, scope, name, holder)? {
        txn.delete(Keyspace::Meta, key(scope, name));
        return Ok(true);
    }
    Ok(false)
}

/// Removes the lease whoever holds it (the work it guarded is gone).
pub fn clear(txn: &mut Txn<'_>, scope: u8, name: &[u8]) {
    txn.delete(Keyspace::Meta, key(scope, name));
}

/// Up to `limit` leases of `scope` whose name comes after `after` (all from the start when
/// `None`), in name order, with their names.
pub fn list(
    r: &impl Reader,
    scope: u8,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Lease)>> {
    let p = prefix(scope);
    let range = match after {
        // The smallest key after `after`: itself with a zero byte appended.
        Some(a) => {
            let mut start = key(scope, a);
            start.push(0);
            let end = crate::keyspace::prefix_end(&p).unwrap_or_default();
            Range::between(start, end)
        }
        None => Range::prefix(&p),
    };
    r.scan(Keyspace::Meta, &range, Direction::Forward, limit)?
        .into_iter()
        .map(|(k, v)| Ok((k[p.len()..].to_vec(), decode(Keyspace::Meta, &v)?)))
        .collect()
}

/// The leases of `scope` held by earlier runs of `holder`'s node, among up to `limit` after
/// `after`: what a restarted node hands back. Returns them and the last name looked at
/// (`None` at the end).
#[allow(clippy::type_complexity)]
pub fn stale_of(
    r: &impl Reader,
    scope: u8,
    holder: &Holder,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<(Vec<(Vec<u8>, Lease)>, Option<Vec<u8>>)> {
    let page = list(r, scope, after, limit)?;
    let last = page.last().map(|(n, _)| n.clone());
    let stale = page
        .into_iter()
        .filter(|(_, l)| holder.same_node_other_run(&l.holder))
        .collect();
    Ok((stale, last))
}

/// The nodes whose heartbeat ([`scope::NODE`]) is live at `now_ms`.
pub fn live_nodes(r: &impl Reader, now_ms: u64) -> Result<Vec<Holder>> {
    Ok(list(r, scope::NODE, None, 10_000)?
        .into_iter()
        .filter(|(_, l)| l.is_live(now_ms))
        .map(|(_, l)| l.holder)
        .collect())
}

mod named;
pub use named::NamedLease;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incarnations_differ_and_the_node_is_kept() {
        let a = Holder::start("mx1");
        let b = Holder::start("mx1");
        assert_ne!(a.incarnation, b.incarnation);
        assert!(a.same_node_other_run(&b));
        assert!(!a.same_node_other_run(&a));
        assert!(!a.same_node_other_run(&Holder::start("mx2")));
        assert_eq!(Holder::local(), Holder::local());
    }
}

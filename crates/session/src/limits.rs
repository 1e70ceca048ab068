//! Connection limits of one listener: in total and per remote IP address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// How many connections one listener accepts at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections on the listener, all clients together.
    pub max_connections: usize,
    /// Open connections from one IP address.
    pub max_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_per_ip: 32,
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener has [`Limits::max_connections`] open.
    ListenerFull,
    /// This IP address has [`Limits::max_per_ip`] open.
    TooManyFromIp,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The live counts of one listener; [`Tracker::admit`] hands out a [`Permit`] that gives its
/// place back when dropped.
#[derive(Debug, Clone)]
pub struct Tracker {
    limits: Limits,
    counts: Arc<Mutex<Counts>>,
}

/// One admitted connection's place; released on drop.
#[derive(Debug)]
pub struct Permit {
    ip: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl Tracker {
    /// A tracker with nothing open.
    pub fn new(limits: Limits) -> Self {
        Tracker {
            limits,
            counts: Arc::default(),
        }
    }

    /// Admits a connection from `ip`, or says why not.
    pub fn admit(&self, ip: IpAddr) -> Result<Permit, Refusal> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.total >= self.limits.max_connections {
            return Err(Refusal::ListenerFull);
        }
        let from_ip = counts.per_ip.entry(ip).or_insert(0);
        if *from_ip >= self.limits.max_per_ip {
            return Err(Refusal::TooManyFromIp);
        }
        *from_ip += 1;
        counts.total += 1;
        Ok(Permit {
            ip,
            counts: self.counts.clone(),
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    #[test]
    fn per_ip_limit_is_per_ip() {
        let t = Tracker::new(Limits {
            max_connections: 10,
            max_per_ip: 2,
        });
        let _a1 = t.admit(A).unwrap();
        let a2 = t.admit(A).unwrap();
        assert_eq!(t.admit(A).unwrap_err(), Refusal::TooManyFromIp);
        let _b1 = t.admit(B).unwrap();
        drop(a2);
        let _a3 = t.admit(A).unwrap();
        assert_eq!(t.open(), 3);
    }

    #[test]
    fn listener_limit_counts_everyone() {
        let t = Tracker::new(Limits {
            max_connections: 2,
            max_per_ip: 5,
        });
        let _a = t.admit(A).unwrap();
        let b = t.admit(B).unwrap();
        assert_eq!(t.admit(B).unwrap_err(), Refusal::ListenerFull);
        drop(b);
        assert!(t.admit(B).is_ok());
    }
}

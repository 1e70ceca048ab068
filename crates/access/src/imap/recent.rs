//! `\Recent` for IMAP4rev1 sessions (RFC 3501 §2.3.2; IMAP4rev2, RFC 9051, has no such flag).
//!
//! A message is recent in exactly one session: the first to select its folder after it
//! arrived. Which UIDs have been claimed lives in the store (`mail::claim_recent`), so that
//! sessions in several processes agree: SELECT claims every UID up to the last one it shows,
//! and a session that sees new messages arrive claims them, in a transaction that tells it
//! which of them nobody had claimed before. EXAMINE claims nothing (RFC 3501 §6.3.2: it must
//! not make messages lose `\Recent`); it shows as recent what a claim would give it.

use marque_store::mail::{self, MessageRecord};
use marque_store::{AccountId, MailboxId, Store};

use super::parse::search::Key;
use super::parse::seq::{SeqNum, SeqSet};

/// How a selected mailbox treats `\Recent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// IMAP4rev2: no `\Recent`, nothing claimed.
    Off,
    /// SELECT: this session claims what it sees.
    Claim,
    /// EXAMINE: recent-ness is reported but not claimed.
    Peek,
}

/// The messages recent in this session.
#[derive(Debug, Clone)]
pub struct Recent {
    pub mode: Mode,
    /// UIDs, ascending.
    uids: Vec<u32>,
}

impl Recent {
    /// Nothing recent yet, in `mode`.
    pub fn new(mode: Mode) -> Recent {
        Recent {
            mode,
            uids: Vec::new(),
        }
    }

    /// True if `uid` has `\Recent` in this session.
    pub fn contains(&self, uid: u32) -> bool {
        self.uids.binary_search(&uid).is_ok()
    }

    /// Adds UIDs above the ones already held.
    pub fn extend(&mut self, uids: impl IntoIterator<Item = u32>) {
        self.uids.extend(uids);
        self.uids.sort_unstable();
        self.uids.dedup();
    }

    /// How many of the view's messages (`uids`, ascending) are recent.
    pub fn count(&self, uids: &[u32]) -> usize {
        self.uids
            .iter()
            .filter(|u| uids.binary_search(u).is_ok())
            .count()
    }

    /// The `* n RECENT` line IMAP4rev1 sends on SELECT and when messages arrive (RFC 3501
    /// §7.3.2), or nothing in IMAP4rev2.
    pub fn line(&self, uids: &[u32]) -> Option<String> {
        (self.mode != Mode::Off).then(|| format!("* {} RECENT", self.count(uids)))
    }

    /// The recent UIDs as a set of ranges.
    fn set(&self) -> SeqSet {
        let mut ranges: Vec<(SeqNum, SeqNum)> = Vec::new();
        for &u in &self.uids {
            match ranges.last_mut() {
                Some((_, SeqNum::Num(end))) if end.checked_add(1) == Some(u) => *end = u,
                _ => ranges.push((SeqNum::Num(u), SeqNum::Num(u))),
            }
        }
        SeqSet::Ranges(ranges)
    }

    /// `key` with the session's keys resolved (RFC 3501 §6.4.4): RECENT as the recent UIDs,
    /// NEW as recent and unseen, OLD as not recent.
    pub fn resolve(&self, key: Key) -> Key {
        match key {
            Key::Recent => Key::Uid(self.set()),
            Key::New => Key::And(vec![Key::Uid(self.set()), Key::Flag("\\Seen", false)]),
            Key::Old => Key::Not(Box::new(Key::Uid(self.set()))),
            Key::Not(k) => Key::Not(Box::new(self.resolve(*k))),
            Key::Or(a, b) => Key::Or(Box::new(self.resolve(*a)), Box::new(self.resolve(*b))),
            Key::And(v) => Key::And(v.into_iter().map(|k| self.resolve(k)).collect()),
            other => other,
        }
    }
}

/// The flag list of a message as this session sees it: `\Recent` after the stored flags
/// when the message is recent here.
pub fn flags(r: &MessageRecord, recent: bool) -> String {
    let mut list = super::render::flags(r);
    if recent {
        list.pop();
        if list.len() > 1 {
            list.push(' ');
        }
        list.push_str("\\Recent)");
    }
    list
}

/// True if `key` names a session key that [`Recent::resolve`] replaces.
pub fn uses_recent(key: &Key) -> bool {
    match key {
        Key::Recent | Key::New | Key::Old => true,
        Key::Not(k) => uses_recent(k),
        Key::Or(a, b) => uses_recent(a) || uses_recent(b),
        Key::And(v) => v.iter().any(uses_recent),
        _ => false,
    }
}

/// The UIDs among `seen` (ascending: what the session is about to show) that are recent for
/// it: in [`Mode::Claim`], claimed in the store now; in [`Mode::Peek`], those above the
/// claimed UID, without claiming them. `claimed` is the claimed UID if the caller has just
/// read it (it is read otherwise).
pub async fn take(
    store: &Store,
    account: AccountId,
    folder: MailboxId,
    mode: Mode,
    seen: &[u32],
    claimed: Option<u32>,
) -> marque_store::Result<Vec<u32>> {
    let Some(&last) = seen.last() else {
        return Ok(Vec::new());
    };
    if mode == Mode::Off {
        return Ok(Vec::new());
    }
    let claimed = match claimed {
        Some(c) => c,
        None => {
            store
                .read(move |st| mail::recent_claimed(st, account, folder))
                .await?
        }
    };
    // A claim is written only when something shown is not claimed yet; the transaction
    // reads the claimed UID again, so of two sessions claiming at once only one gets each
    // message.
    let before = if mode == Mode::Claim && claimed < last {
        store
            .transact(move |txn| mail::claim_recent(txn, account, folder, last))
            .await?
    } else {
        claimed
    };
    Ok(seen.iter().copied().filter(|&u| u > before).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_become_uid_sets() {
        let mut r = Recent::new(Mode::Claim);
        r.extend([4, 5, 6, 9]);
        assert!(r.contains(5) && !r.contains(7));
        assert_eq!(r.count(&[1, 4, 5, 9]), 3);
        assert_eq!(r.line(&[4, 5, 6, 9]).as_deref(), Some("* 4 RECENT"));
        assert_eq!(Recent::new(Mode::Off).line(&[1]), None);
        let Key::Uid(set) = r.resolve(Key::Recent) else {
            panic!("a UID set")
        };
        let hits: Vec<u32> = (1..=10).filter(|&u| set.contains(u, 10)).collect();
        assert_eq!(hits, vec![4, 5, 6, 9]);
        assert!(matches!(r.resolve(Key::Old), Key::Not(_)));
        let nested = Key::Or(Box::new(Key::New), Box::new(Key::All));
        assert!(uses_recent(&nested));
        assert!(!uses_recent(&r.resolve(nested)));
        // Nothing recent: RECENT matches nothing.
        let Key::Uid(empty) = Recent::new(Mode::Peek).resolve(Key::Recent) else {
            panic!("a UID set")
        };
        assert!(!empty.contains(1, 1));
    }
}

//! The selected mailbox as one session sees it: the UIDs behind its message sequence numbers,
//! and the untagged updates (EXISTS, EXPUNGE, FETCH FLAGS) that bring it up to date with
//! changes made by other sessions and by delivery, at the moments RFC 3501 §7 and §5.5 allow.

use std::sync::Arc;

use marque_store::mail::{self, ChangeKind, MessageRecord};
use marque_store::{EventKind, MailboxId};

use super::parse::seq::{SeqSet, compact};
use super::state::User;

/// A selected mailbox.
#[derive(Debug)]
pub struct View {
    pub id: MailboxId,
    pub name: String,
    pub read_only: bool,
    pub uidvalidity: u32,
    /// UIDs in message-number order: message `n` is `uids[n - 1]`. Shared with the other
    /// sessions on the folder until this one changes it ([`super::folder_uids`]).
    pub uids: Arc<Vec<u32>>,
    /// The highest modseq whose flag changes this session has reported.
    pub modseq: u64,
    /// The modseq up to which appends and expunges are reflected in `uids`: an update reads
    /// the change log from there instead of every UID of the folder.
    pub synced: u64,
    /// RFC 5182: the UIDs the last `SEARCH RETURN (SAVE)` found, ascending; `$` names them.
    /// Empty after SELECT; expunged messages drop out when `$` is resolved.
    pub saved: Vec<u32>,
    /// The keywords announced in FLAGS (RFC 3501 §7.2.6).
    pub keywords: Vec<String>,
    /// The messages recent in this session (IMAP4rev1, RFC 3501 §2.3.2).
    pub recent: super::recent::Recent,
}

/// Most change-log entries read in one update; past that, flags are re-read on demand.
const MAX_CHANGES: usize = 10_000;

impl View {
    /// The message sequence number of `uid`.
    pub fn msn(&self, uid: u32) -> Option<u32> {
        self.uids
            .binary_search(&uid)
            .ok()
            .and_then(|i| u32::try_from(i + 1).ok())
    }

    /// The (message number, UID) pairs a set names, by UID or by number, ascending.
    pub fn resolve(&self, set: &SeqSet, by_uid: bool) -> Vec<(u32, u32)> {
        if *set == SeqSet::Saved {
            // RFC 5182 §2.2: `$` means the same messages with FETCH and UID FETCH alike.
            return self
                .saved
                .iter()
                .filter_map(|&uid| Some((self.msn(uid)?, uid)))
                .collect();
        }
        if by_uid {
            let star = self.uids.last().copied().unwrap_or(0);
            set.select(&self.uids, star)
                .into_iter()
                .filter_map(|uid| Some((self.msn(uid)?, uid)))
                .collect()
        } else {
            let n = u32::try_from(self.uids.len()).unwrap_or(u32::MAX);
            (1..=n)
                .filter(|&i| set.contains(i, n))
                .filter_map(|i| Some((i, *self.uids.get(i as usize - 1)?)))
                .collect()
        }
    }

    /// True if a message number set names a message that does not exist (RFC 3501 §9: BAD).
    /// `$` never is: an empty or partly expunged saved result is not an error (RFC 5182 §2.1).
    pub fn out_of_range(&self, set: &SeqSet) -> bool {
        let SeqSet::Ranges(ranges) = set else {
            return false;
        };
        let n = u32::try_from(self.uids.len()).unwrap_or(u32::MAX);
        ranges.iter().any(|&(a, b)| {
            [a, b]
                .iter()
                .any(|x| matches!(x, super::parse::seq::SeqNum::Num(v) if *v > n))
        }) || (n == 0 && !ranges.is_empty())
    }

    /// True if `uid` is in the saved search result.
    pub fn is_saved(&self, uid: u32) -> bool {
        self.saved.binary_search(&uid).is_ok()
    }
}

/// UIDs of `folder` expunged after `since` (from the change log), ascending.
pub fn vanished_since(
    s: &marque_store::Store,
    account: marque_store::AccountId,
    folder: MailboxId,
    since: u64,
) -> marque_store::Result<Vec<u32>> {
    let mut v: Vec<u32> = mail::changes_since(s, account, folder, since, 1_000_000)?
        .into_iter()
        .filter(|c| c.kind == ChangeKind::Expunged)
        .map(|c| c.uid)
        .collect();
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// Drains the user's event queue; true if something touched `mailbox` (or events were lost).
pub fn pending(user: &mut User, mailbox: MailboxId) -> bool {
    let Some(rx) = user.events.as_mut() else {
        return false;
    };
    let mut touched = false;
    loop {
        match rx.try_recv() {
            Ok(e) => touched |= e.mailbox == mailbox && e.kind != EventKind::MailboxesChanged,
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => touched = true,
            Err(_) => return touched,
        }
    }
}

/// Brings `view` up to date and writes the untagged updates into `out`. Expunges are only
/// announced when `allow_expunge` (not during FETCH, STORE or SEARCH by number, RFC 3501
/// §7.4.1); until then the expunged messages keep their numbers.
pub async fn sync(
    store: &marque_store::Store,
    out: &mut Vec<u8>,
    user: &User,
    view: &mut View,
    allow_expunge: bool,
    condstore: bool,
    qresync: bool,
) -> marque_store::Result<()> {
    let account = user.account;
    let id = view.id;
    let flags_since = view.modseq;
    let from = view.synced.min(view.modseq);
    let (record, log, all_uids, changed, keywords) = store
        .read(move |s| {
            let record = mail::mailbox(s, account, id)?;
            let keywords = mail::keywords(s, account, id)?.unwrap_or_default();
            let log = mail::changes_since(s, account, id, from, MAX_CHANGES)?;
            // A log longer than one read: fall back to the folder's UIDs.
            let all_uids = if log.len() >= MAX_CHANGES {
                Some(mail::uids(s, account, id)?)
            } else {
                None
            };
            let mut changed: Vec<(u32, MessageRecord)> = Vec::new();
            for c in &log {
                if c.kind == ChangeKind::FlagsChanged
                    && c.modseq > flags_since
                    && !changed.iter().any(|(u, _)| *u == c.uid)
                    && let Some(r) = mail::message(s, account, id, c.uid)?
                {
                    changed.push((c.uid, r));
                }
            }
            Ok((record, log, all_uids, changed, keywords))
        })
        .await?;
    super::keywords::announce_new(out, &mut view.keywords, &keywords, view.read_only);
    let last = view.uids.last().copied().unwrap_or(0);
    // What left the folder and what arrived since `view.synced`, and where the log was read to.
    let (gone, mut arrived, read_to): (Vec<u32>, Vec<u32>, u64) = match all_uids {
        Some(uids) => (
            view.uids
                .iter()
                .copied()
                .filter(|u| uids.binary_search(u).is_err())
                .collect(),
            uids.into_iter().filter(|&u| u > last).collect(),
            record.highest_modseq,
        ),
        None => {
            let since = view.synced;
            let mut expunged: Vec<u32> = log
                .iter()
                .filter(|c| c.modseq > since && c.kind == ChangeKind::Expunged)
                .map(|c| c.uid)
                .collect();
            expunged.sort_unstable();
            let arrived = log
                .iter()
                .filter(|c| c.modseq > since && c.kind == ChangeKind::Appended && c.uid > last)
                .map(|c| c.uid)
                .filter(|u| expunged.binary_search(u).is_err())
                .collect();
            let gone = expunged
                .into_iter()
                .filter(|&u| view.msn(u).is_some())
                .collect();
            let read_to = log.last().map_or(view.synced, |c| c.modseq);
            (gone, arrived, read_to)
        }
    };
    arrived.sort_unstable();
    arrived.dedup();
    // Expunges held back stay in the log after `synced`, to be announced later.
    if allow_expunge || gone.is_empty() {
        view.synced = view.synced.max(read_to);
    }
    if allow_expunge && !gone.is_empty() {
        if qresync {
            // RFC 7162 §3.2.10: with QRESYNC, expunged UIDs are announced as VANISHED.
            Arc::make_mut(&mut view.uids).retain(|u| gone.binary_search(u).is_err());
            out.extend_from_slice(format!("* VANISHED {}\r\n", compact(&gone)).as_bytes());
        } else {
            // RFC 3501 §7.4.1: each EXPUNGE renumbers the messages after it; going from the
            // end keeps every number right.
            let uids = Arc::make_mut(&mut view.uids);
            for i in (0..uids.len()).rev() {
                if gone.binary_search(&uids[i]).is_ok() {
                    out.extend_from_slice(format!("* {} EXPUNGE\r\n", i + 1).as_bytes());
                    uids.remove(i);
                }
            }
        }
    }
    if !arrived.is_empty() {
        let recent =
            super::recent::take(store, account, id, view.recent.mode, &arrived, None).await?;
        view.recent.extend(recent);
        Arc::make_mut(&mut view.uids).extend(arrived);
        out.extend_from_slice(format!("* {} EXISTS\r\n", view.uids.len()).as_bytes());
        if let Some(l) = view.recent.line(&view.uids) {
            out.extend_from_slice(format!("{l}\r\n").as_bytes());
        }
    }
    for (uid, r) in changed {
        if r.modseq <= view.modseq {
            continue;
        }
        if let Some(msn) = view.msn(uid) {
            let modseq = if condstore {
                format!(" MODSEQ ({})", r.modseq)
            } else {
                String::new()
            };
            out.extend_from_slice(
                format!(
                    "* {msn} FETCH (UID {uid} FLAGS {}{modseq})\r\n",
                    super::recent::flags(&r, view.recent.contains(uid))
                )
                .as_bytes(),
            );
        }
    }
    view.modseq = view.modseq.max(record.highest_modseq);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::parse::Parser;

    fn view(uids: &[u32]) -> View {
        View {
            id: MailboxId(1),
            name: "INBOX".into(),
            read_only: false,
            uidvalidity: 1,
            uids: Arc::new(uids.to_vec()),
            modseq: 1,
            synced: 1,
            saved: vec![7, 8, 20],
            keywords: Vec::new(),
            recent: crate::imap::recent::Recent::new(crate::imap::recent::Mode::Off),
        }
    }

    fn set(s: &str) -> SeqSet {
        SeqSet::parse(&mut Parser::new(s.as_bytes())).unwrap()
    }

    #[test]
    fn numbers_and_uids() {
        let v = view(&[3, 7, 9, 20]);
        assert_eq!(v.msn(9), Some(3));
        assert_eq!(v.msn(8), None);
        assert_eq!(v.resolve(&set("2:*"), false), vec![(2, 7), (3, 9), (4, 20)]);
        assert_eq!(v.resolve(&set("8:10"), true), vec![(3, 9)]);
        // `*` is the largest UID even when the range starts above it.
        assert_eq!(v.resolve(&set("100:*"), true), vec![(4, 20)]);
        assert!(v.out_of_range(&set("5")));
        assert!(!v.out_of_range(&set("1:4")));
        assert!(view(&[]).out_of_range(&set("1:*")));
        // `$` keeps only the saved messages that still exist (UID 8 is gone).
        assert_eq!(v.resolve(&set("$"), false), vec![(2, 7), (4, 20)]);
        assert_eq!(v.resolve(&set("$"), true), vec![(2, 7), (4, 20)]);
        assert!(!view(&[]).out_of_range(&set("$")));
    }
}

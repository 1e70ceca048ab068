//! STORE and UID STORE (RFC 3501 §6.4.6), with UNCHANGEDSINCE and the MODIFIED response code
//! (RFC 7162 §3.1.3).

use std::io;

use marque_store::mail::{self, FlagChange, FlagOp};

use super::append::split_flags;
use crate::imap::parse::command::StoreMode;
use crate::imap::parse::seq::{SeqSet, compact};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::{keywords, recent};

/// Applies STORE.
#[tracing::instrument(skip(s, flags))]
pub async fn run(
    s: &mut Session,
    by_uid: bool,
    set: &SeqSet,
    mode: StoreMode,
    silent: bool,
    flags: &[String],
    unchanged_since: Option<u64>,
) -> io::Result<Outcome> {
    if unchanged_since.is_some() {
        s.condstore = true;
    }
    let condstore = s.condstore;
    let State::Selected { user, view } = &mut s.state else {
        return Err(io::Error::other("STORE outside the selected state"));
    };
    if view.read_only {
        return Ok(Outcome::No("[READ-ONLY] mailbox is read-only".into()));
    }
    if !by_uid && view.out_of_range(set) {
        return Ok(Outcome::Bad("no such message".into()));
    }
    let (f, keywords) = match split_flags(flags) {
        Ok(x) => x,
        Err(e) => return Ok(Outcome::Bad(e)),
    };
    let given = keywords.clone();
    let targets = view.resolve(set, by_uid);
    let uids: Vec<u32> = targets.iter().map(|(_, u)| *u).collect();
    let change = FlagChange {
        op: match mode {
            StoreMode::Add => FlagOp::Add,
            StoreMode::Remove => FlagOp::Remove,
            StoreMode::Replace => FlagOp::Replace,
        },
        flags: f,
        keywords,
        unchanged_since,
    };
    let (account, id) = (user.account, view.id);
    let r = s
        .ctx
        .core
        .store()
        .transact(move |txn| mail::store_flags(txn, account, id, &uids, &change))
        .await;
    let outcome = match r {
        Ok(o) => o,
        Err(e) => return Ok(super::store_no(&e)),
    };
    if mode != StoreMode::Remove && !outcome.changed.is_empty() {
        // RFC 3501 §7.2.6: a keyword new to the session is announced before the FETCH
        // responses that show it.
        keywords::announce_new(&mut s.io.out, &mut view.keywords, &given, view.read_only);
    }
    if !outcome.changed.is_empty() && outcome.modseq == view.modseq + 1 {
        // Our own change: no need to announce it again with the next update.
        view.modseq = outcome.modseq;
    }
    // RFC 3501 §6.4.6: the new flags, unless .SILENT; RFC 7162 §3.1.3: with UNCHANGEDSINCE the
    // changed messages are always reported (with their MODSEQ).
    for (uid, rec) in &outcome.changed {
        if silent && unchanged_since.is_none() {
            continue;
        }
        let Some(msn) = view.msn(*uid) else { continue };
        let mut line = format!("* {msn} FETCH (");
        if by_uid {
            line.push_str(&format!("UID {uid} "));
        }
        line.push_str(&format!(
            "FLAGS {}",
            recent::flags(rec, view.recent.contains(*uid))
        ));
        if condstore {
            line.push_str(&format!(" MODSEQ ({})", rec.modseq));
        }
        line.push(')');
        s.io.line(&line);
    }
    if !outcome.modified.is_empty() {
        let mut modified: Vec<u32> = if by_uid {
            outcome.modified.clone()
        } else {
            outcome
                .modified
                .iter()
                .filter_map(|u| view.msn(*u))
                .collect()
        };
        modified.sort_unstable();
        return Ok(Outcome::Ok(format!(
            "[MODIFIED {}] conditional STORE failed for some messages",
            compact(&modified)
        )));
    }
    Ok(Outcome::Ok("STORE completed".into()))
}

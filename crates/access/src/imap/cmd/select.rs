//! SELECT and EXAMINE (RFC 3501 §6.3.1-2, RFC 7162 §3.1.8 for CONDSTORE).

use std::io;

use marque_store::mail::{self, Flags, MessageRecord};
use marque_store::{AccountId, MailboxId};

use super::{account, store_no};
use crate::imap::parse::command::Qresync;
use crate::imap::parse::seq::compact;
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::view::{self, View};
use crate::imap::{keywords, recent};

/// Records read per step while looking for the first unseen message.
const UNSEEN_BATCH: usize = 64;

/// The message number of the first message without `\Seen`, reading records in small batches
/// from the start of the folder until one is found.
fn first_unseen(
    st: &marque_store::Store,
    account: AccountId,
    id: MailboxId,
    uids: &[u32],
) -> marque_store::Result<Option<usize>> {
    let mut from = 1;
    loop {
        let batch = mail::messages(st, account, id, from, UNSEEN_BATCH)?;
        if let Some((uid, _)) = batch.iter().find(|(_, r)| !r.flags.contains(Flags::SEEN)) {
            return Ok(uids.binary_search(uid).ok().map(|i| i + 1));
        }
        match batch.last() {
            Some((last, _)) if batch.len() == UNSEEN_BATCH && *last < u32::MAX => from = last + 1,
            _ => return Ok(None),
        }
    }
}

/// Applies SELECT (`read_only` false) or EXAMINE.
#[tracing::instrument(skip(s))]
pub async fn run(
    s: &mut Session,
    name: &str,
    read_only: bool,
    condstore: bool,
    qresync: Option<Qresync>,
) -> io::Result<Outcome> {
    let account = account(s)?;
    if qresync.is_some() && !s.qresync {
        // RFC 7162 §3.2.5: the parameter needs ENABLE QRESYNC first.
        return Ok(Outcome::Bad("enable QRESYNC first".into()));
    }
    // RFC 3501 §6.3.1: a SELECT first deselects, even if it then fails; RFC 9051 §7.1 says so
    // with CLOSED.
    if matches!(s.state, State::Selected { .. }) {
        s.io.line("* OK [CLOSED] previous mailbox closed");
    }
    s.state.deselect();
    if condstore {
        s.condstore = true;
    }
    let rev2 = s.rev2;
    let name_owned = name.to_string();
    let qr = qresync.clone();
    let ctx = s.ctx.clone();
    let found = s
        .ctx
        .core
        .store()
        .read(move |st| {
            let Some(m) = mail::mailbox_by_name(st, account, &name_owned)? else {
                return Ok(None);
            };
            // EXISTS, UIDNEXT and HIGHESTMODSEQ come from the folder's record, kept up to date
            // in the transactions that change the folder; the UIDs (for message numbers) from
            // the list kept for the folder, brought up to date from the change log when it is
            // older. Records are decoded only for what needs them: the first unseen message
            // (IMAP4rev1, and only when the folder counts one) and the flags a QRESYNC client
            // missed.
            let uids = ctx.folder_uids.load(st, account, &m)?.uids;
            let first_unseen = if rev2 || m.unseen == 0 {
                None
            } else {
                first_unseen(st, account, m.id, &uids)?
            };
            let changed: Vec<(usize, u32, MessageRecord)> = match &qr {
                Some(q) if q.uidvalidity == m.uidvalidity => {
                    mail::messages(st, account, m.id, 1, usize::MAX)?
                        .into_iter()
                        .filter(|(_, r)| r.modseq > q.modseq)
                        .filter_map(|(u, r)| Some((uids.binary_search(&u).ok()? + 1, u, r)))
                        .collect()
                }
                _ => Vec::new(),
            };
            // RFC 7162 §3.2.5.1: what the client missed, when its UIDVALIDITY still holds.
            let vanished = match &qr {
                Some(q) if q.uidvalidity == m.uidvalidity => {
                    let max = m.uidnext.saturating_sub(1);
                    view::vanished_since(st, account, m.id, q.modseq)?
                        .into_iter()
                        .filter(|u| q.known.as_ref().is_none_or(|k| k.contains(*u, max)))
                        .collect()
                }
                _ => Vec::new(),
            };
            let keywords = mail::keywords(st, account, m.id)?;
            let claimed = if rev2 {
                0
            } else {
                mail::recent_claimed(st, account, m.id)?
            };
            Ok(Some((
                m,
                uids,
                first_unseen,
                changed,
                vanished,
                (keywords, claimed),
            )))
        })
        .await;
    let (m, uids, first_unseen, changed, vanished, (keywords, claimed)) = match found {
        Ok(Some(x)) => x,
        Ok(None) => return Ok(Outcome::No("[NONEXISTENT] no such mailbox".into())),
        Err(e) => return Ok(store_no(&e)),
    };
    let store = s.ctx.core.store().clone();
    let folder = m.id;
    // RFC 3501 §7.2.6: every keyword in use in the mailbox. A folder whose list was never
    // written gets it from its messages, once.
    let keywords = match keywords {
        Some(k) => k,
        None => match store
            .transact(move |txn| mail::init_keywords(txn, account, folder))
            .await
        {
            Ok(k) => k,
            Err(e) => return Ok(store_no(&e)),
        },
    };
    // RFC 3501 §2.3.2 and §6.3.2: SELECT claims the recent messages, EXAMINE only looks.
    let mode = if rev2 {
        recent::Mode::Off
    } else if read_only {
        recent::Mode::Peek
    } else {
        recent::Mode::Claim
    };
    let mut recent = recent::Recent::new(mode);
    match recent::take(&store, account, folder, mode, &uids, Some(claimed)).await {
        Ok(r) => recent.extend(r),
        Err(e) => return Ok(store_no(&e)),
    }
    let io = &mut s.io;
    keywords::announce(&mut io.out, &keywords, read_only);
    io.line(&format!("* {} EXISTS", uids.len()));
    if rev2 {
        // RFC 9051 §6.3.2: the mailbox's name as the server spells it.
        let mut l = b"* LIST () \"/\" ".to_vec();
        crate::imap::render::mailbox(&mut l, &m.name, true);
        l.extend_from_slice(b"\r\n");
        io.out.extend_from_slice(&l);
    } else {
        if let Some(l) = recent.line(&uids) {
            io.line(&l);
        }
        if let Some(n) = first_unseen {
            // RFC 3501 §6.3.1: the first unseen message (IMAP4rev1 only).
            io.line(&format!("* OK [UNSEEN {n}] first unseen"));
        }
    }
    io.line(&format!("* OK [UIDVALIDITY {}] UIDs valid", m.uidvalidity));
    io.line(&format!("* OK [UIDNEXT {}] predicted next UID", m.uidnext));
    io.line(&format!(
        "* OK [HIGHESTMODSEQ {}] highest",
        m.highest_modseq
    ));
    if qresync
        .as_ref()
        .is_some_and(|q| q.uidvalidity == m.uidvalidity)
    {
        if !vanished.is_empty() {
            io.line(&format!("* VANISHED (EARLIER) {}", compact(&vanished)));
        }
        for (msn, uid, r) in &changed {
            io.line(&format!(
                "* {msn} FETCH (UID {uid} FLAGS {} MODSEQ ({}))",
                recent::flags(r, recent.contains(*uid)),
                r.modseq
            ));
        }
    }
    let State::Authenticated { user } = std::mem::replace(&mut s.state, State::Logout) else {
        return Err(io::Error::other("SELECT outside the authenticated state"));
    };
    let mut user = user;
    // Events from before this point are reflected in what was just read.
    super::super::view::pending(&mut user, m.id);
    s.state = State::Selected {
        user,
        view: View {
            id: m.id,
            name: m.name,
            read_only,
            uidvalidity: m.uidvalidity,
            uids,
            modseq: m.highest_modseq,
            synced: m.highest_modseq,
            // RFC 5182 §2.1: SELECT and EXAMINE start with an empty saved result.
            saved: Vec::new(),
            keywords,
            recent,
        },
    };
    Ok(Outcome::Ok(if read_only {
        "[READ-ONLY] EXAMINE completed".into()
    } else {
        "[READ-WRITE] SELECT completed".into()
    }))
}

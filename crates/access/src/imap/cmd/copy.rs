//! COPY and UID COPY (RFC 3501 §6.4.7) and MOVE and UID MOVE (RFC 6851), with COPYUID (RFC
//! 4315 §3). A copy is charged to the quotas again; a move is not. A move into the folder the
//! messages are in is allowed (RFC 6851 §3.3 leaves it to the server): like a copy into it
//! followed by the expunge of the originals, it gives them new UIDs.

use std::io;

use marque_core::CoreError;
use marque_store::mail;

use super::core_no;
use crate::imap::parse::seq::{SeqSet, compact};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::view;

/// The destination's UIDVALIDITY and the (source UID, new UID) pairs.
type Placed = (u32, Vec<(u32, u32)>);

/// Applies COPY (`remove` false) or MOVE.
#[tracing::instrument(skip(s))]
pub async fn run(
    s: &mut Session,
    by_uid: bool,
    set: &SeqSet,
    dest: &str,
    remove: bool,
) -> io::Result<Outcome> {
    let condstore = s.condstore;
    let qresync = s.qresync;
    let State::Selected { user, view } = &mut s.state else {
        return Err(io::Error::other("COPY outside the selected state"));
    };
    if remove && view.read_only {
        return Ok(Outcome::No("[READ-ONLY] mailbox is read-only".into()));
    }
    if !by_uid && view.out_of_range(set) {
        return Ok(Outcome::Bad("no such message".into()));
    }
    let uids: Vec<u32> = view
        .resolve(set, by_uid)
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    if uids.is_empty() {
        return Ok(Outcome::Ok("nothing to copy".into()));
    }
    let (account, from) = (user.account, view.id);
    let dest = dest.to_string();
    let r: Result<Option<Placed>, CoreError> = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            let Some(to) = mail::mailbox_by_name(txn, account, &dest)? else {
                return Ok(None);
            };
            let pairs = if remove && to.id == from {
                // Copied into the same folder under new UIDs, then the originals removed; the
                // bodies and the usage are what they were.
                let pairs = mail::copy(txn, account, from, &uids, from, &[])?;
                let moved: Vec<u32> = pairs.iter().map(|(u, _)| *u).collect();
                mail::remove_messages(txn, account, from, &moved, &[])?;
                pairs
            } else if remove {
                mail::move_messages(txn, account, from, &uids, to.id)?
            } else {
                let charges = marque_core::quota::usage_charges_txn(txn, account)?;
                mail::copy(txn, account, from, &uids, to.id, &charges)?
            };
            Ok(Some((to.uidvalidity, pairs)))
        })
        .await;
    let (uidvalidity, pairs) = match r {
        Ok(Some(x)) => x,
        Ok(None) => return Ok(Outcome::No("[TRYCREATE] no such mailbox".into())),
        Err(e) => return Ok(core_no(&e)),
    };
    let src: Vec<u32> = pairs.iter().map(|(a, _)| *a).collect();
    let dst: Vec<u32> = pairs.iter().map(|(_, b)| *b).collect();
    let code = if pairs.is_empty() {
        String::new()
    } else {
        format!(
            "[COPYUID {uidvalidity} {} {}] ",
            compact(&src),
            compact(&dst)
        )
    };
    if !remove {
        return Ok(Outcome::Ok(format!("{code}COPY completed")));
    }
    // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGE responses (with a text
    // after the code, as resp-text requires).
    if !code.is_empty() {
        s.io.line(&format!("* OK {code}moved"));
    }
    if let Err(e) = view::sync(
        s.ctx.core.store(),
        &mut s.io.out,
        user,
        view,
        true,
        condstore,
        qresync,
    )
    .await
    {
        return Ok(super::store_no(&e));
    }
    Ok(Outcome::Ok("MOVE completed".into()))
}

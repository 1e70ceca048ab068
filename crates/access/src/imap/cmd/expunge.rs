//! EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): the messages marked `\Deleted`
//! go; their usage is released; the EXPUNGE responses follow.

use std::io;

use marque_store::mail;

use super::core_no;
use crate::imap::parse::seq::SeqSet;
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::view;

/// Applies EXPUNGE (all `\Deleted` messages) or UID EXPUNGE (those among `uids`).
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, uids: Option<&SeqSet>) -> io::Result<Outcome> {
    let condstore = s.condstore;
    let qresync = s.qresync;
    let State::Selected { user, view } = &mut s.state else {
        return Err(io::Error::other("EXPUNGE outside the selected state"));
    };
    if view.read_only {
        return Ok(Outcome::No("[READ-ONLY] mailbox is read-only".into()));
    }
    let only: Option<Vec<u32>> = uids.map(|set| {
        view.resolve(set, true)
            .into_iter()
            .map(|(_, u)| u)
            .collect()
    });
    let (account, id) = (user.account, view.id);
    let r: Result<_, marque_core::CoreError> = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            let charges = marque_core::quota::usage_charges_txn(txn, account)?;
            Ok(mail::expunge(txn, account, id, only.as_deref(), &charges)?)
        })
        .await;
    if let Err(e) = r {
        return Ok(core_no(&e));
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
    Ok(Outcome::Ok("EXPUNGE completed".into()))
}

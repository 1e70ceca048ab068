//! CLOSE (RFC 3501 §6.4.2: expunges silently when read-write) and UNSELECT (RFC 3691: does
//! not).

use std::io;

use marque_store::mail;

use super::core_no;
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

/// Applies CLOSE (`expunge`) or UNSELECT.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, expunge: bool) -> io::Result<Outcome> {
    if let State::Selected { user, view } = &s.state
        && expunge
        && !view.read_only
    {
        let (account, id) = (user.account, view.id);
        let r: Result<_, marque_core::CoreError> = s
            .ctx
            .core
            .store()
            .transact(move |txn| {
                let charges = marque_core::quota::usage_charges_txn(txn, account)?;
                Ok(mail::expunge(txn, account, id, None, &charges)?)
            })
            .await;
        if let Err(e) = r {
            return Ok(core_no(&e));
        }
    }
    s.state.deselect();
    Ok(Outcome::Ok(if expunge {
        "CLOSE completed".into()
    } else {
        "UNSELECT completed".into()
    }))
}

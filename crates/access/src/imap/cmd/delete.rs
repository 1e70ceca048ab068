//! DELETE (RFC 3501 §6.3.4): the folder and its messages go, their usage is released; the
//! folders below it stay.

use std::io;

use marque_store::mail;

use super::{account, core_no};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

/// Applies DELETE.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, name: &str) -> io::Result<Outcome> {
    let account = account(s)?;
    if let State::Selected { view, .. } = &s.state
        && mail::normalize_name(name).as_deref() == Some(view.name.as_str())
    {
        return Ok(Outcome::No(
            "[INUSE] close the mailbox before deleting it".into(),
        ));
    }
    let name = name.to_string();
    let r: Result<(), marque_core::CoreError> = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            let charges = marque_core::quota::usage_charges_txn(txn, account)?;
            mail::delete_mailbox(txn, account, &name, &charges)?;
            Ok(())
        })
        .await;
    Ok(match r {
        Ok(()) => Outcome::Ok("DELETE completed".into()),
        Err(e) => core_no(&e),
    })
}

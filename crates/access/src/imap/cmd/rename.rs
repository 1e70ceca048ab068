//! RENAME (RFC 3501 §6.3.5): the folder and every folder below it.

use std::io;

use marque_store::mail;

use super::{account, store_no};
use crate::imap::session::{Outcome, Session};

/// Applies RENAME.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, from: &str, to: &str) -> io::Result<Outcome> {
    let account = account(s)?;
    if mail::normalize_name(from).as_deref() == Some("INBOX") {
        // RFC 3501 §6.3.5 gives renaming INBOX a special meaning (move its messages); not
        // offered.
        return Ok(Outcome::No("[CANNOT] INBOX cannot be renamed here".into()));
    }
    let (from, to) = (from.to_string(), to.to_string());
    let r = s
        .ctx
        .core
        .store()
        .transact(move |txn| mail::rename_mailbox(txn, account, &from, &to))
        .await;
    Ok(match r {
        Ok(()) => Outcome::Ok("RENAME completed".into()),
        Err(e) => store_no(&e),
    })
}

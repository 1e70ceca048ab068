//! SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6-7).

use std::io;

use marque_store::mail;

use super::{account, store_no};
use crate::imap::session::{Outcome, Session};

/// Applies SUBSCRIBE (`on`) or UNSUBSCRIBE.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, name: &str, on: bool) -> io::Result<Outcome> {
    let account = account(s)?;
    let name = name.to_string();
    let r = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            if on {
                mail::subscribe(txn, account, &name)
            } else {
                mail::unsubscribe(txn, account, &name)
            }
        })
        .await;
    Ok(match r {
        Ok(()) if on => Outcome::Ok("SUBSCRIBE completed".into()),
        Ok(()) => Outcome::Ok("UNSUBSCRIBE completed".into()),
        Err(e) => store_no(&e),
    })
}

//! CREATE (RFC 3501 §6.3.3), with a special use (RFC 6154 §3, CREATE-SPECIAL-USE).

use std::io;

use marque_store::mail::{self, SpecialUse};

use super::{account, store_no};
use crate::imap::session::{Outcome, Session};

/// Applies CREATE.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, name: &str, special_use: Option<&str>) -> io::Result<Outcome> {
    let account = account(s)?;
    let special = match special_use {
        Some(a) => match SpecialUse::from_attribute(a) {
            Some(u) => Some(u),
            None => return Ok(Outcome::No("[USEATTR] unknown special use".into())),
        },
        None => None,
    };
    // RFC 3501 §6.3.3: a trailing delimiter only says the name will have children.
    let name = name.strip_suffix('/').unwrap_or(name).to_string();
    if name.eq_ignore_ascii_case("INBOX") {
        return Ok(Outcome::No("[ALREADYEXISTS] INBOX always exists".into()));
    }
    let r = s
        .ctx
        .core
        .store()
        .transact(move |txn| mail::create_mailbox(txn, account, &name, special))
        .await;
    Ok(match r {
        Ok(_) => Outcome::Ok("CREATE completed".into()),
        Err(e) => store_no(&e),
    })
}

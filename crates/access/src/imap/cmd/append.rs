//! APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3): the message is charged to every
//! quota it counts against (`NO [OVERQUOTA]` when one is full, RFC 5530) and is durable before
//! the `OK` (the store's transaction resolves after its fsync).

use std::io;

use marque_core::CoreError;
use marque_store::mail::{self, AppendOptions, Flags, PreparedMessage};

use super::{account, core_no};
use crate::imap::session::{Outcome, Session};

/// Splits a flag list into system flags and keywords; `\Recent` and unknown system flags are
/// refused.
pub fn split_flags(flags: &[String]) -> Result<(Flags, Vec<String>), String> {
    let mut f = Flags::empty();
    let mut keywords: Vec<String> = Vec::new();
    for name in flags {
        if let Some(x) = Flags::from_name(name) {
            f = f.union(x);
        } else if name.starts_with('\\') {
            return Err(format!("cannot set {name}"));
        } else if !keywords.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            keywords.push(name.clone());
        }
    }
    Ok((f, keywords))
}

/// Applies APPEND.
#[tracing::instrument(skip(s, flags, message), fields(size = message.len()))]
pub async fn run(
    s: &mut Session,
    name: &str,
    flags: &[String],
    date: Option<crate::imap::parse::command::DateTime>,
    message: &[u8],
) -> io::Result<Outcome> {
    let account = account(s)?;
    let (flags, keywords) = match split_flags(flags) {
        Ok(x) => x,
        Err(e) => return Ok(Outcome::Bad(e)),
    };
    if message.is_empty() {
        return Ok(Outcome::No("[CANNOT] empty message".into()));
    }
    let store = s.ctx.core.store().clone();
    let raw = message.to_vec();
    // Hashing, compressing and parsing are CPU work: off the async workers, before the
    // transaction.
    let prepared =
        match tokio::task::spawn_blocking(move || PreparedMessage::new(&store, &raw)).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Ok(super::store_no(&e)),
            Err(e) => return Err(io::Error::other(e)),
        };
    let name = name.to_string();
    let opts = AppendOptions {
        flags,
        keywords,
        internal_date: date.map(|d| d.secs),
        internal_zone: date.map_or(0, |d| d.zone),
    };
    let r: Result<Option<mail::Appended>, CoreError> = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            let Some(m) = mail::mailbox_by_name(txn, account, &name)? else {
                return Ok(None);
            };
            let charges = marque_core::quota::usage_charges_txn(txn, account)?;
            Ok(Some(mail::append(
                txn, account, m.id, &prepared, &opts, &charges,
            )?))
        })
        .await;
    Ok(match r {
        Ok(Some(a)) => Outcome::Ok(format!(
            "[APPENDUID {} {}] APPEND completed",
            a.uidvalidity, a.uid
        )),
        // RFC 3501 §6.3.11: TRYCREATE when the mailbox does not exist.
        Ok(None) => Outcome::No("[TRYCREATE] no such mailbox".into()),
        Err(e) => {
            if matches!(
                e,
                CoreError::LimitExceeded { .. }
                    | CoreError::Store(marque_store::Error::LimitExceeded { .. })
            ) {
                // The refusal is an event for the tenant's webhooks.
                s.ctx.core.report_over_quota(account, "imap").await;
            }
            core_no(&e)
        }
    })
}

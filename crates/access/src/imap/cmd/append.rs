//! APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502) and APPENDUID (RFC 4315 §3): every
//! message of the command is stored in one transaction, so that either all of them are
//! appended or none is; together they are charged to every quota they count against
//! (`NO [OVERQUOTA]` when one would be passed, RFC 5530), and they are durable before the
//! `OK` (the store's transaction resolves after its fsync). A message may be built from parts
//! with CATENATE (RFC 4469, [`super::catenate`]).

use std::io;

use marque_core::CoreError;
use marque_store::mail::{self, AppendOptions, Flags, PreparedMessage};

use super::{account, core_no};
use crate::imap::parse::command::{AppendData, AppendMessage};
use crate::imap::parse::frame::MAX_APPEND;
use crate::imap::parse::seq::compact;
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

/// Applies APPEND to the messages of one command; `buf` is the command, which holds their
/// literals.
#[tracing::instrument(skip_all, fields(messages = messages.len()))]
pub async fn run(
    s: &mut Session,
    name: &str,
    messages: &[AppendMessage],
    buf: &[u8],
) -> io::Result<Outcome> {
    let account = account(s)?;
    let mut contents: Vec<(Vec<u8>, AppendOptions)> = Vec::with_capacity(messages.len());
    for m in messages {
        let (flags, keywords) = match split_flags(&m.flags) {
            Ok(x) => x,
            Err(e) => return Ok(Outcome::Bad(e)),
        };
        let raw = match &m.data {
            AppendData::Literal(range) => buf[range.clone()].to_vec(),
            AppendData::Catenate(parts) => match super::catenate::build(s, parts, buf).await? {
                Ok(raw) => raw,
                Err(no) => return Ok(no),
            },
        };
        if raw.is_empty() {
            // RFC 3502: a zero-length message cancels the whole command.
            return Ok(Outcome::No(
                "[CANNOT] empty message: nothing appended".into(),
            ));
        }
        if raw.len() as u64 > MAX_APPEND {
            // RFC 7889 §3 (a CATENATE result can pass the limit its parts kept to).
            return Ok(Outcome::No(
                "[TOOBIG] message larger than APPENDLIMIT".into(),
            ));
        }
        let opts = AppendOptions {
            flags,
            keywords,
            internal_date: m.date.map(|d| d.secs),
            internal_zone: m.date.map_or(0, |d| d.zone),
        };
        contents.push((raw, opts));
    }
    let store = s.ctx.core.store().clone();
    // Hashing, compressing and parsing are CPU work: off the async workers, before the
    // transaction.
    let prepared = match tokio::task::spawn_blocking(move || {
        contents
            .into_iter()
            .map(|(raw, opts)| PreparedMessage::new(&store, &raw).map(|p| (p, opts)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return Ok(super::store_no(&e)),
        Err(e) => return Err(io::Error::other(e)),
    };
    let name = name.to_string();
    // One transaction for every message (RFC 3502 §3: all or none). Each append charges its
    // size to the counters the next one reads, so the quota check covers their sum.
    let r: Result<Option<(u32, Vec<u32>)>, CoreError> = s
        .ctx
        .core
        .store()
        .transact(move |txn| {
            let Some(m) = mail::mailbox_by_name(txn, account, &name)? else {
                return Ok(None);
            };
            let charges = marque_core::quota::usage_charges_txn(txn, account)?;
            let mut uids = Vec::with_capacity(prepared.len());
            let mut uidvalidity = 0;
            for (msg, opts) in &prepared {
                let a = mail::append(txn, account, m.id, msg, opts, &charges)?;
                uidvalidity = a.uidvalidity;
                uids.push(a.uid);
            }
            Ok(Some((uidvalidity, uids)))
        })
        .await;
    Ok(match r {
        // RFC 4315 §3: the UIDs in the order of the messages, as a uid-set.
        Ok(Some((uidvalidity, uids))) => Outcome::Ok(format!(
            "[APPENDUID {uidvalidity} {}] APPEND completed",
            compact(&uids)
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

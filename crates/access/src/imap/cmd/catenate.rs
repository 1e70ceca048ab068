//! CATENATE (RFC 4469): a message APPENDed as the join of parts, each new text (`TEXT`) or
//! taken from a message already on the server (`URL`, RFC 5092). A URL may name any message
//! of the signed-in user's own mailboxes, by mailbox, UIDVALIDITY and UID, optionally a
//! section (as FETCH's `BODY[section]` would send it) and a `;PARTIAL=` range of that.
//!
//! A URL that does not parse, names another user, a mailbox that does not exist, a
//! UIDVALIDITY that is not the mailbox's, a message or a part that is not there fails the
//! whole APPEND with `NO [BADURL url]` (RFC 4469 §5), and nothing is appended.

use std::io;

use marque_store::mail;

use super::account;
use super::fetch::section::{find, section_data};
use crate::imap::parse::command::CatPart;
use crate::imap::parse::frame::MAX_APPEND;
use crate::imap::parse::url::{self, MessageUrl};
use crate::imap::session::{Outcome, Session};

/// The URL as it may appear in a `BADURL` response code: printable ASCII without `]`, at
/// most 512 characters (it is what the client sent, echoed back).
fn echo(url: &str) -> String {
    url.chars()
        .filter(|c| c.is_ascii_graphic() && *c != ']')
        .take(512)
        .collect()
}

fn bad_url(url: &str, why: &str) -> Outcome {
    Outcome::No(format!("[BADURL {}] {why}", echo(url)))
}

/// Joins `parts` into one message; `buf` is the command, which holds the TEXT literals.
/// Fails with the `NO` the APPEND must answer (`BADURL`, `TOOBIG`).
pub async fn build(
    s: &Session,
    parts: &[CatPart],
    buf: &[u8],
) -> io::Result<Result<Vec<u8>, Outcome>> {
    let mut out = Vec::new();
    for part in parts {
        match part {
            CatPart::Text(range) => out.extend_from_slice(&buf[range.clone()]),
            CatPart::Url(text) => match resolve(s, text).await? {
                Ok(data) => out.extend_from_slice(&data),
                Err(no) => return Ok(Err(no)),
            },
        }
        if out.len() as u64 > MAX_APPEND {
            // RFC 4469 §5: the message being built passes the limit.
            return Ok(Err(Outcome::No(
                "[TOOBIG] the joined message is larger than APPENDLIMIT".into(),
            )));
        }
    }
    Ok(Ok(out))
}

/// The bytes `text` names, or the `BADURL` failure.
async fn resolve(s: &Session, text: &str) -> io::Result<Result<Vec<u8>, Outcome>> {
    let Some(u) = url::parse(text) else {
        return Ok(Err(bad_url(text, "not an IMAP URL to a message")));
    };
    let login = s.state.user().map(|u| u.login.clone()).unwrap_or_default();
    // An absolute URL must name the signed-in user (RFC 5092 §3.2); one without a user is
    // anonymous access, which this server does not give.
    if u.host.is_some()
        && !u
            .user
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&login))
    {
        return Ok(Err(bad_url(text, "the URL names another user")));
    }
    let account = account(s)?;
    let r = s
        .ctx
        .core
        .store()
        .read(move |st| read_part(st, account, &u))
        .await;
    Ok(match r {
        Ok(Ok(data)) => Ok(data),
        Ok(Err(why)) => Err(bad_url(text, why)),
        Err(e) => Err(super::store_no(&e)),
    })
}

/// Reads what `u` names from `account`'s mailboxes; the error says why it cannot.
fn read_part(
    st: &marque_store::Store,
    account: marque_store::AccountId,
    u: &MessageUrl,
) -> marque_store::Result<Result<Vec<u8>, &'static str>> {
    let Some(m) = mail::mailbox_by_name(st, account, &u.mailbox)? else {
        return Ok(Err("no such mailbox"));
    };
    if u.uidvalidity.is_some_and(|v| v != m.uidvalidity) {
        // RFC 5092 §6.1: the UIDs may name other messages now.
        return Ok(Err("UIDVALIDITY does not match"));
    }
    let Some(rec) = mail::message(st, account, m.id, u.uid)? else {
        return Ok(Err("no such message"));
    };
    let Some(body) = mail::message_body(st, &rec.blob)? else {
        return Ok(Err("no such message"));
    };
    let data = match &u.section {
        None => body,
        Some(section) => {
            let meta = mail::shared_meta(st, &rec.blob)?.unwrap_or_default();
            if !section.part.is_empty() && find(&meta.structure, &body, &section.part).is_none() {
                return Ok(Err("no such part"));
            }
            section_data(section, &meta, &body)
        }
    };
    Ok(Ok(match u.partial {
        // RFC 5092 `ipartial`: the octets from `offset`, `length` of them at most.
        Some((offset, length)) => {
            let start = (offset as usize).min(data.len());
            let end = match length {
                Some(l) => start.saturating_add(l as usize).min(data.len()),
                None => data.len(),
            };
            data[start..end].to_vec()
        }
        None => data,
    }))
}

//! STATUS (RFC 3501 §6.3.10; HIGHESTMODSEQ from RFC 7162, SIZE from RFC 8438).

use std::io;

use marque_store::mail::{self, MailboxRecord};

use super::{account, store_no};
use crate::imap::parse::command::StatusItem;
use crate::imap::render;
use crate::imap::session::{Outcome, Session};

/// `(MESSAGES 3 UIDNEXT 4 ...)` for `items`.
pub fn items(m: &MailboxRecord, recent: u32, items: &[StatusItem]) -> String {
    let v: Vec<String> = items
        .iter()
        .map(|i| match i {
            StatusItem::Messages => format!("MESSAGES {}", m.messages),
            // RFC 3501 §6.3.10: what the next session to select the folder will see as
            // recent (see `recent`).
            StatusItem::Recent => format!("RECENT {recent}"),
            StatusItem::UidNext => format!("UIDNEXT {}", m.uidnext),
            StatusItem::UidValidity => format!("UIDVALIDITY {}", m.uidvalidity),
            StatusItem::Unseen => format!("UNSEEN {}", m.unseen),
            StatusItem::HighestModSeq => format!("HIGHESTMODSEQ {}", m.highest_modseq),
            StatusItem::Size => format!("SIZE {}", m.size),
            StatusItem::Deleted => format!("DELETED {}", m.deleted),
        })
        .collect();
    format!("({})", v.join(" "))
}

/// `* STATUS name (...)`.
pub fn line(m: &MailboxRecord, recent: u32, wanted: &[StatusItem], utf8: bool) -> Vec<u8> {
    let mut out = b"* STATUS ".to_vec();
    render::mailbox(&mut out, &m.name, utf8);
    out.push(b' ');
    out.extend_from_slice(items(m, recent, wanted).as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// Applies STATUS.
#[tracing::instrument(skip(s))]
pub async fn run(s: &mut Session, name: &str, wanted: &[StatusItem]) -> io::Result<Outcome> {
    let account = account(s)?;
    if wanted.contains(&StatusItem::HighestModSeq) {
        // RFC 7162 §3.1: STATUS HIGHESTMODSEQ enables CONDSTORE.
        s.condstore = true;
    }
    let name = name.to_string();
    let count_recent = wanted.contains(&StatusItem::Recent);
    let r = s
        .ctx
        .core
        .store()
        .read(move |st| {
            let Some(m) = mail::mailbox_by_name(st, account, &name)? else {
                return Ok(None);
            };
            let recent = if count_recent {
                mail::recent_count(st, account, m.id)?
            } else {
                0
            };
            Ok(Some((m, recent)))
        })
        .await;
    match r {
        Ok(Some((m, recent))) => {
            let l = line(&m, recent, wanted, s.rev2);
            s.io.out.extend_from_slice(&l);
            Ok(Outcome::Ok("STATUS completed".into()))
        }
        Ok(None) => Ok(Outcome::No("[NONEXISTENT] no such mailbox".into())),
        Err(e) => Ok(store_no(&e)),
    }
}

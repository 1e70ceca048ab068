//! SORT (RFC 5256 §3): the messages a search finds, ordered by criteria. Every key comes from
//! the stored metadata; [`items`] also gathers what THREAD needs.

use std::cmp::Ordering;
use std::io;

use marque_store::mail::{self, EnvelopeAddress};

use super::search::matching;
use super::subject::base_subject;
use super::thread::{Msg, first_id, normalise_id};
use crate::imap::parse::search::Key;
use crate::imap::parse::sort::{Criterion, SortKey};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

/// What ordering and threading look at, per message.
#[derive(Debug, Clone, Default)]
pub struct Item {
    arrival: i64,
    size: u64,
    from: String,
    to: String,
    cc: String,
    /// Number, sent date, base subject and references.
    pub thread: Msg,
}

/// RFC 5256 §3: the local part of the first address, compared with `i;ascii-casemap` (ASCII
/// letters upper-cased). Group markers are not addresses and are passed over.
fn first_mailbox(list: &[EnvelopeAddress]) -> String {
    list.iter()
        .find(|a| a.host.is_some())
        .and_then(|a| a.mailbox.as_deref())
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// The messages of the selected mailbox that match `key`, in message-number order.
pub async fn items(s: &Session, by_uid: bool, key: Key) -> Result<Vec<Item>, Outcome> {
    let State::Selected { user, view } = &s.state else {
        return Err(Outcome::Bad("select a mailbox first".into()));
    };
    let (account, id) = (user.account, view.id);
    let store = s.ctx.core.store().clone();
    let hits = matching(
        &store,
        account,
        id,
        view.uids.clone(),
        view.saved.clone(),
        key,
    )
    .await
    .map_err(|e| super::store_no(&e))?;
    store
        .read(move |st| {
            let mut v = Vec::with_capacity(hits.len());
            for (msn, uid, _) in hits {
                let Some(rec) = mail::message(st, account, id, uid)? else {
                    continue;
                };
                let meta = mail::shared_meta(st, &rec.blob)?.unwrap_or_default();
                let e = &meta.envelope;
                // RFC 5256 §2.2: the References, or the first id of In-Reply-To without them.
                let mut refs: Vec<String> = meta
                    .references
                    .iter()
                    .filter_map(|r| normalise_id(r))
                    .collect();
                if refs.is_empty() {
                    refs.extend(e.in_reply_to.as_deref().and_then(first_id));
                }
                v.push(Item {
                    arrival: rec.internal_date,
                    size: rec.size,
                    from: first_mailbox(&e.from),
                    to: first_mailbox(&e.to),
                    cc: first_mailbox(&e.cc),
                    thread: Msg {
                        num: if by_uid { uid } else { msn },
                        msn,
                        // RFC 5256 §2.2: the sent date, or the internal date without one.
                        date: meta.sent_date.unwrap_or(rec.internal_date),
                        subject: base_subject(e.subject.as_deref().unwrap_or("")),
                        id: e.message_id.as_deref().and_then(normalise_id),
                        refs,
                    },
                });
            }
            Ok(v)
        })
        .await
        .map_err(|e| super::store_no(&e))
}

fn compare(a: &Item, b: &Item, criteria: &[Criterion]) -> Ordering {
    for c in criteria {
        let o = match c.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Cc => a.cc.cmp(&b.cc),
            SortKey::Date => a.thread.date.cmp(&b.thread.date),
            SortKey::From => a.from.cmp(&b.from),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Subject => a.thread.subject.text.cmp(&b.thread.subject.text),
            SortKey::To => a.to.cmp(&b.to),
        };
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    // RFC 5256 §3: ties go by message number.
    a.thread.msn.cmp(&b.thread.msn)
}

/// Applies SORT.
#[tracing::instrument(skip(s, key))]
pub async fn sort(
    s: &mut Session,
    by_uid: bool,
    criteria: &[Criterion],
    key: Key,
) -> io::Result<Outcome> {
    let mut v = match items(s, by_uid, key).await {
        Ok(v) => v,
        Err(o) => return Ok(o),
    };
    v.sort_by(|a, b| compare(a, b, criteria));
    let nums: Vec<String> = v.iter().map(|i| i.thread.num.to_string()).collect();
    s.io.line(format!("* SORT {}", nums.join(" ")).trim_end());
    Ok(Outcome::Ok("SORT completed".into()))
}

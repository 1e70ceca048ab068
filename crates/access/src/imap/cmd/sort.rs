//! SORT (RFC 5256 §3): the messages a search finds, ordered by criteria. Every key comes from
//! the stored metadata; [`items`] also gathers what THREAD needs.

use std::cmp::Ordering;
use std::io;

use marque_store::mail::{self, EnvelopeAddress};

use super::search::matching;
use super::subject::{base_subject, decode};
use super::thread::{Msg, first_id, normalise_id};
use crate::imap::parse::search::{Key, Return};
use crate::imap::parse::seq::compact;
use crate::imap::parse::sort::{Criterion, SortKey};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

/// What ordering and threading look at, per message.
#[derive(Debug, Clone, Default)]
pub struct Item {
    uid: u32,
    arrival: i64,
    size: u64,
    from: String,
    to: String,
    cc: String,
    display_from: String,
    display_to: String,
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

/// RFC 5957 §4: the display name of the first address (group markers passed over), its
/// encoded words decoded; when it has none, or only white space, the address itself
/// (`mailbox@host`). Compared, like the other keys, with `i;ascii-casemap`.
fn display(list: &[EnvelopeAddress]) -> String {
    let Some(a) = list.iter().find(|a| a.host.is_some()) else {
        return String::new();
    };
    let name = a
        .name
        .as_deref()
        .map(|n| decode(n).trim().to_string())
        .filter(|n| !n.is_empty());
    let text = name.unwrap_or_else(|| {
        let mailbox = a.mailbox.as_deref().unwrap_or_default();
        match a.host.as_deref() {
            Some(h) if !h.is_empty() => format!("{mailbox}@{h}"),
            _ => mailbox.to_string(),
        }
    });
    text.to_ascii_uppercase()
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
                    uid,
                    arrival: rec.internal_date,
                    size: rec.size,
                    from: first_mailbox(&e.from),
                    to: first_mailbox(&e.to),
                    cc: first_mailbox(&e.cc),
                    display_from: display(&e.from),
                    display_to: display(&e.to),
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
            SortKey::DisplayFrom => a.display_from.cmp(&b.display_from),
            SortKey::DisplayTo => a.display_to.cmp(&b.display_to),
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

/// Applies SORT; with RETURN options (ESORT, RFC 5267 §3) the answer is an ESEARCH response.
#[tracing::instrument(skip(s, key))]
pub async fn sort(
    s: &mut Session,
    by_uid: bool,
    ret: Option<&Return>,
    criteria: &[Criterion],
    key: Key,
    tag: &str,
) -> io::Result<Outcome> {
    let save = ret.is_some_and(|r| r.save);
    let mut v = match items(s, by_uid, key).await {
        Ok(v) => v,
        Err(o) => {
            // RFC 5182 §2.1: a failed command with SAVE leaves `$` empty.
            if let (true, State::Selected { view, .. }) = (save, &mut s.state) {
                view.saved.clear();
            }
            return Ok(o);
        }
    };
    v.sort_by(|a, b| compare(a, b, criteria));
    let nums: Vec<u32> = v.iter().map(|i| i.thread.num).collect();
    let Some(ret) = ret else {
        let text: Vec<String> = nums.iter().map(u32::to_string).collect();
        s.io.line(format!("* SORT {}", text.join(" ")).trim_end());
        return Ok(Outcome::Ok("SORT completed".into()));
    };
    if save && let State::Selected { view, .. } = &mut s.state {
        view.saved = saved(ret, &v);
    }
    if ret.answers() {
        s.io.line(&esort_line(tag, by_uid, ret, &nums));
    }
    Ok(Outcome::Ok("SORT completed".into()))
}

/// RFC 5267 §3: the ESEARCH answer to a SORT whose result, in sort order, is `nums`. MIN and
/// MAX are the first and the last message in that order; ALL lists them in that order, with a
/// range only for a run of consecutive ascending numbers (`4:6` is 4, 5, 6 in that order).
pub fn esort_line(tag: &str, by_uid: bool, ret: &Return, nums: &[u32]) -> String {
    let mut line = format!("* ESEARCH (TAG \"{tag}\")");
    if by_uid {
        line.push_str(" UID");
    }
    if let (Some(first), Some(last)) = (nums.first(), nums.last()) {
        if ret.min {
            line.push_str(&format!(" MIN {first}"));
        }
        if ret.max {
            line.push_str(&format!(" MAX {last}"));
        }
        if ret.all {
            line.push_str(&format!(" ALL {}", compact(nums)));
        }
    }
    if ret.count {
        line.push_str(&format!(" COUNT {}", nums.len()));
    }
    line
}

/// RFC 5182 §2.4 with RFC 5267: what SAVE keeps (as UIDs, in UID order): the messages MIN
/// and MAX name when only those are asked for, else every message found.
fn saved(ret: &Return, sorted: &[Item]) -> Vec<u32> {
    let mut uids: Vec<u32> = if (ret.min || ret.max) && !ret.all && !ret.count {
        let mut v = Vec::new();
        if let (true, Some(f)) = (ret.min, sorted.first()) {
            v.push(f.uid);
        }
        if let (true, Some(l)) = (ret.max, sorted.last()) {
            v.push(l.uid);
        }
        v
    } else {
        sorted.iter().map(|i| i.uid).collect()
    };
    uids.sort_unstable();
    uids.dedup();
    uids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: Option<&str>, mailbox: &str, host: &str) -> EnvelopeAddress {
        EnvelopeAddress {
            name: name.map(str::to_string),
            route: None,
            mailbox: Some(mailbox.into()),
            host: Some(host.into()),
        }
    }

    #[test]
    fn display_names_rfc_5957() {
        // A display name, decoded from RFC 2047 encoded words; else the address.
        assert_eq!(
            display(&[addr(Some("Bob Smith"), "bob", "x.example")]),
            "BOB SMITH"
        );
        assert_eq!(
            display(&[addr(Some("=?utf-8?q?Andr=C3=A9?="), "a", "x.example")]),
            "ANDRé"
        );
        assert_eq!(display(&[addr(None, "zed", "x.example")]), "ZED@X.EXAMPLE");
        assert_eq!(
            display(&[addr(Some("  "), "amy", "x.example")]),
            "AMY@X.EXAMPLE"
        );
        // A group's start marker is not an address: the first member counts.
        let group = EnvelopeAddress {
            name: None,
            route: None,
            mailbox: Some("team".into()),
            host: None,
        };
        assert_eq!(
            display(&[group, addr(Some("Carol"), "c", "x.example")]),
            "CAROL"
        );
        assert_eq!(display(&[]), "");
    }

    #[test]
    fn esort_answers_in_sort_order() {
        let all = Return {
            min: true,
            max: true,
            all: true,
            count: true,
            save: false,
        };
        // RFC 5267 §3's example shape: MIN and MAX follow the sort, not the numbers.
        assert_eq!(
            esort_line("A283", false, &all, &[23, 2, 3, 4, 5, 9, 1]),
            "* ESEARCH (TAG \"A283\") MIN 23 MAX 1 ALL 23,2:5,9,1 COUNT 7"
        );
        assert_eq!(
            esort_line("a", true, &all, &[]),
            "* ESEARCH (TAG \"a\") UID COUNT 0"
        );
        let count = Return {
            count: true,
            ..Return::default()
        };
        assert_eq!(
            esort_line("b", false, &count, &[5, 3]),
            "* ESEARCH (TAG \"b\") COUNT 2"
        );
    }
}

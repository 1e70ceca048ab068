//! SORT and THREAD (RFC 5256): the messages a search finds, ordered by criteria, or grouped
//! into threads by base subject (ORDEREDSUBJECT) or by their references (REFERENCES, a
//! simplified form: a message's parent is the latest message it references that is here).
//! Every key comes from the stored metadata.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io;

use marque_store::mail::{self, EnvelopeAddress};

use super::search::matching;
use crate::imap::parse::search::Key;
use crate::imap::parse::sort::{Algorithm, Criterion, SortKey};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

/// What ordering and threading look at, per message.
#[derive(Debug, Clone, Default)]
struct Item {
    num: u32,
    msn: u32,
    arrival: i64,
    date: i64,
    size: u64,
    from: String,
    to: String,
    cc: String,
    subject: String,
    id: String,
    parents: Vec<String>,
}

/// RFC 5256 §2.1 base subject, simplified: no leading `Re:`/`Fwd:`/`Fw:`/`[tag]`, no trailing
/// `(fwd)`, lower case, single spaces.
pub fn base_subject(s: &str) -> String {
    let mut s = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    loop {
        let before = s.clone();
        while let Some(rest) = s.strip_suffix("(fwd)") {
            s = rest.trim_end().to_string();
        }
        for prefix in ["re:", "fwd:", "fw:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest.trim_start().to_string();
            }
        }
        if s.starts_with('[')
            && let Some(end) = s.find(']')
            && end + 1 < s.len()
        {
            s = s[end + 1..].trim_start().to_string();
        }
        if s == before {
            return s;
        }
    }
}

fn first_mailbox(list: &[EnvelopeAddress]) -> String {
    list.first()
        .and_then(|a| a.mailbox.clone())
        .unwrap_or_default()
        .to_lowercase()
}

fn msg_id(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_lowercase()
}

async fn items(s: &Session, by_uid: bool, key: Key) -> Result<Vec<Item>, Outcome> {
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
                let meta = mail::message_meta(st, &rec.blob)?.unwrap_or_default();
                let e = &meta.envelope;
                let mut parents: Vec<String> = meta.references.iter().map(|r| msg_id(r)).collect();
                if let Some(irt) = &e.in_reply_to {
                    parents.push(msg_id(irt));
                }
                v.push(Item {
                    num: if by_uid { uid } else { msn },
                    msn,
                    arrival: rec.internal_date,
                    // RFC 5256 §2.2: the sent date, or the internal date without one.
                    date: meta.sent_date.unwrap_or(rec.internal_date),
                    size: rec.size,
                    from: first_mailbox(&e.from),
                    to: first_mailbox(&e.to),
                    cc: first_mailbox(&e.cc),
                    subject: base_subject(e.subject.as_deref().unwrap_or("")),
                    id: e.message_id.as_deref().map(msg_id).unwrap_or_default(),
                    parents,
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
            SortKey::Date => a.date.cmp(&b.date),
            SortKey::From => a.from.cmp(&b.from),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::Subject => a.subject.cmp(&b.subject),
            SortKey::To => a.to.cmp(&b.to),
        };
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    // RFC 5256 §3: ties go by message number.
    a.msn.cmp(&b.msn)
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
    let nums: Vec<String> = v.iter().map(|i| i.num.to_string()).collect();
    s.io.line(format!("* SORT {}", nums.join(" ")).trim_end());
    Ok(Outcome::Ok("SORT completed".into()))
}

/// A thread tree: node `i` of `items` and its children.
fn render(items: &[Item], children: &HashMap<usize, Vec<usize>>, node: usize, out: &mut String) {
    out.push_str(&items[node].num.to_string());
    let kids = children.get(&node).map(Vec::as_slice).unwrap_or_default();
    match kids {
        [] => {}
        [one] => {
            out.push(' ');
            render(items, children, *one, out);
        }
        many => {
            out.push(' ');
            for k in many {
                out.push('(');
                render(items, children, *k, out);
                out.push(')');
            }
        }
    }
}

/// Applies THREAD.
#[tracing::instrument(skip(s, key))]
pub async fn thread(
    s: &mut Session,
    by_uid: bool,
    algorithm: Algorithm,
    key: Key,
) -> io::Result<Outcome> {
    let mut v = match items(s, by_uid, key).await {
        Ok(v) => v,
        Err(o) => return Ok(o),
    };
    v.sort_by(|a, b| a.date.cmp(&b.date).then(a.msn.cmp(&b.msn)));
    let mut roots: Vec<usize> = Vec::new();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    match algorithm {
        Algorithm::OrderedSubject => {
            // RFC 5256 §3: the first message of each base subject is the parent of the rest.
            let mut first: HashMap<&str, usize> = HashMap::new();
            for (i, it) in v.iter().enumerate() {
                match first.get(it.subject.as_str()) {
                    Some(&root) => children.entry(root).or_default().push(i),
                    None => {
                        first.insert(&it.subject, i);
                        roots.push(i);
                    }
                }
            }
        }
        Algorithm::References => {
            let by_id: HashMap<&str, usize> = v
                .iter()
                .enumerate()
                .filter(|(_, it)| !it.id.is_empty())
                .map(|(i, it)| (it.id.as_str(), i))
                .collect();
            for (i, it) in v.iter().enumerate() {
                let parent = it
                    .parents
                    .iter()
                    .rev()
                    .filter_map(|p| by_id.get(p.as_str()).copied())
                    .find(|&p| p != i && v[p].date <= it.date);
                match parent {
                    Some(p) => children.entry(p).or_default().push(i),
                    None => roots.push(i),
                }
            }
        }
    }
    let mut out = String::from("* THREAD ");
    for r in roots {
        out.push('(');
        render(&v, &children, r, &mut out);
        out.push(')');
    }
    s.io.line(out.trim_end());
    Ok(Outcome::Ok("THREAD completed".into()))
}

#[cfg(test)]
mod tests {
    use super::base_subject;

    #[test]
    fn base_subjects() {
        assert_eq!(
            base_subject("Re: RE: [list] Fwd:  Hello   World (fwd)"),
            "hello world"
        );
        assert_eq!(base_subject("[only]"), "[only]");
        assert_eq!(base_subject("plain"), "plain");
    }
}

//! SEARCH and UID SEARCH (RFC 3501 §6.4.4), with MODSEQ (RFC 7162 §3.1.5), ESEARCH's
//! RETURN options (RFC 4731) and SAVE for `$` (RFC 5182). Header keys use the stored envelope
//! and header index; BODY and TEXT read the body.

use std::io;

use marque_store::mail::{self, EnvelopeAddress, Flags, MessageMeta, MessageRecord};

use crate::imap::parse::search::{Key, Return, Search};
use crate::imap::parse::seq::{SeqSet, compact};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

const DAY: i64 = 86_400;

/// What evaluating a key needs besides the message record.
fn needs(k: &Key) -> (bool, bool) {
    match k {
        Key::Header(name, _) => {
            let envelope = ["FROM", "TO", "CC", "BCC", "SUBJECT"].contains(&name.as_str());
            (true, !envelope)
        }
        Key::SentBefore(_) | Key::SentOn(_) | Key::SentSince(_) => (true, false),
        Key::Body(_) | Key::Text(_) => (true, true),
        Key::Not(k) => needs(k),
        Key::Or(a, b) => {
            let (x, y) = (needs(a), needs(b));
            (x.0 || y.0, x.1 || y.1)
        }
        Key::And(v) => v
            .iter()
            .map(needs)
            .fold((false, false), |a, b| (a.0 || b.0, a.1 || b.1)),
        _ => (false, false),
    }
}

fn uses_modseq(k: &Key) -> bool {
    match k {
        Key::ModSeq(_) => true,
        Key::Not(k) => uses_modseq(k),
        Key::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        Key::And(v) => v.iter().any(uses_modseq),
        _ => false,
    }
}

/// One message as a search sees it.
struct Candidate<'a> {
    msn: u32,
    uid: u32,
    count: u32,
    max_uid: u32,
    /// The saved result (`$`), UIDs ascending.
    saved: &'a [u32],
    rec: &'a MessageRecord,
    meta: &'a MessageMeta,
    body: &'a [u8],
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.to_lowercase();
    if n.is_empty() {
        return true;
    }
    String::from_utf8_lossy(hay).to_lowercase().contains(&n)
}

fn address_text(list: &[EnvelopeAddress]) -> String {
    list.iter()
        .map(|a| {
            format!(
                "{} <{}@{}>",
                a.name.as_deref().unwrap_or(""),
                a.mailbox.as_deref().unwrap_or(""),
                a.host.as_deref().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn day(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

fn eval(k: &Key, c: &Candidate<'_>) -> bool {
    let e = &c.meta.envelope;
    let sent = c.meta.sent_date.map(day);
    match k {
        Key::All | Key::Old => true,
        Key::New | Key::Recent => false,
        Key::Flag(name, set) => {
            Flags::from_name(name).is_some_and(|f| c.rec.flags.contains(f) == *set)
        }
        Key::Keyword(kw, set) => c.rec.keywords.iter().any(|x| x.eq_ignore_ascii_case(kw)) == *set,
        // RFC 5182 §2.2: `$` is the same messages by number or by UID.
        Key::Seq(SeqSet::Saved) | Key::Uid(SeqSet::Saved) => c.saved.binary_search(&c.uid).is_ok(),
        Key::Seq(s) => s.contains(c.msn, c.count),
        Key::Uid(s) => s.contains(c.uid, c.max_uid),
        Key::Header(name, needle) => match name.as_str() {
            "FROM" => contains(address_text(&e.from).as_bytes(), needle),
            "TO" => contains(address_text(&e.to).as_bytes(), needle),
            "CC" => contains(address_text(&e.cc).as_bytes(), needle),
            "BCC" => contains(address_text(&e.bcc).as_bytes(), needle),
            "SUBJECT" => contains(e.subject.as_deref().unwrap_or("").as_bytes(), needle),
            _ => c.meta.header_fields(c.body, name).any(|raw| {
                // The value: after the colon.
                let v = raw.splitn(2, |&b| b == b':').nth(1).unwrap_or_default();
                contains(v, needle)
            }),
        },
        Key::Body(n) => contains(
            c.body
                .get(c.meta.header_size as usize..)
                .unwrap_or_default(),
            n,
        ),
        Key::Text(n) => contains(c.body, n),
        Key::Before(d) => day(c.rec.internal_date) < *d,
        Key::On(d) => day(c.rec.internal_date) == *d,
        Key::Since(d) => day(c.rec.internal_date) >= *d,
        Key::SentBefore(d) => sent.is_some_and(|s| s < *d),
        Key::SentOn(d) => sent == Some(*d),
        Key::SentSince(d) => sent.is_some_and(|s| s >= *d),
        Key::Larger(n) => c.rec.size > *n,
        Key::Smaller(n) => c.rec.size < *n,
        Key::ModSeq(n) => c.rec.modseq >= *n,
        Key::Not(k) => !eval(k, c),
        Key::Or(a, b) => eval(a, c) || eval(b, c),
        Key::And(v) => v.iter().all(|k| eval(k, c)),
    }
}

/// The messages of the view (`uids`, in message-number order) that match `key`, as
/// (message number, UID, modseq). `saved` is what `$` stands for.
pub async fn matching(
    store: &marque_store::Store,
    account: marque_store::AccountId,
    id: marque_store::MailboxId,
    uids: Vec<u32>,
    saved: Vec<u32>,
    key: Key,
) -> marque_store::Result<Vec<(u32, u32, u64)>> {
    let (need_meta, need_body) = needs(&key);
    store
        .read(move |st| {
            let count = u32::try_from(uids.len()).unwrap_or(u32::MAX);
            let max_uid = uids.last().copied().unwrap_or(0);
            let mut hits = Vec::new();
            let empty = MessageMeta::default();
            for (i, &uid) in uids.iter().enumerate() {
                let Some(rec) = mail::message(st, account, id, uid)? else {
                    continue;
                };
                let meta = if need_meta {
                    mail::message_meta(st, &rec.blob)?
                } else {
                    None
                };
                let body = if need_body {
                    mail::message_body(st, &rec.blob)?
                } else {
                    None
                };
                let c = Candidate {
                    msn: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    uid,
                    count,
                    max_uid,
                    saved: &saved,
                    rec: &rec,
                    meta: meta.as_ref().unwrap_or(&empty),
                    body: body.as_deref().unwrap_or_default(),
                };
                if eval(&key, &c) {
                    hits.push((c.msn, uid, rec.modseq));
                }
            }
            Ok(hits)
        })
        .await
}

/// RFC 5182 §2.4: what SAVE keeps, as UIDs ascending: the messages MIN and MAX name when
/// either is asked for, else every message found.
fn saved_result(ret: &Return, hits: &[(u32, u32, u64)]) -> Vec<u32> {
    if !(ret.min || ret.max) {
        return hits.iter().map(|h| h.1).collect();
    }
    let mut v = Vec::new();
    if let (true, Some(first)) = (ret.min, hits.first()) {
        v.push(first.1);
    }
    if let (true, Some(last)) = (ret.max, hits.last()) {
        v.push(last.1);
    }
    v.dedup();
    v
}

/// Applies SEARCH.
#[tracing::instrument(skip(s, search))]
pub async fn run(s: &mut Session, by_uid: bool, search: &Search, tag: &str) -> io::Result<Outcome> {
    let modseq_key = uses_modseq(&search.key);
    if modseq_key {
        s.condstore = true;
    }
    let State::Selected { user, view } = &mut s.state else {
        return Err(io::Error::other("SEARCH outside the selected state"));
    };
    let (account, id) = (user.account, view.id);
    let r = matching(
        s.ctx.core.store(),
        account,
        id,
        view.uids.clone(),
        view.saved.clone(),
        search.key.clone(),
    )
    .await;
    let save = search.ret.as_ref().is_some_and(|r| r.save);
    let hits = match r {
        Ok(h) => h,
        Err(e) => {
            // RFC 5182 §2.1: a failed SEARCH with SAVE leaves `$` empty.
            if save {
                view.saved.clear();
            }
            return Ok(super::store_no(&e));
        }
    };
    if let Some(ret) = search.ret.as_ref().filter(|r| r.save) {
        view.saved = saved_result(ret, &hits);
    }
    let nums: Vec<u32> = hits
        .iter()
        .map(|(m, u, _)| if by_uid { *u } else { *m })
        .collect();
    let top_modseq = hits.iter().map(|(_, _, m)| *m).max();
    // RFC 9051 §6.4.4: IMAP4rev2 answers every SEARCH with ESEARCH.
    let ret = search.ret.clone().or_else(|| {
        s.rev2.then(|| crate::imap::parse::search::Return {
            all: true,
            ..Default::default()
        })
    });
    match &ret {
        Some(r) if !r.answers() => {}
        None => {
            let mut line = String::from("* SEARCH");
            for n in &nums {
                line.push_str(&format!(" {n}"));
            }
            // RFC 7162 §3.1.5: the highest modseq of the messages found.
            if let (true, Some(m)) = (modseq_key, top_modseq) {
                line.push_str(&format!(" (MODSEQ {m})"));
            }
            s.io.line(&line);
        }
        Some(ret) => {
            // RFC 4731 §3.1.
            let mut line = format!("* ESEARCH (TAG \"{tag}\")");
            if by_uid {
                line.push_str(" UID");
            }
            if !nums.is_empty() {
                if ret.min {
                    line.push_str(&format!(" MIN {}", nums[0]));
                }
                if ret.max {
                    line.push_str(&format!(" MAX {}", nums[nums.len() - 1]));
                }
                if ret.all {
                    line.push_str(&format!(" ALL {}", compact(&nums)));
                }
            }
            if ret.count {
                line.push_str(&format!(" COUNT {}", nums.len()));
            }
            if let (true, Some(m)) = (modseq_key, top_modseq) {
                line.push_str(&format!(" MODSEQ {m}"));
            }
            s.io.line(&line);
        }
    }
    Ok(Outcome::Ok("SEARCH completed".into()))
}

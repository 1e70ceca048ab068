//! SEARCH and UID SEARCH (RFC 3501 §6.4.4), with MODSEQ (RFC 7162 §3.1.5), ESEARCH's
//! RETURN options (RFC 4731) and SAVE for `$` (RFC 5182). Header keys use the stored envelope
//! and header index; BODY and TEXT read the body.

use std::cell::{OnceCell, RefCell};
use std::io;

use std::sync::Arc;

use marque_store::mail::{self, Envelope, EnvelopeAddress, Flags, MessageMeta, MessageRecord};

use crate::imap::parse::search::{Key, Return, Search};
use crate::imap::parse::seq::{SeqSet, compact};
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;

const DAY: i64 = 86_400;
/// Records read per scan of the folder.
const SCAN_BATCH: usize = 512;

fn uses_modseq(k: &Key) -> bool {
    match k {
        Key::ModSeq(_) => true,
        Key::Not(k) => uses_modseq(k),
        Key::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        Key::And(v) => v.iter().any(uses_modseq),
        _ => false,
    }
}

/// One message as a search sees it. The metadata and the body are read only when a key
/// needs them, so keys on flags, dates and sizes never touch more than the record, header
/// keys take the metadata from the store's shared cache (envelope, header index and header
/// section), and only BODY and TEXT read the body.
struct Candidate<'a> {
    msn: u32,
    uid: u32,
    count: u32,
    max_uid: u32,
    /// The time the search started (seconds since the epoch), for OLDER and YOUNGER.
    now: i64,
    /// The saved result (`$`), UIDs ascending.
    saved: &'a [u32],
    rec: &'a MessageRecord,
    store: &'a marque_store::Store,
    meta: OnceCell<Arc<MessageMeta>>,
    body: OnceCell<Vec<u8>>,
    /// The first read that failed; the search fails with it.
    error: RefCell<Option<marque_store::Error>>,
}

impl Candidate<'_> {
    fn failed<T: Default>(&self, r: marque_store::Result<Option<T>>) -> T {
        match r {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => {
                self.error.borrow_mut().get_or_insert(e);
                T::default()
            }
        }
    }
    fn envelope(&self) -> &Envelope {
        &self.meta().envelope
    }
    fn meta(&self) -> &MessageMeta {
        self.meta
            .get_or_init(|| self.failed(mail::shared_meta(self.store, &self.rec.blob)))
    }
    fn body(&self) -> &[u8] {
        self.body
            .get_or_init(|| self.failed(mail::message_body(self.store, &self.rec.blob)))
    }
    /// The day of the Date: header field as written, ignoring its time and zone (RFC 3501
    /// §6.4.4, RFC 9051 §6.4.4: "disregarding time and timezone"), as the epoch second of
    /// that day's midnight UTC, comparable with a search key's date. Without a Date field
    /// whose date can be read the message has no sent date, and no SENT* key matches it:
    /// both RFCs define these keys over the Date: field alone and name no fallback (the
    /// INTERNALDATE fallback of RFC 5256 §2.2 is SORT's definition, not SEARCH's).
    fn sent_day(&self) -> Option<i64> {
        let raw = self
            .meta()
            .header_fields(self.header_source(), "Date")
            .next()?;
        let value = raw.splitn(2, |&b| b == b':').nth(1)?;
        crate::imap::parse::search::date_field_day(value)
    }
    /// The bytes header fields are sliced from: the kept header section, else the body.
    fn header_source(&self) -> &[u8] {
        match &self.meta().header {
            Some(h) => h,
            None => self.body(),
        }
    }
}

/// Case-insensitive substring match. ASCII on both sides (most subjects and addresses) is
/// compared in place; anything else is lower-cased as Unicode first.
fn contains(hay: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.is_ascii() && hay.is_ascii() {
        let n = needle.as_bytes();
        return hay.len() >= n.len() && hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    let n = needle.to_lowercase();
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
    match k {
        Key::All => true,
        // Resolved by the session before the search (`recent::Recent::resolve`); a search
        // without a session (none today) treats no message as recent.
        Key::Old => true,
        Key::New | Key::Recent => false,
        Key::Flag(name, set) => {
            Flags::from_name(name).is_some_and(|f| c.rec.flags.contains(f) == *set)
        }
        Key::Keyword(kw, set) => c.rec.keywords.iter().any(|x| x.eq_ignore_ascii_case(kw)) == *set,
        // RFC 5182 §2.2: `$` is the same messages by number or by UID.
        Key::Seq(SeqSet::Saved) | Key::Uid(SeqSet::Saved) => c.saved.binary_search(&c.uid).is_ok(),
        Key::Seq(s) => s.contains(c.msn, c.count),
        Key::Uid(s) => s.contains(c.uid, c.max_uid),
        Key::Header(name, needle) => {
            let e = c.envelope();
            match name.as_str() {
                "FROM" => contains(address_text(&e.from).as_bytes(), needle),
                "TO" => contains(address_text(&e.to).as_bytes(), needle),
                "CC" => contains(address_text(&e.cc).as_bytes(), needle),
                "BCC" => contains(address_text(&e.bcc).as_bytes(), needle),
                "SUBJECT" => contains(e.subject.as_deref().unwrap_or("").as_bytes(), needle),
                _ => c.meta().header_fields(c.header_source(), name).any(|raw| {
                    // The value: after the colon.
                    let v = raw.splitn(2, |&b| b == b':').nth(1).unwrap_or_default();
                    contains(v, needle)
                }),
            }
        }
        Key::Body(n) => contains(
            c.body()
                .get(c.meta().header_size as usize..)
                .unwrap_or_default(),
            n,
        ),
        Key::Text(n) => contains(c.body(), n),
        // RFC 3501 §6.4.4: the internal date "disregarding time and timezone": its day in
        // the zone it was given in.
        Key::Before(d) => day(c.rec.local_internal_date()) < *d,
        Key::On(d) => day(c.rec.local_internal_date()) == *d,
        Key::Since(d) => day(c.rec.local_internal_date()) >= *d,
        Key::SentBefore(d) => c.sent_day().is_some_and(|s| s < *d),
        Key::SentOn(d) => c.sent_day() == Some(*d),
        Key::SentSince(d) => c.sent_day().is_some_and(|s| s >= *d),
        // RFC 8514 §4: the day the message was saved (in UTC, the zone it was recorded in);
        // a message whose save date is unknown matches none of these.
        Key::SavedBefore(d) => c.rec.saved.is_some_and(|t| day(t) < *d),
        Key::SavedOn(d) => c.rec.saved.is_some_and(|t| day(t) == *d),
        Key::SavedSince(d) => c.rec.saved.is_some_and(|t| day(t) >= *d),
        Key::SaveDateSupported => true,
        // RFC 5032 §3: the age of the internal date, in seconds, against the interval.
        Key::Older(n) => c.now - c.rec.internal_date > i64::from(*n),
        Key::Younger(n) => c.now - c.rec.internal_date <= i64::from(*n),
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
    uids: std::sync::Arc<Vec<u32>>,
    saved: Vec<u32>,
    key: Key,
) -> marque_store::Result<Vec<(u32, u32, u64)>> {
    store
        .read(move |st| {
            let count = u32::try_from(uids.len()).unwrap_or(u32::MAX);
            let max_uid = uids.last().copied().unwrap_or(0);
            let mut hits = Vec::new();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            // The view's records in one forward scan (UID order) rather than one read each;
            // records outside the view (appended since it was last synced) are skipped.
            let mut pos = 0;
            let mut from = uids.first().copied().unwrap_or(u32::MAX);
            while pos < uids.len() {
                let batch = mail::messages_in(st, account, id, from..=max_uid, SCAN_BATCH)?;
                let Some(last) = batch.last().map(|(u, _)| *u) else {
                    break;
                };
                for (uid, rec) in &batch {
                    while pos < uids.len() && uids[pos] < *uid {
                        pos += 1;
                    }
                    if pos >= uids.len() || uids[pos] != *uid {
                        continue;
                    }
                    let c = Candidate {
                        msn: u32::try_from(pos + 1).unwrap_or(u32::MAX),
                        uid: *uid,
                        count,
                        max_uid,
                        now,
                        saved: &saved,
                        rec,
                        store: st,
                        meta: OnceCell::new(),
                        body: OnceCell::new(),
                        error: RefCell::new(None),
                    };
                    let hit = eval(&key, &c);
                    if let Some(e) = c.error.into_inner() {
                        return Err(e);
                    }
                    if hit {
                        hits.push((c.msn, *uid, rec.modseq));
                    }
                }
                if batch.len() < SCAN_BATCH || last >= max_uid {
                    break;
                }
                from = last + 1;
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

/// RFC 7162 §3.1.5 with RFC 4731: the MODSEQ of an ESEARCH answer is the highest modseq of
/// the messages it returns: all of those found for ALL or COUNT, else only the ones MIN
/// and MAX name. `None` when it returns no message.
fn returned_modseq(ret: &Return, hits: &[(u32, u32, u64)]) -> Option<u64> {
    if ret.all || ret.count {
        return hits.iter().map(|h| h.2).max();
    }
    let mut returned: Vec<u64> = Vec::new();
    if let (true, Some(first)) = (ret.min, hits.first()) {
        returned.push(first.2);
    }
    if let (true, Some(last)) = (ret.max, hits.last()) {
        returned.push(last.2);
    }
    returned.into_iter().max()
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
    // RFC 7162 §3.1.5: the highest modseq of the messages the answer returns.
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
            if let (true, Some(m)) = (modseq_key, returned_modseq(ret, &hits)) {
                line.push_str(&format!(" MODSEQ {m}"));
            }
            s.io.line(&line);
        }
    }
    Ok(Outcome::Ok("SEARCH completed".into()))
}

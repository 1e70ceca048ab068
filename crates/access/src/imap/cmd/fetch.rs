//! FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; CHANGEDSINCE and MODSEQ from RFC 7162
//! §3.1.4). Envelope, body structure and the byte ranges of every part come from the metadata
//! stored at delivery; the body is read only for sections, and never re-parsed (but for an
//! enclosed message sent encoded, [`section`]).

pub(crate) mod section;

use section::{BinaryError, binary, header, header_len, section_data};

use std::io;

use marque_store::mail::{self, FlagChange, FlagOp, Flags, MessageMeta, MessageRecord};

use crate::imap::parse::fetch::{FetchAtt, Section, SectionText};
use crate::imap::parse::seq::{SeqSet, compact};
use crate::imap::render;
use crate::imap::session::{Outcome, Session};
use crate::imap::state::State;
use crate::imap::view;

/// Flush the answer to the socket past this many buffered bytes.
const FLUSH_AT: usize = 256 * 1024;
/// Most messages read from the store in one go.
const BATCH: usize = 128;
/// Bytes of message bodies one batch reads before it stops (at least one message).
const BODY_BATCH_BYTES: u64 = 1024 * 1024;

/// Applies FETCH.
#[tracing::instrument(skip(s, atts))]
pub async fn run(
    s: &mut Session,
    by_uid: bool,
    set: &SeqSet,
    atts: &[FetchAtt],
    changed_since: Option<u64>,
    vanished: bool,
) -> io::Result<Outcome> {
    if vanished && !(by_uid && s.qresync) {
        // RFC 7162 §3.2.6: only in UID FETCH, once QRESYNC is enabled.
        return Ok(Outcome::Bad("VANISHED needs UID FETCH and QRESYNC".into()));
    }
    if changed_since.is_some() || atts.contains(&FetchAtt::ModSeq) {
        // RFC 7162 §3.1: these enable CONDSTORE for the session.
        s.condstore = true;
    }
    let condstore = s.condstore;
    let State::Selected { user, view } = &mut s.state else {
        return Err(io::Error::other("FETCH outside the selected state"));
    };
    if !by_uid && view.out_of_range(set) {
        return Ok(Outcome::Bad("no such message".into()));
    }
    let mut atts = atts.to_vec();
    if by_uid && !atts.contains(&FetchAtt::Uid) {
        // RFC 3501 §6.4.8: UID FETCH always returns the UID.
        atts.insert(0, FetchAtt::Uid);
    }
    if changed_since.is_some() && !atts.contains(&FetchAtt::ModSeq) {
        atts.push(FetchAtt::ModSeq);
    }
    let targets = view.resolve(set, by_uid);
    let account = user.account;
    let id = view.id;
    let store = s.ctx.core.store().clone();
    if let (true, Some(since)) = (vanished, changed_since) {
        let star = view.uids.last().copied().unwrap_or(0);
        let set2 = set.clone();
        let gone = store
            .read(move |st| {
                Ok(view::vanished_since(st, account, id, since)?
                    .into_iter()
                    .filter(|u| set2.contains(*u, star.max(*u)))
                    .collect::<Vec<u32>>())
            })
            .await;
        match gone {
            Ok(g) if !g.is_empty() => s_line(
                &mut s.io.out,
                &format!("* VANISHED (EARLIER) {}", compact(&g)),
            ),
            Ok(_) => {}
            Err(e) => return Ok(super::store_no(&e)),
        }
    }
    let sets_seen = !view.read_only && atts.iter().any(FetchAtt::sets_seen) && !targets.is_empty();
    // RFC 3516 §4.3: a BINARY the server cannot decode fails the command, and a command that
    // fails changes nothing: that is known before `\Seen` is set.
    if sets_seen
        && atts
            .iter()
            .any(|a| matches!(a, FetchAtt::Binary { peek: false, .. }))
    {
        let uids: Vec<u32> = targets.iter().map(|(_, u)| *u).collect();
        let parts = parts_of(&atts);
        match store
            .read(move |st| unknown_cte(st, account, id, &uids, &parts))
            .await
        {
            Ok(Some(cte)) => {
                return Ok(Outcome::No(format!(
                    "[UNKNOWN-CTE] cannot decode the {} transfer encoding",
                    printable(&cte)
                )));
            }
            Ok(None) => {}
            Err(e) => return Ok(super::store_no(&e)),
        }
    }
    // RFC 3501 §6.4.5: fetching a body section without PEEK sets \Seen; do it first, so the
    // answer carries the new flags.
    let mut seen_now: Vec<u32> = Vec::new();
    if sets_seen {
        let uids: Vec<u32> = targets.iter().map(|(_, u)| *u).collect();
        let change = FlagChange {
            op: FlagOp::Add,
            flags: Flags::SEEN,
            keywords: Vec::new(),
            unchanged_since: None,
        };
        let r = store
            .transact(move |txn| mail::store_flags(txn, account, id, &uids, &change))
            .await;
        match r {
            Ok(o) => {
                seen_now = o.changed.iter().map(|(u, _)| *u).collect();
                if o.modseq == view.modseq + 1 && !o.changed.is_empty() {
                    view.modseq = o.modseq;
                }
            }
            Err(e) => return Ok(super::store_no(&e)),
        }
    }
    // Header sections are answered from the header section kept in the metadata; only other
    // sections (or a header too large to be kept) read and decompress the body.
    let needs_header = atts.iter().any(FetchAtt::needs_header_only);
    let needs_body = atts
        .iter()
        .any(|a| a.needs_body() && !a.needs_header_only());
    let needs_meta = needs_body
        || needs_header
        || atts.iter().any(|a| {
            matches!(
                a,
                FetchAtt::Envelope | FetchAtt::BodyStructure | FetchAtt::Body
            )
        });
    // Messages are read in batches: one trip to the store's blocking pool per batch. With
    // bodies, a batch stops once it holds BODY_BATCH_BYTES, so a large message is read alone
    // and the memory a FETCH holds stays bounded. Metadata comes from the store's shared cache.
    let mut rest: &[(u32, u32)] = &targets;
    let no_meta = std::sync::Arc::new(MessageMeta::default());
    while !rest.is_empty() {
        let uids: Vec<(u32, u32)> = rest.iter().take(BATCH).copied().collect();
        let loaded = store
            .read(move |st| {
                let mut v = Vec::new();
                let mut consumed = 0;
                let mut bytes = 0u64;
                for (msn, uid) in uids {
                    if bytes >= BODY_BATCH_BYTES {
                        break;
                    }
                    consumed += 1;
                    let Some(rec) = mail::message(st, account, id, uid)? else {
                        continue;
                    };
                    let meta = if needs_meta {
                        mail::shared_meta(st, &rec.blob)?
                    } else {
                        None
                    };
                    let kept_header = meta.as_ref().is_some_and(|m| m.header.is_some());
                    let body = if needs_body || (needs_header && !kept_header) {
                        bytes += rec.size;
                        mail::message_body(st, &rec.blob)?
                    } else {
                        None
                    };
                    v.push((msn, uid, rec, meta, body));
                }
                Ok((consumed, v))
            })
            .await;
        let loaded = match loaded {
            Ok((consumed, v)) => {
                rest = &rest[consumed.min(rest.len())..];
                v
            }
            Err(e) => return Ok(super::store_no(&e)),
        };
        for (msn, uid, rec, meta, body) in loaded {
            if changed_since.is_some_and(|c| rec.modseq <= c) {
                continue;
            }
            let meta = meta.unwrap_or_else(|| no_meta.clone());
            // What sections are cut from: the message, or for header sections alone the
            // header section kept in the metadata (the same bytes at the same offsets).
            let source: &[u8] = match &body {
                Some(b) => b,
                None => meta.header.as_deref().unwrap_or_default(),
            };
            let flags_too = seen_now.contains(&uid) && !atts.contains(&FetchAtt::Flags);
            let out = &mut s.io.out;
            let mark = out.len();
            out.extend_from_slice(format!("* {msn} FETCH (").as_bytes());
            for (i, a) in atts.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                let recent = view.recent.contains(uid);
                if let Err(cte) = item(out, a, uid, &rec, &meta, source, recent) {
                    // RFC 3516 §4.3: a transfer encoding we cannot undo fails the command;
                    // this message's half-written answer is dropped.
                    out.truncate(mark);
                    return Ok(Outcome::No(format!(
                        "[UNKNOWN-CTE] cannot decode the {} transfer encoding",
                        printable(&cte)
                    )));
                }
            }
            if flags_too {
                let flags = crate::imap::recent::flags(&rec, view.recent.contains(uid));
                out.extend_from_slice(format!(" FLAGS {flags}").as_bytes());
            }
            if condstore && !atts.contains(&FetchAtt::ModSeq) && flags_too {
                out.extend_from_slice(format!(" MODSEQ ({})", rec.modseq).as_bytes());
            }
            out.extend_from_slice(b")\r\n");
            if s.io.out.len() > FLUSH_AT {
                s.io.flush().await?;
            }
        }
    }
    Ok(Outcome::Ok("FETCH completed".into()))
}

/// The part numbers of the BINARY and BINARY.SIZE items of a FETCH.
fn parts_of(atts: &[FetchAtt]) -> Vec<Vec<u32>> {
    atts.iter()
        .filter_map(|a| match a {
            FetchAtt::Binary { part, .. } | FetchAtt::BinarySize { part } => Some(part.clone()),
            _ => None,
        })
        .collect()
}

/// The first transfer encoding that BINARY of `parts` would meet and cannot decode in the
/// messages `uids`; `None` when every one can be answered. Reads one message at a time.
fn unknown_cte(
    st: &marque_store::Store,
    account: marque_store::AccountId,
    id: marque_store::MailboxId,
    uids: &[u32],
    parts: &[Vec<u32>],
) -> marque_store::Result<Option<String>> {
    for &uid in uids {
        let Some(rec) = mail::message(st, account, id, uid)? else {
            continue;
        };
        let Some(meta) = mail::shared_meta(st, &rec.blob)? else {
            continue;
        };
        let Some(body) = mail::message_body(st, &rec.blob)? else {
            continue;
        };
        for part in parts {
            if let Err(BinaryError::UnknownCte(cte)) = binary(part, &meta, &body) {
                return Ok(Some(cte));
            }
        }
    }
    Ok(None)
}

fn s_line(out: &mut Vec<u8>, l: &str) {
    out.extend_from_slice(l.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A transfer encoding's name as it may appear in a response text: printable ASCII, at most
/// 64 characters.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// Writes one FETCH item. Fails with the name of a transfer encoding BINARY cannot decode.
fn item(
    out: &mut Vec<u8>,
    a: &FetchAtt,
    uid: u32,
    rec: &MessageRecord,
    meta: &MessageMeta,
    body: &[u8],
    recent: bool,
) -> Result<(), String> {
    match a {
        FetchAtt::Uid => out.extend_from_slice(format!("UID {uid}").as_bytes()),
        FetchAtt::Flags => out.extend_from_slice(
            format!("FLAGS {}", crate::imap::recent::flags(rec, recent)).as_bytes(),
        ),
        FetchAtt::InternalDate => out.extend_from_slice(
            format!(
                "INTERNALDATE {}",
                render::date_time_in(rec.internal_date, rec.zone)
            )
            .as_bytes(),
        ),
        FetchAtt::Rfc822Size => {
            out.extend_from_slice(format!("RFC822.SIZE {}", rec.size).as_bytes())
        }
        FetchAtt::ModSeq => out.extend_from_slice(format!("MODSEQ ({})", rec.modseq).as_bytes()),
        FetchAtt::Envelope => {
            out.extend_from_slice(b"ENVELOPE ");
            render::envelope(out, &meta.envelope);
        }
        FetchAtt::BodyStructure => {
            out.extend_from_slice(b"BODYSTRUCTURE ");
            render::body_structure(out, &meta.structure, true);
        }
        FetchAtt::Body => {
            out.extend_from_slice(b"BODY ");
            render::body_structure(out, &meta.structure, false);
        }
        FetchAtt::Rfc822 => {
            out.extend_from_slice(b"RFC822 ");
            render::content_literal(out, body);
        }
        FetchAtt::Rfc822Header => {
            out.extend_from_slice(b"RFC822.HEADER ");
            render::content_literal(out, &header(meta, body));
        }
        FetchAtt::Rfc822Text => {
            out.extend_from_slice(b"RFC822.TEXT ");
            render::content_literal(out, body.get(header_len(meta, body)..).unwrap_or_default());
        }
        // RFC 8514 §3: NIL when the save date is not known (a message stored before save
        // dates were kept).
        FetchAtt::SaveDate => match rec.saved {
            Some(t) => {
                out.extend_from_slice(format!("SAVEDATE {}", render::date_time(t)).as_bytes())
            }
            None => out.extend_from_slice(b"SAVEDATE NIL"),
        },
        FetchAtt::Preview => {
            out.extend_from_slice(b"PREVIEW ");
            render::string(out, crate::imap::preview::preview(body).as_bytes());
        }
        FetchAtt::BinarySize { part } => {
            // RFC 3516 §4.2: the size of the decoded content.
            let size = match binary(part, meta, body) {
                Ok(d) => d.len(),
                Err(BinaryError::Missing) => 0,
                Err(BinaryError::UnknownCte(c)) => return Err(c),
            };
            out.extend_from_slice(format!("BINARY.SIZE[{}] {size}", dotted(part)).as_bytes());
        }
        FetchAtt::Binary { part, partial, .. } => {
            let data = match binary(part, meta, body) {
                Ok(d) => d,
                Err(BinaryError::UnknownCte(c)) => return Err(c),
                Err(BinaryError::Missing) => {
                    out.extend_from_slice(format!("BINARY[{}] NIL", dotted(part)).as_bytes());
                    return Ok(());
                }
            };
            out.extend_from_slice(format!("BINARY[{}]", dotted(part)).as_bytes());
            let data = match partial {
                Some((origin, len)) => {
                    out.extend_from_slice(format!("<{origin}>").as_bytes());
                    let start = (*origin as usize).min(data.len());
                    let end = start.saturating_add(*len as usize).min(data.len());
                    &data[start..end]
                }
                None => &data[..],
            };
            out.push(b' ');
            // RFC 3516 §4.2: literal8 when the data holds a NUL.
            if data.contains(&0) {
                out.push(b'~');
            }
            render::literal(out, data);
        }
        FetchAtt::Section {
            section, partial, ..
        } => {
            out.extend_from_slice(section_name(section).as_bytes());
            let data = section_data(section, meta, body);
            match partial {
                Some((origin, len)) => {
                    out.extend_from_slice(format!("<{origin}> ").as_bytes());
                    let start = (*origin as usize).min(data.len());
                    let end = start.saturating_add(*len as usize).min(data.len());
                    render::content_literal(out, &data[start..end]);
                }
                None => {
                    out.push(b' ');
                    render::content_literal(out, &data);
                }
            }
        }
    }
    Ok(())
}

fn dotted(part: &[u32]) -> String {
    part.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// `BODY[1.HEADER.FIELDS (From)]` as the answer names it.
fn section_name(s: &Section) -> String {
    let mut n = String::from("BODY[");
    let parts: Vec<String> = s.part.iter().map(u32::to_string).collect();
    n.push_str(&parts.join("."));
    if let Some(t) = &s.text {
        if !s.part.is_empty() {
            n.push('.');
        }
        match t {
            SectionText::Header => n.push_str("HEADER"),
            SectionText::Text => n.push_str("TEXT"),
            SectionText::Mime => n.push_str("MIME"),
            SectionText::HeaderFields { not, fields } => {
                n.push_str(if *not {
                    "HEADER.FIELDS.NOT ("
                } else {
                    "HEADER.FIELDS ("
                });
                n.push_str(&fields.join(" "));
                n.push(')');
            }
        }
    }
    n.push(']');
    n
}

//! FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8; CHANGEDSINCE and MODSEQ from RFC 7162
//! §3.1.4). Envelope, body structure and the byte ranges of every part come from the metadata
//! stored at delivery; the body is read only for sections, and never re-parsed.

use std::io;

use marque_store::mail::{self, BodyPart, FlagChange, FlagOp, Flags, MessageMeta, MessageRecord};

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
    // RFC 3501 §6.4.5: fetching a body section without PEEK sets \Seen; do it first, so the
    // answer carries the new flags.
    let mut seen_now: Vec<u32> = Vec::new();
    if !view.read_only && atts.iter().any(FetchAtt::sets_seen) && !targets.is_empty() {
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
            out.extend_from_slice(format!("* {msn} FETCH (").as_bytes());
            for (i, a) in atts.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                item(out, a, uid, &rec, &meta, source, view.recent.contains(uid));
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

fn s_line(out: &mut Vec<u8>, l: &str) {
    out.extend_from_slice(l.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn item(
    out: &mut Vec<u8>,
    a: &FetchAtt,
    uid: u32,
    rec: &MessageRecord,
    meta: &MessageMeta,
    body: &[u8],
    recent: bool,
) {
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
            render::literal(out, body);
        }
        FetchAtt::Rfc822Header => {
            out.extend_from_slice(b"RFC822.HEADER ");
            render::literal(out, header_block(meta, body));
        }
        FetchAtt::Rfc822Text => {
            out.extend_from_slice(b"RFC822.TEXT ");
            render::literal(out, body.get(header_len(meta, body)..).unwrap_or_default());
        }
        FetchAtt::BinarySize { part } => {
            let size = binary(part, meta, body).map_or(0, |d| d.len());
            out.extend_from_slice(format!("BINARY.SIZE[{}] {size}", dotted(part)).as_bytes());
        }
        FetchAtt::Binary { part, partial, .. } => {
            out.extend_from_slice(format!("BINARY[{}]", dotted(part)).as_bytes());
            let Some(data) = binary(part, meta, body) else {
                out.extend_from_slice(b" NIL");
                return;
            };
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
                    render::literal(out, &data[start..end]);
                }
                None => {
                    out.push(b' ');
                    render::literal(out, &data);
                }
            }
        }
    }
}

fn dotted(part: &[u32]) -> String {
    part.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A part decoded from its Content-Transfer-Encoding (the whole message, as it is, for `[]`).
fn binary(part: &[u32], meta: &MessageMeta, body: &[u8]) -> Option<Vec<u8>> {
    if part.is_empty() {
        return Some(body.to_vec());
    }
    let (p, valid) = find_part(&meta.structure, part)?;
    if !valid || p.media_type == "multipart" {
        return None;
    }
    crate::imap::cte::decode(&p.encoding, slice(body, p.body_offset, p.end_offset))
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

fn header_len(meta: &MessageMeta, body: &[u8]) -> usize {
    (meta.header_size as usize).min(body.len())
}

fn header_block<'a>(meta: &MessageMeta, body: &'a [u8]) -> &'a [u8] {
    &body[..header_len(meta, body)]
}

fn slice(body: &[u8], from: u32, to: u32) -> &[u8] {
    body.get(from as usize..to as usize).unwrap_or_default()
}

/// The header fields of a header block, each with its raw bytes (continuation lines included).
/// Used for enclosed messages, whose header index is not stored.
fn split_fields(block: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out: Vec<(&[u8], &[u8])> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < block.len() {
        let end = block[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(block.len(), |p| i + p + 1);
        let line = &block[i..end];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let continuation = line.first().is_some_and(|c| *c == b' ' || *c == b'\t');
        if !continuation && i > start {
            let field = &block[start..i];
            let name = field.split(|&c| c == b':').next().unwrap_or_default();
            out.push((name, field));
            start = i;
        } else if !continuation {
            start = i;
        }
        i = end;
    }
    if i > start {
        let field = &block[start..i];
        let name = field.split(|&c| c == b':').next().unwrap_or_default();
        out.push((name, field));
    }
    out
}

fn filter_fields(fields: Vec<(&[u8], &[u8])>, wanted: &[String], not: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for (name, raw) in fields {
        let name = name.trim_ascii();
        let listed = wanted
            .iter()
            .any(|w| w.as_bytes().eq_ignore_ascii_case(name));
        if listed != not {
            v.extend_from_slice(raw);
        }
    }
    v.extend_from_slice(b"\r\n");
    v
}

/// The bytes a section names (RFC 3501 §6.4.5); empty when the part does not exist.
pub fn section_data(s: &Section, meta: &MessageMeta, body: &[u8]) -> Vec<u8> {
    if s.part.is_empty() {
        return match &s.text {
            None => body.to_vec(),
            Some(SectionText::Header) => header_block(meta, body).to_vec(),
            Some(SectionText::Text) => body
                .get(header_len(meta, body)..)
                .unwrap_or_default()
                .to_vec(),
            Some(SectionText::HeaderFields { not, fields }) => {
                let all = meta
                    .headers
                    .iter()
                    .map(|h| (h.name.as_bytes(), slice(body, h.start, h.end)))
                    .collect();
                filter_fields(all, fields, *not)
            }
            Some(SectionText::Mime) => Vec::new(),
        };
    }
    let Some((part, valid)) = find_part(&meta.structure, &s.part) else {
        return Vec::new();
    };
    if !valid {
        return Vec::new();
    }
    match &s.text {
        None => slice(body, part.body_offset, part.end_offset).to_vec(),
        Some(SectionText::Mime) => slice(body, part.header_offset, part.body_offset).to_vec(),
        Some(text) => {
            // HEADER, TEXT and HEADER.FIELDS of a part name its enclosed message.
            let Some(inner) = part.message.as_ref().filter(|_| part.nested_offsets_valid) else {
                return Vec::new();
            };
            let root = &inner.1;
            let header = slice(body, root.header_offset, root.body_offset);
            match text {
                SectionText::Header => header.to_vec(),
                SectionText::Text => slice(body, root.body_offset, root.end_offset).to_vec(),
                SectionText::HeaderFields { not, fields } => {
                    filter_fields(split_fields(header), fields, *not)
                }
                SectionText::Mime => Vec::new(),
            }
        }
    }
}

/// Walks part numbers down the structure; the flag says whether the offsets found are
/// positions in the stored message.
fn find_part<'a>(root: &'a BodyPart, path: &[u32]) -> Option<(&'a BodyPart, bool)> {
    let mut cur = root;
    let mut valid = true;
    for (i, &n) in path.iter().enumerate() {
        if cur.media_type == "multipart" {
            cur = cur.children.get(n as usize - 1)?;
        } else if n != 1 {
            return None;
        }
        let more = i + 1 < path.len();
        if more && cur.media_type == "message" && cur.media_subtype == "rfc822" {
            valid &= cur.nested_offsets_valid;
            cur = &cur.message.as_ref()?.1;
        }
    }
    Some((cur, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@b.c\r\nSubject: hi\r\n there\r\nX-A: 1\r\n\r\nbody\r\n";

    #[test]
    fn sections_of_a_simple_message() {
        let meta = MessageMeta::parse(MSG);
        let sec = |part: Vec<u32>, text| Section { part, text };
        assert_eq!(section_data(&sec(vec![], None), &meta, MSG), MSG);
        assert_eq!(
            section_data(&sec(vec![], Some(SectionText::Text)), &meta, MSG),
            b"body\r\n"
        );
        assert_eq!(section_data(&sec(vec![1], None), &meta, MSG), b"body\r\n");
        let fields = SectionText::HeaderFields {
            not: false,
            fields: vec!["subject".into()],
        };
        assert_eq!(
            section_data(&sec(vec![], Some(fields)), &meta, MSG),
            b"Subject: hi\r\n there\r\n\r\n"
        );
        assert!(section_data(&sec(vec![2], None), &meta, MSG).is_empty());
    }

    #[test]
    fn header_sections_from_the_kept_header_match_the_body() {
        let meta = MessageMeta::parse(MSG);
        let header = meta.header.clone().unwrap();
        let texts = [
            SectionText::Header,
            SectionText::HeaderFields {
                not: false,
                fields: vec!["subject".into(), "x-a".into()],
            },
            SectionText::HeaderFields {
                not: true,
                fields: vec!["from".into()],
            },
        ];
        for text in texts {
            let sec = Section {
                part: vec![],
                text: Some(text),
            };
            let att = FetchAtt::Section {
                section: sec.clone(),
                partial: None,
                peek: true,
            };
            assert!(att.needs_body() && att.needs_header_only());
            assert_eq!(
                section_data(&sec, &meta, &header),
                section_data(&sec, &meta, MSG)
            );
        }
        let text = FetchAtt::Section {
            section: Section {
                part: vec![],
                text: Some(SectionText::Text),
            },
            partial: None,
            peek: true,
        };
        assert!(!text.needs_header_only());
        assert!(FetchAtt::Rfc822Header.needs_header_only());
        assert_eq!(header_block(&meta, &header), header_block(&meta, MSG));
    }

    #[test]
    fn header_splitting() {
        let f = split_fields(b"A: 1\r\nB: 2\r\n 3\r\n\r\nignored: x\r\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].1, b"B: 2\r\n 3\r\n");
    }
}

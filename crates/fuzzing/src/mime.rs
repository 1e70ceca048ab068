//! A received message, through everything the store does to it before writing it, and what
//! IMAP then serves from the stored metadata.
//!
//! The input is the message as it arrived. Checked:
//! - line ends are made CRLF (`crlf`), and doing it again changes nothing;
//! - the metadata (`MessageMeta::parse`) stays bounded: the structure's depth and part count,
//!   and the size of the stored record against the message's, so that a MIME bomb does not
//!   turn into a huge record;
//! - every offset in it lies inside the message, parts inside their parents, and the kept
//!   header section is the message's header;
//! - the record encodes and decodes to the same metadata;
//! - ENVELOPE, BODY and BODYSTRUCTURE written from it are well-formed IMAP data, and every
//!   part's body decodes (FETCH BINARY) to no more bytes than it has.

use marque_access::imap::{cte, render};
use marque_store::mail::messages::crlf;
use marque_store::mail::{BodyPart, MessageMeta};

use crate::sexp;

/// Deepest structure allowed, counting the root (the store keeps at most 48 levels below it;
/// an enclosed message adds its own root).
const MAX_DEPTH: usize = 2 * 48 + 2;
/// Most parts in one structure (the store keeps at most 2,000, plus the chain of enclosed
/// messages it still describes when the budget is spent).
const MAX_PARTS: usize = 2_100;

/// The fuzz target `mime_message`.
pub fn mime_message(data: &[u8]) {
    let raw = crlf(data);
    check_crlf(&raw);
    assert!(
        matches!(crlf(&raw), std::borrow::Cow::Borrowed(_)),
        "crlf is not idempotent"
    );
    let meta = MessageMeta::parse(&raw);
    let len = u32::try_from(raw.len()).unwrap_or(u32::MAX);

    let mut parts = 0;
    let depth = walk(&meta.structure, len, &raw, &mut parts);
    assert!(depth <= MAX_DEPTH, "structure {depth} deep");
    assert!(parts <= MAX_PARTS, "{parts} parts");

    for h in &meta.headers {
        assert!(h.start <= h.end && h.end <= len, "header field {h:?}");
    }
    if let Some(header) = &meta.header {
        assert_eq!(header.len(), meta.header_size as usize);
        assert!(raw.starts_with(header), "kept header is not the message's");
    }

    let record = marque_store::encode(&meta).expect("metadata encodes");
    assert!(
        record.len() <= 8 * raw.len() + 1024 * 1024,
        "record of {} bytes for a message of {}",
        record.len(),
        raw.len()
    );
    assert!(
        MessageMeta::decode(&record).is_ok_and(|back| back == meta),
        "the record does not decode to the same metadata"
    );

    let mut out = Vec::new();
    render::envelope(&mut out, &meta.envelope);
    sexp::check_one(&out);
    for extended in [false, true] {
        out.clear();
        render::body_structure(&mut out, &meta.structure, extended);
        sexp::check_one(&out);
    }
}

/// Every LF follows a CR, every CR precedes an LF, and a non-empty message ends with CRLF.
fn check_crlf(raw: &[u8]) {
    for (i, &b) in raw.iter().enumerate() {
        match b {
            b'\n' => assert!(i > 0 && raw[i - 1] == b'\r', "bare LF at {i}"),
            b'\r' => assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            _ => {}
        }
    }
    assert!(raw.is_empty() || raw.ends_with(b"\r\n"));
}

/// Checks the offsets of `p` and its descendants; counts the parts; returns the depth.
fn walk(p: &BodyPart, len: u32, raw: &[u8], parts: &mut usize) -> usize {
    *parts += 1;
    assert!(
        p.header_offset <= p.body_offset && p.body_offset <= p.end_offset && p.end_offset <= len,
        "part offsets {}..{}..{} in {len} bytes",
        p.header_offset,
        p.body_offset,
        p.end_offset
    );
    let body = &raw[p.body_offset as usize..p.end_offset as usize];
    if let Some(decoded) = cte::decode(&p.encoding, body) {
        assert!(decoded.len() <= body.len(), "{} decoded grows", p.encoding);
    }
    let mut depth = 0;
    for c in &p.children {
        assert!(
            p.header_offset <= c.header_offset && c.end_offset <= p.end_offset,
            "child outside its parent"
        );
        depth = depth.max(walk(c, len, raw, parts));
    }
    if let Some(inner) = &p.message {
        // An enclosed message parsed from its decoded bytes has offsets of its own.
        let d = if p.nested_offsets_valid {
            walk(&inner.1, len, raw, parts)
        } else {
            *parts += count(&inner.1);
            depth_of(&inner.1)
        };
        depth = depth.max(d);
    }
    depth + 1
}

fn count(p: &BodyPart) -> usize {
    1 + p.children.iter().map(count).sum::<usize>() + p.message.as_ref().map_or(0, |m| count(&m.1))
}

fn depth_of(p: &BodyPart) -> usize {
    1 + p
        .children
        .iter()
        .map(depth_of)
        .chain(p.message.as_ref().map(|m| depth_of(&m.1)))
        .max()
        .unwrap_or(0)
}

//! The bytes a body section names (RFC 3501 §6.4.5, RFC 9051 §6.4.5) and the decoded content
//! BINARY sends (RFC 3516 §4.2), cut from the stored message along the structure kept in its
//! metadata.
//!
//! Part numbers go down through multiparts and into enclosed messages (`message/rfc822` and
//! `message/global`): in `2.1.3`, if part 2 is a message, `1` is the first part of the message
//! it encloses (its body, when that is not a multipart). An enclosed message is written in
//! place, so its parts are sections of the stored message; one that was sent encoded
//! (base64 or quoted-printable, which RFC 2046 §5.2.1 forbids but senders do) is decoded and
//! parsed again here, and its sections cut from the decoded bytes.

use std::borrow::Cow;

use marque_store::mail::{BodyPart, MessageMeta};

use crate::imap::cte;
use crate::imap::parse::fetch::{Section, SectionText};

/// A part found by its number, and the bytes its offsets index.
pub struct Found<'a> {
    pub part: Cow<'a, BodyPart>,
    pub buf: Cow<'a, [u8]>,
}

impl Found<'_> {
    /// The part's body (after its MIME header).
    pub fn body(&self) -> &[u8] {
        slice(&self.buf, self.part.body_offset, self.part.end_offset)
    }
    /// The part's MIME header, blank line included.
    fn mime(&self) -> &[u8] {
        slice(&self.buf, self.part.header_offset, self.part.body_offset)
    }
}

/// The content of a BINARY section could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinaryError {
    /// No such part.
    Missing,
    /// RFC 3516 §4.3 `UNKNOWN-CTE`: a transfer encoding we cannot decode.
    UnknownCte(String),
}

/// True for a part that encloses a message.
fn encloses(p: &BodyPart) -> bool {
    p.media_type == "message" && matches!(p.media_subtype.as_str(), "rfc822" | "global")
}

/// The root part of the message `p` encloses, with the bytes its offsets index.
fn enclosed<'a>(p: &'a BodyPart, buf: &'a [u8]) -> Option<Found<'a>> {
    let inner = p.message.as_ref()?;
    if p.nested_offsets_valid {
        return Some(Found {
            part: Cow::Borrowed(&inner.1),
            buf: Cow::Borrowed(buf),
        });
    }
    // Sent encoded: decode the part and parse what it holds.
    let decoded = cte::decode(&p.encoding, slice(buf, p.body_offset, p.end_offset))?;
    let meta = MessageMeta::parse(&decoded);
    Some(Found {
        part: Cow::Owned(meta.structure),
        buf: Cow::Owned(decoded),
    })
}

/// The part `path` names under `root` (the message's structure over `buf`).
pub fn find<'a>(root: &'a BodyPart, buf: &'a [u8], path: &[u32]) -> Option<Found<'a>> {
    let mut cur = root;
    for (i, &n) in path.iter().enumerate() {
        if cur.media_type == "multipart" {
            cur = cur.children.get((n as usize).checked_sub(1)?)?;
        } else if n != 1 {
            // A part that is not a multipart has one part: itself.
            return None;
        }
        if i + 1 < path.len() && encloses(cur) {
            let inner = enclosed(cur, buf)?;
            match (inner.part, inner.buf) {
                (Cow::Borrowed(p), Cow::Borrowed(_)) => cur = p,
                (part, decoded) => {
                    // Decoded: go on inside the decoded message, and own what is found.
                    let rest = &path[i + 1..];
                    let found = find(&part, &decoded, rest)?;
                    return Some(Found {
                        part: Cow::Owned(found.part.into_owned()),
                        buf: Cow::Owned(found.buf.into_owned()),
                    });
                }
            }
        }
    }
    Some(Found {
        part: Cow::Borrowed(cur),
        buf: Cow::Borrowed(buf),
    })
}

/// The header section of a message of `meta`, from `body` (the message or its header).
fn header_block<'a>(meta: &MessageMeta, body: &'a [u8]) -> &'a [u8] {
    &body[..header_len(meta, body)]
}

/// Length of the header section of `body`.
pub fn header_len(meta: &MessageMeta, body: &[u8]) -> usize {
    (meta.header_size as usize).min(body.len())
}

/// The header section of the message (RFC822.HEADER).
pub fn header(meta: &MessageMeta, body: &[u8]) -> Vec<u8> {
    header_block(meta, body).to_vec()
}

fn slice(body: &[u8], from: u32, to: u32) -> &[u8] {
    body.get(from as usize..to as usize).unwrap_or_default()
}

/// The header fields of a header block, each with its raw bytes (continuation lines included).
/// Used for enclosed messages, whose header index is not stored.
pub fn split_fields(block: &[u8]) -> Vec<(&[u8], &[u8])> {
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

/// The bytes a section names (RFC 3501 §6.4.5); empty when the part does not exist. `body` is
/// the message, or for the message's own header sections its header section.
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
    let Some(found) = find(&meta.structure, body, &s.part) else {
        return Vec::new();
    };
    match &s.text {
        None => found.body().to_vec(),
        Some(SectionText::Mime) => found.mime().to_vec(),
        Some(text) => {
            // HEADER, TEXT and HEADER.FIELDS after a part number name the message that part
            // encloses; other parts have none.
            if !encloses(&found.part) {
                return Vec::new();
            }
            let Some(inner) = enclosed(&found.part, &found.buf) else {
                return Vec::new();
            };
            let header = inner.mime();
            match text {
                SectionText::Header => header.to_vec(),
                SectionText::Text => inner.body().to_vec(),
                SectionText::HeaderFields { not, fields } => {
                    filter_fields(split_fields(header), fields, *not)
                }
                SectionText::Mime => Vec::new(),
            }
        }
    }
}

/// The content of `BINARY[part]` (RFC 3516 §4.2): the part decoded from its
/// Content-Transfer-Encoding. The whole message (`[]`), a multipart and an enclosed message
/// are sent as they are, having no transfer encoding of their own to undo.
pub fn binary<'a>(
    part: &[u32],
    meta: &'a MessageMeta,
    body: &'a [u8],
) -> Result<Cow<'a, [u8]>, BinaryError> {
    if part.is_empty() {
        return Ok(Cow::Borrowed(body));
    }
    let found = find(&meta.structure, body, part).ok_or(BinaryError::Missing)?;
    let p = &found.part;
    if p.media_type == "multipart" || (encloses(p) && p.nested_offsets_valid) {
        return Ok(Cow::Owned(found.body().to_vec()));
    }
    cte::decode(&p.encoding, found.body())
        .map(Cow::Owned)
        .ok_or_else(|| BinaryError::UnknownCte(p.encoding.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@b.c\r\nSubject: hi\r\n there\r\nX-A: 1\r\n\r\nbody\r\n";

    fn sec(part: &[u32], text: Option<SectionText>) -> Section {
        Section {
            part: part.to_vec(),
            text,
        }
    }

    fn fields(not: bool, names: &[&str]) -> Option<SectionText> {
        Some(SectionText::HeaderFields {
            not,
            fields: names.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn sections_of_a_simple_message() {
        let meta = MessageMeta::parse(MSG);
        assert_eq!(section_data(&sec(&[], None), &meta, MSG), MSG);
        assert_eq!(
            section_data(&sec(&[], Some(SectionText::Text)), &meta, MSG),
            b"body\r\n"
        );
        assert_eq!(section_data(&sec(&[1], None), &meta, MSG), b"body\r\n");
        assert_eq!(
            section_data(&sec(&[], fields(false, &["subject"])), &meta, MSG),
            b"Subject: hi\r\n there\r\n\r\n"
        );
        assert!(section_data(&sec(&[2], None), &meta, MSG).is_empty());
        // HEADER of a part that is not a message names nothing.
        assert!(section_data(&sec(&[1], Some(SectionText::Header)), &meta, MSG).is_empty());
    }

    #[test]
    fn header_sections_from_the_kept_header_match_the_body() {
        let meta = MessageMeta::parse(MSG);
        let header = meta.header.clone().unwrap();
        for text in [
            Some(SectionText::Header),
            fields(false, &["subject", "x-a"]),
            fields(true, &["from"]),
        ] {
            let s = sec(&[], text);
            assert_eq!(
                section_data(&s, &meta, &header),
                section_data(&s, &meta, MSG)
            );
        }
        assert_eq!(header_block(&meta, &header), header_block(&meta, MSG));
    }

    #[test]
    fn header_splitting() {
        let f = split_fields(b"A: 1\r\nB: 2\r\n 3\r\n\r\nignored: x\r\n");
        assert_eq!(f.len(), 2);
        assert_eq!(f[1].1, b"B: 2\r\n 3\r\n");
    }

    /// A forwarded message sent base64-encoded: its sections come from the decoded bytes.
    #[test]
    fn an_encoded_enclosed_message_is_decoded() {
        use base64::Engine;
        let inner = b"From: c@d.example\r\nSubject: inner\r\n\r\ninner body\r\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
        let raw = format!(
            "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n\
             --x\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --x\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {encoded}\r\n--x--\r\n"
        );
        let raw = raw.as_bytes();
        let meta = MessageMeta::parse(raw);
        assert!(!meta.structure.children[1].nested_offsets_valid);
        // BODY[2] is the part as stored, encoded.
        assert!(section_data(&sec(&[2], None), &meta, raw).starts_with(encoded.as_bytes()));
        assert_eq!(
            section_data(&sec(&[2], Some(SectionText::Header)), &meta, raw),
            b"From: c@d.example\r\nSubject: inner\r\n\r\n"
        );
        assert_eq!(
            section_data(&sec(&[2], Some(SectionText::Text)), &meta, raw),
            b"inner body\r\n"
        );
        assert_eq!(
            section_data(&sec(&[2, 1], None), &meta, raw),
            b"inner body\r\n"
        );
        assert_eq!(
            section_data(&sec(&[2], fields(false, &["Subject"])), &meta, raw),
            b"Subject: inner\r\n\r\n"
        );
        // BINARY[2] undoes the base64: the enclosed message itself.
        assert_eq!(binary(&[2], &meta, raw).unwrap().as_ref(), inner);
    }
}

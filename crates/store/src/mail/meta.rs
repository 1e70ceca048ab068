//! Message metadata parsed once, when the message is written, so that FETCH never re-parses:
//! the envelope (RFC 9051 §7.5.2), the body structure with the byte offsets of every part, and
//! an index of header fields.

use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use serde::{Deserialize, Serialize};

/// Most nested parts kept in a structure; deeper or wider trees are cut (a MIME bomb does not
/// grow the metadata without bound).
const MAX_PARTS: usize = 2000;
/// Deepest nesting kept; deeper parts are left out of the structure (and the message is marked
/// malformed), so neither the walk nor the stored record can recurse without bound.
const MAX_DEPTH: usize = 48;
/// Largest header section kept in the metadata. Header sections are a few KiB; a larger one
/// is served from the body.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// One address of an envelope, split as IMAP sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeAddress {
    /// Display name, decoded.
    pub name: Option<String>,
    /// Local part.
    pub mailbox: Option<String>,
    /// Domain.
    pub host: Option<String>,
}

/// The envelope. Unstructured fields keep their raw header text (trimmed), as IMAP wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvelopeAddress>,
    pub sender: Vec<EnvelopeAddress>,
    pub reply_to: Vec<EnvelopeAddress>,
    pub to: Vec<EnvelopeAddress>,
    pub cc: Vec<EnvelopeAddress>,
    pub bcc: Vec<EnvelopeAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One MIME part. Offsets are byte positions in the stored message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyPart {
    /// Lower-case media type and subtype (`text`, `plain`).
    pub media_type: String,
    pub media_subtype: String,
    /// Content-Type parameters.
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding as written (`7bit` if absent).
    pub encoding: String,
    /// Content-Disposition and its parameters.
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Where the part's header starts, where its body starts and where it ends.
    pub header_offset: u32,
    pub body_offset: u32,
    pub end_offset: u32,
    /// Lines of the body (for text parts and message/rfc822).
    pub lines: u32,
    /// Sub-parts of a multipart.
    pub children: Vec<BodyPart>,
    /// For message/rfc822: the enclosed message's envelope and structure. Its offsets are
    /// positions in the enclosing message when `nested_offsets_valid`; an encoded enclosed
    /// message was parsed from its decoded bytes and they are not.
    pub message: Option<Box<(Envelope, BodyPart)>>,
    pub nested_offsets_valid: bool,
}

/// One header field: its name and where it lies in the stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    pub name: String,
    /// Offset of the field name and the end of the field (after its CRLF).
    pub start: u32,
    pub end: u32,
}

/// Everything FETCH, SEARCH and SORT need without reading the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageMeta {
    pub envelope: Envelope,
    pub structure: BodyPart,
    pub headers: Vec<HeaderField>,
    /// Size of the header block, including the blank line.
    pub header_size: u32,
    /// The Date header parsed, as seconds since the epoch.
    pub sent_date: Option<i64>,
    /// The References header's message-ids, for THREAD.
    pub references: Vec<String>,
    /// True if the parser met malformed MIME somewhere (still stored, as-is).
    pub malformed: bool,
    /// The header section (`header_size` bytes, blank line included) when it is at most
    /// [`MAX_HEADER_BYTES`], so that header fetches and header searches need not read and
    /// decompress the body. `None` for larger headers and for records written before it was
    /// kept (see [`MessageMeta::decode`]).
    pub header: Option<Vec<u8>>,
}

/// The layout of [`MessageMeta`] before the header section was kept, still decoded for old
/// records.
#[derive(Deserialize)]
struct MessageMetaV1 {
    envelope: Envelope,
    structure: BodyPart,
    headers: Vec<HeaderField>,
    header_size: u32,
    sent_date: Option<i64>,
    references: Vec<String>,
    malformed: bool,
}

impl MessageMeta {
    /// Parses `raw`. Never fails: unparseable input gives a single `text/plain` part.
    pub fn parse(raw: &[u8]) -> MessageMeta {
        let Some(msg) = MessageParser::default().parse(raw) else {
            return MessageMeta::opaque(raw);
        };
        let mut budget = MAX_PARTS;
        let mut malformed = false;
        let structure = part_tree(&msg, 0, 0, &mut budget, &mut malformed, true);
        let root = msg.root_part();
        let headers = root
            .headers
            .iter()
            .map(|h| HeaderField {
                name: h.name.as_str().to_string(),
                start: h.offset_field,
                end: h.offset_end,
            })
            .collect();
        let references = match msg.references() {
            HeaderValue::Text(t) => vec![t.to_string()],
            HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        let header_size = root.offset_body.saturating_sub(root.offset_header);
        let header = raw
            .get(root.offset_header as usize..root.offset_body as usize)
            .filter(|h| root.offset_header == 0 && h.len() <= MAX_HEADER_BYTES)
            .map(<[u8]>::to_vec);
        MessageMeta {
            envelope: envelope(&msg),
            header_size,
            structure,
            headers,
            sent_date: msg.date().map(|d| d.to_timestamp()),
            references,
            malformed,
            header,
        }
    }

    /// Decodes a stored record of either layout: the current one, or the one written before
    /// the header section was kept (read with `header: None`).
    pub fn decode(bytes: &[u8]) -> std::result::Result<MessageMeta, postcard::Error> {
        match postcard::from_bytes::<MessageMeta>(bytes) {
            Ok(m) => Ok(m),
            Err(e) => match postcard::from_bytes::<MessageMetaV1>(bytes) {
                Ok(v1) => Ok(MessageMeta {
                    envelope: v1.envelope,
                    structure: v1.structure,
                    headers: v1.headers,
                    header_size: v1.header_size,
                    sent_date: v1.sent_date,
                    references: v1.references,
                    malformed: v1.malformed,
                    header: None,
                }),
                Err(_) => Err(e),
            },
        }
    }

    fn opaque(raw: &[u8]) -> MessageMeta {
        let len = u32::try_from(raw.len()).unwrap_or(u32::MAX);
        MessageMeta {
            structure: BodyPart {
                media_type: "text".into(),
                media_subtype: "plain".into(),
                encoding: "7bit".into(),
                end_offset: len,
                lines: count_lines(raw),
                ..BodyPart::default()
            },
            malformed: true,
            ..MessageMeta::default()
        }
    }

    /// The bytes header fields can be sliced from: the kept header section, else `raw` (the
    /// whole message).
    pub fn header_source<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        self.header.as_deref().unwrap_or(raw)
    }

    /// Raw bytes of the header field `name` (every occurrence, in order), sliced from `raw`
    /// (the message or its header section).
    pub fn header_fields<'a>(
        &'a self,
        raw: &'a [u8],
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .filter_map(move |h| raw.get(h.start as usize..h.end as usize))
    }
}

fn count_lines(b: &[u8]) -> u32 {
    u32::try_from(b.iter().filter(|&&c| c == b'\n').count()).unwrap_or(u32::MAX)
}

fn raw_text(msg: &Message<'_>, name: &str) -> Option<String> {
    msg.header_raw(name).map(|v| v.trim().to_string())
}

fn addresses(a: Option<&Address<'_>>) -> Vec<EnvelopeAddress> {
    let Some(a) = a else { return Vec::new() };
    let one = |addr: &mail_parser::Addr<'_>| {
        let (mailbox, host) = match addr.address.as_deref() {
            Some(full) => match full.rsplit_once('@') {
                Some((l, d)) => (Some(l.to_string()), Some(d.to_string())),
                None => (Some(full.to_string()), None),
            },
            None => (None, None),
        };
        EnvelopeAddress {
            name: addr.name.as_deref().map(str::to_string),
            mailbox,
            host,
        }
    };
    match a {
        Address::List(list) => list.iter().map(one).collect(),
        Address::Group(groups) => groups
            .iter()
            .flat_map(|g| {
                // RFC 9051 §7.5.2: a group is a start marker (NIL host, name as mailbox), its
                // members, then an end marker (NIL mailbox and host).
                let start = EnvelopeAddress {
                    name: None,
                    mailbox: g.name.as_deref().map(str::to_string),
                    host: None,
                };
                let end = EnvelopeAddress {
                    name: None,
                    mailbox: None,
                    host: None,
                };
                std::iter::once(start)
                    .chain(g.addresses.iter().map(one))
                    .chain(std::iter::once(end))
            })
            .collect(),
    }
}

fn envelope(msg: &Message<'_>) -> Envelope {
    let from = addresses(msg.from());
    // RFC 9051 §7.5.2: Sender and Reply-To default to From.
    let sender = match addresses(msg.sender()) {
        s if s.is_empty() => from.clone(),
        s => s,
    };
    let reply_to = match addresses(msg.reply_to()) {
        r if r.is_empty() => from.clone(),
        r => r,
    };
    Envelope {
        date: raw_text(msg, "Date"),
        subject: raw_text(msg, "Subject"),
        from,
        sender,
        reply_to,
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        bcc: addresses(msg.bcc()),
        in_reply_to: raw_text(msg, "In-Reply-To"),
        message_id: raw_text(msg, "Message-ID"),
    }
}

fn params(ct: Option<&mail_parser::ContentType<'_>>) -> Vec<(String, String)> {
    ct.and_then(|c| c.attributes())
        .map(|attrs| {
            attrs
                .iter()
                .map(|a| (a.name.to_lowercase(), a.value.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn part_tree(
    msg: &Message<'_>,
    id: usize,
    depth: usize,
    budget: &mut usize,
    malformed: &mut bool,
    offsets_valid: bool,
) -> BodyPart {
    let Some(part) = msg.parts.get(id) else {
        *malformed = true;
        return BodyPart::default();
    };
    *budget = budget.saturating_sub(1);
    *malformed |= part.is_encoding_problem;
    let mut bp = describe(part);
    let raw = msg.raw_message();
    match &part.body {
        PartType::Multipart(children) => {
            for &child in children {
                if *budget == 0 || depth >= MAX_DEPTH {
                    *malformed = true;
                    break;
                }
                bp.children.push(part_tree(
                    msg,
                    child as usize,
                    depth + 1,
                    budget,
                    malformed,
                    offsets_valid,
                ));
            }
        }
        PartType::Message(inner) => {
            // Enclosed messages parsed in place share the outer buffer; encoded ones do not.
            let same_buffer = inner.raw_message().len() == raw.len();
            if depth < MAX_DEPTH {
                let inner_tree = part_tree(inner, 0, depth + 1, budget, malformed, same_buffer);
                bp.message = Some(Box::new((envelope(inner), inner_tree)));
            } else {
                *malformed = true;
            }
            bp.nested_offsets_valid = same_buffer && offsets_valid;
            bp.lines = body_lines(raw, part);
        }
        PartType::Text(_) | PartType::Html(_) => bp.lines = body_lines(raw, part),
        PartType::Binary(_) | PartType::InlineBinary(_) => {}
    }
    bp
}

fn body_lines(raw: &[u8], part: &MessagePart<'_>) -> u32 {
    raw.get(part.offset_body as usize..part.offset_end as usize)
        .map(count_lines)
        .unwrap_or(0)
}

fn describe(part: &MessagePart<'_>) -> BodyPart {
    let ct = part.content_type();
    let (media_type, media_subtype) = match ct {
        Some(c) => (
            c.ctype().to_lowercase(),
            c.subtype()
                .map(str::to_lowercase)
                .unwrap_or_else(|| "plain".into()),
        ),
        None => ("text".into(), "plain".into()),
    };
    let disposition = part
        .content_disposition()
        .map(|d| (d.ctype().to_lowercase(), params(Some(d))));
    let language = match part.content_language() {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    };
    BodyPart {
        media_type,
        media_subtype,
        params: params(ct),
        id: part.content_id().map(|s| format!("<{s}>")),
        description: part.content_description().map(str::to_string),
        encoding: part
            .content_transfer_encoding()
            .map(str::to_lowercase)
            .unwrap_or_else(|| "7bit".into()),
        disposition,
        language,
        location: part.content_location().map(str::to_string),
        header_offset: part.offset_header,
        body_offset: part.offset_body,
        end_offset: part.offset_end,
        ..BodyPart::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &str = "From: Ann Example <ann@example.com>\r\n\
To: bob@example.net, Team: carl@example.org, dee@example.org;\r\n\
Subject: =?utf-8?q?caf=C3=A9?= plans\r\n\
Date: Sat, 21 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <m1@example.com>\r\n\
References: <a@x> <b@y>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
hello\r\n\
world\r\n\
--b1\r\n\
Content-Type: application/pdf; name=\"a.pdf\"\r\n\
Content-Disposition: attachment; filename=\"a.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--b1--\r\n";

    #[test]
    fn envelope_and_structure_with_offsets() {
        let m = MessageMeta::parse(MULTI.as_bytes());
        let e = &m.envelope;
        assert_eq!(
            e.subject.as_deref(),
            Some("=?utf-8?q?caf=C3=A9?= plans"),
            "raw subject kept"
        );
        assert_eq!(e.from[0].name.as_deref(), Some("Ann Example"));
        assert_eq!(e.from[0].mailbox.as_deref(), Some("ann"));
        assert_eq!(e.from[0].host.as_deref(), Some("example.com"));
        assert_eq!(e.sender, e.from, "Sender defaults to From");
        assert_eq!(e.message_id.as_deref(), Some("<m1@example.com>"));
        assert_eq!(m.references.len(), 2);
        assert!(m.sent_date.is_some());
        let s = &m.structure;
        assert_eq!(
            (s.media_type.as_str(), s.media_subtype.as_str()),
            ("multipart", "mixed")
        );
        assert_eq!(s.children.len(), 2);
        let text = &s.children[0];
        assert_eq!(text.media_subtype, "plain");
        let body = &MULTI.as_bytes()[text.body_offset as usize..text.end_offset as usize];
        assert!(
            body.starts_with(b"hello\r\nworld"),
            "offsets point at the part body"
        );
        let pdf = &s.children[1];
        assert_eq!(pdf.encoding, "base64");
        assert_eq!(
            pdf.disposition.as_ref().map(|d| d.0.as_str()),
            Some("attachment")
        );
        let subj: Vec<_> = m.header_fields(MULTI.as_bytes(), "subject").collect();
        assert_eq!(subj.len(), 1);
        assert!(subj[0].starts_with(b"Subject: "));
        assert_eq!(
            &MULTI.as_bytes()[m.header_size as usize - 2..m.header_size as usize],
            b"\r\n"
        );
    }

    #[test]
    fn group_addresses_have_markers() {
        let m = MessageMeta::parse(MULTI.as_bytes());
        let to = &m.envelope.to;
        assert!(
            to.iter()
                .any(|a| a.mailbox.as_deref() == Some("Team") && a.host.is_none())
        );
        assert!(to.iter().any(|a| a.mailbox.is_none() && a.host.is_none()));
    }

    #[test]
    fn garbage_and_bombs_are_bounded() {
        let m = MessageMeta::parse(b"\xff\xfe not a message");
        assert_eq!(m.structure.media_type, "text");
        // 5,000 nested multiparts: the tree is cut, parsing terminates.
        let mut bomb = String::new();
        for i in 0..5000 {
            bomb.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
            ));
        }
        let m = MessageMeta::parse(bomb.as_bytes());
        fn depth(p: &BodyPart) -> usize {
            1 + p.children.iter().map(depth).max().unwrap_or(0)
        }
        assert!(depth(&m.structure) <= MAX_DEPTH + 1);
        assert!(m.malformed);
        // The record encodes and decodes (no unbounded recursion there either).
        let bytes = crate::keyspace::encode(&m).unwrap();
        let back: MessageMeta =
            crate::keyspace::decode(crate::Keyspace::MessageMeta, &bytes).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn header_section_is_kept_and_old_records_decode() {
        let m = MessageMeta::parse(MULTI.as_bytes());
        let header = m.header.as_deref().unwrap();
        assert_eq!(header.len(), m.header_size as usize);
        assert!(header.starts_with(b"From: Ann"));
        assert!(header.ends_with(b"boundary=\"b1\"\r\n\r\n"));
        // Field offsets index the kept section as they index the message.
        let subject: Vec<&[u8]> = m.header_fields(header, "subject").collect();
        assert_eq!(subject, [&b"Subject: =?utf-8?q?caf=C3=A9?= plans\r\n"[..]]);
        assert_eq!(m.header_source(b"ignored"), header);

        // A record of the layout without the header section reads back with `header: None`.
        #[derive(Serialize)]
        struct Old<'a> {
            envelope: &'a Envelope,
            structure: &'a BodyPart,
            headers: &'a [HeaderField],
            header_size: u32,
            sent_date: Option<i64>,
            references: &'a [String],
            malformed: bool,
        }
        let old = crate::keyspace::encode(&Old {
            envelope: &m.envelope,
            structure: &m.structure,
            headers: &m.headers,
            header_size: m.header_size,
            sent_date: m.sent_date,
            references: &m.references,
            malformed: m.malformed,
        })
        .unwrap();
        let back = MessageMeta::decode(&old).unwrap();
        assert_eq!(back.header, None);
        assert_eq!(back.envelope, m.envelope);
        assert_eq!(back.header_source(MULTI.as_bytes()), MULTI.as_bytes());
        let new = crate::keyspace::encode(&m).unwrap();
        assert_eq!(MessageMeta::decode(&new).unwrap(), m);
        assert!(MessageMeta::decode(b"\x01").is_err());

        // A header section above the bound is not kept.
        let big = format!("X-Big: {}\r\n\r\nbody\r\n", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(MessageMeta::parse(big.as_bytes()).header, None);
    }
}

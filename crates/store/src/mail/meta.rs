//! Message metadata parsed once, when the message is written, so that FETCH never re-parses:
//! the envelope (RFC 9051 §7.5.2), the body structure with the byte offsets of every part, and
//! an index of header fields.

use mail_parser::{HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod address;
mod legacy;

pub use address::address_list;

/// Most nested parts kept in a structure; deeper or wider trees are cut (a MIME bomb does not
/// grow the metadata without bound).
const MAX_PARTS: usize = 2000;
/// Deepest nesting kept; deeper parts are left out of the structure (and the message is marked
/// malformed), so neither the walk nor the stored record can recurse without bound.
const MAX_DEPTH: usize = 48;
/// Largest header section kept in the metadata. Header sections are a few KiB; a larger one
/// is served from the body.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// One address of an envelope, split as IMAP sends it (RFC 3501 §7.4.2). A group start has
/// no host and the group's name as `mailbox`; a group end has neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeAddress {
    /// Display name as written (quotes removed, encoded words left encoded).
    pub name: Option<String>,
    /// Obsolete source route (`@a.example,@b.example`).
    pub route: Option<String>,
    /// Local part.
    pub mailbox: Option<String>,
    /// Domain; empty for an address written without one.
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
///
/// Stored as a record that starts with its layout number ([`LAYOUT`]); records of the earlier
/// layouts, which had none, are still read ([`MessageMeta::decode`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Read from a record of an earlier layout that describes this message wrongly: one with
    /// an enclosed message (whose offsets and line counts those layouts got wrong) or an
    /// address group. Readers parse the body again ([`crate::mail::shared_meta`] does).
    /// Never stored.
    pub outdated: bool,
}

/// The layout of the record written now: its first byte. Records of the two layouts before
/// it start with `0` or `1` (the tag of the envelope's optional date), so the first byte tells
/// every layout apart.
pub const LAYOUT: u8 = 3;

/// The record as written: the layout number, then the fields.
#[derive(Serialize)]
struct WireOut<'a> {
    layout: u8,
    envelope: &'a Envelope,
    structure: &'a BodyPart,
    headers: &'a [HeaderField],
    header_size: u32,
    sent_date: Option<i64>,
    references: &'a [String],
    malformed: bool,
    header: &'a Option<Vec<u8>>,
}

/// The record as read.
#[derive(Deserialize)]
struct WireIn {
    layout: u8,
    envelope: Envelope,
    structure: BodyPart,
    headers: Vec<HeaderField>,
    header_size: u32,
    sent_date: Option<i64>,
    references: Vec<String>,
    malformed: bool,
    header: Option<Vec<u8>>,
}

impl Serialize for MessageMeta {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        WireOut {
            layout: LAYOUT,
            envelope: &self.envelope,
            structure: &self.structure,
            headers: &self.headers,
            header_size: self.header_size,
            sent_date: self.sent_date,
            references: &self.references,
            malformed: self.malformed,
            header: &self.header,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for MessageMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = WireIn::deserialize(d)?;
        if w.layout != LAYOUT {
            return Err(serde::de::Error::custom(format!(
                "message metadata of layout {}",
                w.layout
            )));
        }
        Ok(MessageMeta {
            envelope: w.envelope,
            structure: w.structure,
            headers: w.headers,
            header_size: w.header_size,
            sent_date: w.sent_date,
            references: w.references,
            malformed: w.malformed,
            header: w.header,
            outdated: false,
        })
    }
}

impl MessageMeta {
    /// Parses `raw`. Never fails: unparseable input gives a single `text/plain` part.
    pub fn parse(raw: &[u8]) -> MessageMeta {
        let Some(msg) = MessageParser::default().parse(raw) else {
            return MessageMeta::opaque(raw);
        };
        let mut budget = MAX_PARTS;
        let mut malformed = false;
        let structure = part_tree(&msg, 0, 0, &mut budget, &mut malformed, true, false);
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
            outdated: false,
        }
    }

    /// Decodes a stored record of any layout: the current one ([`LAYOUT`]), or one of the two
    /// written before (with no source routes in their addresses, and the second without the
    /// header section: read with `header: None`).
    pub fn decode(bytes: &[u8]) -> std::result::Result<MessageMeta, postcard::Error> {
        match bytes.first() {
            Some(&LAYOUT) => postcard::from_bytes::<MessageMeta>(bytes),
            _ => legacy::decode(bytes),
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

/// The bytes `msg`'s offsets index: for an enclosed message parsed in place, the whole
/// enclosing message (`Message::raw_message()` would be the enclosed message's own bytes).
fn buffer<'a>(msg: &'a Message<'_>) -> &'a [u8] {
    &msg.raw_message
}

/// The first `name` field of the message's header, as written (after the colon), invalid
/// UTF-8 replaced.
fn raw_field(msg: &Message<'_>, name: &str) -> Option<String> {
    let h = msg
        .root_part()
        .headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
    let bytes = buffer(msg).get(h.offset_start as usize..h.offset_end as usize)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// An unstructured field for the envelope: its raw text, trimmed.
fn raw_text(msg: &Message<'_>, name: &str) -> Option<String> {
    raw_field(msg, name).map(|v| v.trim().to_string())
}

/// An address field for the envelope, read as written (RFC 3501 §7.4.2).
fn addresses(msg: &Message<'_>, name: &str) -> Vec<EnvelopeAddress> {
    raw_field(msg, name)
        .map(|v| address_list(&v))
        .unwrap_or_default()
}

fn envelope(msg: &Message<'_>) -> Envelope {
    let from = addresses(msg, "From");
    // RFC 3501 §7.4.2: Sender and Reply-To, absent or empty, are From.
    let sender = match addresses(msg, "Sender") {
        s if s.is_empty() => from.clone(),
        s => s,
    };
    let reply_to = match addresses(msg, "Reply-To") {
        r if r.is_empty() => from.clone(),
        r => r,
    };
    Envelope {
        date: raw_text(msg, "Date"),
        subject: raw_text(msg, "Subject"),
        from,
        sender,
        reply_to,
        to: addresses(msg, "To"),
        cc: addresses(msg, "Cc"),
        bcc: addresses(msg, "Bcc"),
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

/// The structure of part `id` of `msg`. `offsets_valid` says whether `msg`'s offsets are
/// positions in the stored message; `in_digest` whether the part's parent is a
/// multipart/digest (whose parts are message/rfc822 by default, RFC 2046 §5.1.5).
fn part_tree(
    msg: &Message<'_>,
    id: usize,
    depth: usize,
    budget: &mut usize,
    malformed: &mut bool,
    offsets_valid: bool,
    in_digest: bool,
) -> BodyPart {
    let Some(part) = msg.parts.get(id) else {
        *malformed = true;
        return BodyPart::default();
    };
    *budget = budget.saturating_sub(1);
    *malformed |= part.is_encoding_problem;
    let mut bp = describe(part, in_digest);
    let raw = buffer(msg);
    match &part.body {
        PartType::Multipart(children) => {
            let digest = bp.media_subtype == "digest";
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
                    digest,
                ));
            }
        }
        PartType::Message(inner) => {
            // Enclosed messages parsed in place share the outer buffer; encoded ones were
            // parsed from their decoded bytes (FETCH decodes them again to cut sections).
            let inner_raw = buffer(inner);
            let same_buffer = inner_raw.as_ptr() == raw.as_ptr() && inner_raw.len() == raw.len();
            let valid = same_buffer && offsets_valid;
            if depth < MAX_DEPTH {
                let inner_tree = part_tree(inner, 0, depth + 1, budget, malformed, valid, false);
                bp.message = Some(Box::new((envelope(inner), inner_tree)));
            } else {
                *malformed = true;
            }
            bp.nested_offsets_valid = valid;
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

fn describe(part: &MessagePart<'_>, in_digest: bool) -> BodyPart {
    let ct = part.content_type();
    let (media_type, media_subtype, type_params) = match ct {
        Some(c) => (
            c.ctype().to_lowercase(),
            c.subtype()
                .map(str::to_lowercase)
                .unwrap_or_else(|| "plain".into()),
            params(ct),
        ),
        // RFC 2046 §5.1.5: in a digest, a part without Content-Type is a message.
        None if in_digest => ("message".into(), "rfc822".into(), Vec::new()),
        // RFC 2045 §5.2: without Content-Type, plain US-ASCII text.
        None => (
            "text".into(),
            "plain".into(),
            vec![("charset".into(), "us-ascii".into())],
        ),
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
        params: type_params,
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
        let addr = |mailbox: Option<&str>, host: Option<&str>| EnvelopeAddress {
            name: None,
            route: None,
            mailbox: mailbox.map(str::to_string),
            host: host.map(str::to_string),
        };
        // RFC 3501 §7.4.2: `bob, Team: carl, dee;` is bob, the start of Team (no host), its
        // two members and the end (no mailbox, no host).
        assert_eq!(
            m.envelope.to,
            [
                addr(Some("bob"), Some("example.net")),
                addr(Some("Team"), None),
                addr(Some("carl"), Some("example.org")),
                addr(Some("dee"), Some("example.org")),
                addr(None, None),
            ]
        );
        assert!(m.envelope.cc.is_empty());
    }

    #[test]
    fn envelope_fields_as_written() {
        let raw = "From: =?utf-8?q?Ren=C3=A9?= <rene@example.com>\r\n\
Sender:\r\n\
Reply-To: \"Doe, Jane\" <jane@example.com>\r\n\
To: undisclosed-recipients:;\r\n\
Cc: <@relay.example:kim@example.org>, root\r\n\
Subject: hi\r\n\
\r\n\
body\r\n";
        let e = MessageMeta::parse(raw.as_bytes()).envelope;
        assert_eq!(e.from[0].name.as_deref(), Some("=?utf-8?q?Ren=C3=A9?="));
        assert_eq!(e.sender, e.from, "an empty Sender is From");
        assert_eq!(e.reply_to[0].name.as_deref(), Some("Doe, Jane"));
        assert_eq!(e.to.len(), 2, "an empty group is its two markers");
        assert_eq!(e.to[0].mailbox.as_deref(), Some("undisclosed-recipients"));
        assert_eq!(
            (e.to[1].mailbox.as_ref(), e.to[1].host.as_ref()),
            (None, None)
        );
        assert_eq!(e.cc[0].route.as_deref(), Some("@relay.example"));
        assert_eq!(e.cc[1].mailbox.as_deref(), Some("root"));
        assert_eq!(
            e.cc[1].host.as_deref(),
            Some(""),
            "no domain is not a group"
        );
    }

    #[test]
    fn an_enclosed_message_in_place() {
        let inner = "From: Carl <carl@example.org>\r\nSubject: plans\r\n\r\nline 1\r\nline 2\r\n";
        let raw = format!(
            "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n\
             --o\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --o\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--o--\r\n"
        );
        let m = MessageMeta::parse(raw.as_bytes());
        let part = &m.structure.children[1];
        // Its offsets, and those of the message it encloses, are positions in the message.
        assert!(part.nested_offsets_valid);
        let at = |p: &BodyPart| &raw[p.body_offset as usize..p.end_offset as usize];
        assert_eq!(at(part), inner);
        assert_eq!(part.lines, 5);
        let (envelope, root) = &**part.message.as_ref().unwrap();
        assert_eq!(envelope.subject.as_deref(), Some("plans"));
        assert_eq!(envelope.from[0].name.as_deref(), Some("Carl"));
        assert_eq!(envelope.from[0].host.as_deref(), Some("example.org"));
        assert_eq!(at(root), "line 1\r\nline 2\r\n");
        assert_eq!(root.lines, 2);
        assert_eq!(
            &raw[root.header_offset as usize..root.body_offset as usize],
            "From: Carl <carl@example.org>\r\nSubject: plans\r\n\r\n"
        );
        // Without Content-Type: text/plain; charset=us-ascii (RFC 2045 §5.2).
        assert_eq!(
            root.params,
            [("charset".to_string(), "us-ascii".to_string())]
        );
    }

    #[test]
    fn digest_parts_are_messages() {
        // RFC 2046 §5.1.5: in a multipart/digest, a part without Content-Type is a message.
        let raw = "Content-Type: multipart/digest; boundary=\"d\"\r\n\r\n\
                   --d\r\n\r\nFrom: m1@example.com\r\nSubject: m1\r\n\r\nm1 body\r\n\
                   --d--\r\n";
        let m = MessageMeta::parse(raw.as_bytes());
        let part = &m.structure.children[0];
        assert_eq!(
            (part.media_type.as_str(), part.media_subtype.as_str()),
            ("message", "rfc822")
        );
        assert!(part.nested_offsets_valid);
        let (envelope, _) = &**part.message.as_ref().unwrap();
        assert_eq!(envelope.subject.as_deref(), Some("m1"));
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

        // Records of the two earlier layouts read back: without the header section (as
        // `header: None`) and with it, and neither with routes.
        let v2 = legacy::MetaV2 {
            envelope: legacy::old_envelope(&m.envelope),
            structure: legacy::old_part(&m.structure),
            headers: m.headers.clone(),
            header_size: m.header_size,
            sent_date: m.sent_date,
            references: m.references.clone(),
            malformed: m.malformed,
            header: m.header.clone(),
        };
        let old = crate::keyspace::encode(&v2).unwrap();
        assert!(old[0] < LAYOUT);
        // MULTI has a group, which those layouts could get wrong: outdated.
        let back = MessageMeta::decode(&old).unwrap();
        assert!(back.outdated);
        assert_eq!(
            back,
            MessageMeta {
                outdated: true,
                ..m.clone()
            }
        );
        let v1 = legacy::MetaV1 {
            envelope: v2.envelope,
            structure: v2.structure,
            headers: v2.headers,
            header_size: v2.header_size,
            sent_date: v2.sent_date,
            references: v2.references,
            malformed: v2.malformed,
        };
        let old = crate::keyspace::encode(&v1).unwrap();
        let back = MessageMeta::decode(&old).unwrap();
        assert_eq!(back.header, None);
        assert!(back.outdated);
        assert_eq!(back.envelope, m.envelope);
        assert_eq!(back.structure, m.structure);
        assert_eq!(back.header_source(MULTI.as_bytes()), MULTI.as_bytes());
        let new = crate::keyspace::encode(&m).unwrap();
        assert_eq!(new[0], LAYOUT);
        assert_eq!(MessageMeta::decode(&new).unwrap(), m);
        assert!(MessageMeta::decode(b"\x01").is_err());
        assert!(MessageMeta::decode(b"\x03").is_err());
        assert!(MessageMeta::decode(b"").is_err());

        // An old record of a message with neither groups nor enclosed messages is not outdated.
        let plain = MessageMeta::parse(b"From: a@b.example\r\nSubject: s\r\n\r\nbody\r\n");
        let v2 = legacy::MetaV2 {
            envelope: legacy::old_envelope(&plain.envelope),
            structure: legacy::old_part(&plain.structure),
            headers: plain.headers.clone(),
            header_size: plain.header_size,
            sent_date: plain.sent_date,
            references: plain.references.clone(),
            malformed: plain.malformed,
            header: plain.header.clone(),
        };
        let back = MessageMeta::decode(&crate::keyspace::encode(&v2).unwrap()).unwrap();
        assert_eq!(back, plain);

        // A header section above the bound is not kept.
        let big = format!("X-Big: {}\r\n\r\nbody\r\n", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(MessageMeta::parse(big.as_bytes()).header, None);
    }
}

//! The two layouts of the metadata record written before the current one, still read: the
//! first without the kept header section, both with addresses that had no source route. Their
//! records start with `0` or `1` (the tag of the envelope's optional date); the current layout
//! starts with [`super::LAYOUT`].

use serde::{Deserialize, Serialize};

use super::{BodyPart, Envelope, EnvelopeAddress, HeaderField, MessageMeta};

#[derive(Serialize, Deserialize)]
pub(super) struct OldAddress {
    pub name: Option<String>,
    pub mailbox: Option<String>,
    pub host: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct OldEnvelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<OldAddress>,
    pub sender: Vec<OldAddress>,
    pub reply_to: Vec<OldAddress>,
    pub to: Vec<OldAddress>,
    pub cc: Vec<OldAddress>,
    pub bcc: Vec<OldAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct OldPart {
    pub media_type: String,
    pub media_subtype: String,
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    pub encoding: String,
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    pub header_offset: u32,
    pub body_offset: u32,
    pub end_offset: u32,
    pub lines: u32,
    pub children: Vec<OldPart>,
    pub message: Option<Box<(OldEnvelope, OldPart)>>,
    pub nested_offsets_valid: bool,
}

/// The second layout: the header section kept.
#[derive(Serialize, Deserialize)]
pub(super) struct MetaV2 {
    pub envelope: OldEnvelope,
    pub structure: OldPart,
    pub headers: Vec<HeaderField>,
    pub header_size: u32,
    pub sent_date: Option<i64>,
    pub references: Vec<String>,
    pub malformed: bool,
    pub header: Option<Vec<u8>>,
}

/// The first layout.
#[derive(Serialize, Deserialize)]
pub(super) struct MetaV1 {
    pub envelope: OldEnvelope,
    pub structure: OldPart,
    pub headers: Vec<HeaderField>,
    pub header_size: u32,
    pub sent_date: Option<i64>,
    pub references: Vec<String>,
    pub malformed: bool,
}

impl From<OldAddress> for EnvelopeAddress {
    fn from(a: OldAddress) -> Self {
        EnvelopeAddress {
            name: a.name,
            route: None,
            mailbox: a.mailbox,
            host: a.host,
        }
    }
}

fn list(v: Vec<OldAddress>) -> Vec<EnvelopeAddress> {
    v.into_iter().map(EnvelopeAddress::from).collect()
}

impl From<OldEnvelope> for Envelope {
    fn from(e: OldEnvelope) -> Self {
        Envelope {
            date: e.date,
            subject: e.subject,
            from: list(e.from),
            sender: list(e.sender),
            reply_to: list(e.reply_to),
            to: list(e.to),
            cc: list(e.cc),
            bcc: list(e.bcc),
            in_reply_to: e.in_reply_to,
            message_id: e.message_id,
        }
    }
}

impl From<OldPart> for BodyPart {
    fn from(p: OldPart) -> Self {
        BodyPart {
            media_type: p.media_type,
            media_subtype: p.media_subtype,
            params: p.params,
            id: p.id,
            description: p.description,
            encoding: p.encoding,
            disposition: p.disposition,
            language: p.language,
            location: p.location,
            header_offset: p.header_offset,
            body_offset: p.body_offset,
            end_offset: p.end_offset,
            lines: p.lines,
            children: p.children.into_iter().map(BodyPart::from).collect(),
            message: p.message.map(|m| {
                let (e, s) = *m;
                Box::new((Envelope::from(e), BodyPart::from(s)))
            }),
            nested_offsets_valid: p.nested_offsets_valid,
        }
    }
}

/// True if an earlier layout's record of this message is wrong somewhere: it has an enclosed
/// message (those layouts marked its offsets unusable and counted its lines wrong) or an
/// address group (whose markers they could invent).
fn outdated(meta: &MessageMeta) -> bool {
    fn encloses(p: &BodyPart) -> bool {
        p.message.is_some() || p.media_type == "message" || p.children.iter().any(encloses)
    }
    let e = &meta.envelope;
    let grouped = [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc]
        .iter()
        .any(|l| l.iter().any(|a| a.host.is_none()));
    grouped || encloses(&meta.structure)
}

/// Decodes a record of the second layout, else of the first.
pub(super) fn decode(bytes: &[u8]) -> Result<MessageMeta, postcard::Error> {
    let mut meta = decode_either(bytes)?;
    meta.outdated = outdated(&meta);
    Ok(meta)
}

fn decode_either(bytes: &[u8]) -> Result<MessageMeta, postcard::Error> {
    match postcard::from_bytes::<MetaV2>(bytes) {
        Ok(m) => Ok(MessageMeta {
            envelope: m.envelope.into(),
            structure: m.structure.into(),
            headers: m.headers,
            header_size: m.header_size,
            sent_date: m.sent_date,
            references: m.references,
            malformed: m.malformed,
            header: m.header,
            outdated: false,
        }),
        Err(e) => match postcard::from_bytes::<MetaV1>(bytes) {
            Ok(m) => Ok(MessageMeta {
                envelope: m.envelope.into(),
                structure: m.structure.into(),
                headers: m.headers,
                header_size: m.header_size,
                sent_date: m.sent_date,
                references: m.references,
                malformed: m.malformed,
                header: None,
                outdated: false,
            }),
            Err(_) => Err(e),
        },
    }
}

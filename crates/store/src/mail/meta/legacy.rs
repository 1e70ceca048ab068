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

/// What the earlier layouts stored of a part (tests write such records).
#[cfg(test)]
pub(super) fn old_part(p: &BodyPart) -> OldPart {
    OldPart {
        media_type: p.media_type.clone(),
        media_subtype: p.media_subtype.clone(),
        params: p.params.clone(),
        id: p.id.clone(),
        description: p.description.clone(),
        encoding: p.encoding.clone(),
        disposition: p.disposition.clone(),
        language: p.language.clone(),
        location: p.location.clone(),
        header_offset: p.header_offset,
        body_offset: p.body_offset,
        end_offset: p.end_offset,
        lines: p.lines,
        children: p.children.iter().map(old_part).collect(),
        message: p
            .message
            .as_ref()
            .map(|m| Box::new((old_envelope(&m.0), old_part(&m.1)))),
        nested_offsets_valid: p.nested_offsets_valid,
    }
}

/// What the earlier layouts stored of an envelope (routes had no place).
#[cfg(test)]
pub(super) fn old_envelope(e: &Envelope) -> OldEnvelope {
    let list = |l: &[EnvelopeAddress]| {
        l.iter()
            .map(|a| OldAddress {
                name: a.name.clone(),
                mailbox: a.mailbox.clone(),
                host: a.host.clone(),
            })
            .collect()
    };
    OldEnvelope {
        date: e.date.clone(),
        subject: e.subject.clone(),
        from: list(&e.from),
        sender: list(&e.sender),
        reply_to: list(&e.reply_to),
        to: list(&e.to),
        cc: list(&e.cc),
        bcc: list(&e.bcc),
        in_reply_to: e.in_reply_to.clone(),
        message_id: e.message_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{self, AppendOptions, PreparedMessage};
    use crate::{AccountId, Keyspace, Store, StoreOptions};

    /// A stored record of the second layout, as it was written for a forwarded message (its
    /// enclosed part marked unusable and its line count wrong), is read, known outdated, and
    /// replaced by the body parsed again in what readers get.
    #[tokio::test]
    async fn an_outdated_record_is_parsed_again_from_the_body() {
        const A: AccountId = AccountId(7);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        store.transact(|t| mail::init_account(t, A)).await.unwrap();
        let raw = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n\
                   --o\r\nContent-Type: message/rfc822\r\n\r\n\
                   From: c@example.com\r\nSubject: inner\r\n\r\nbody\r\n--o--\r\n";
        let msg = PreparedMessage::new(&store, raw.as_bytes()).unwrap();
        let fresh = msg.meta.clone();
        let hash = msg.blob.hash;
        store
            .transact(move |t| {
                let inbox = mail::mailbox_by_name(t, A, "INBOX")?.unwrap();
                mail::append(t, A, inbox.id, &msg, &AppendOptions::default(), &[])
            })
            .await
            .unwrap();
        // What the layout before wrote for it.
        let mut wrong = old_part(&fresh.structure);
        wrong.children[0].nested_offsets_valid = false;
        wrong.children[0].lines = 0;
        let record = crate::keyspace::encode(&MetaV2 {
            envelope: old_envelope(&fresh.envelope),
            structure: wrong,
            headers: fresh.headers.clone(),
            header_size: fresh.header_size,
            sent_date: fresh.sent_date,
            references: fresh.references.clone(),
            malformed: fresh.malformed,
            header: fresh.header.clone(),
        })
        .unwrap();
        let key = crate::mail::model::meta_key(&hash);
        store
            .transact(move |t| {
                t.put(Keyspace::MessageMeta, key, record);
                Ok::<_, crate::Error>(())
            })
            .await
            .unwrap();
        let stored = mail::message_meta(&store, &hash).unwrap().unwrap();
        assert!(stored.outdated);
        assert!(!stored.structure.children[0].nested_offsets_valid);
        let read = mail::shared_meta(&store, &hash).unwrap().unwrap();
        assert_eq!(*read, fresh);
        assert!(!read.outdated);
        assert!(read.structure.children[0].nested_offsets_valid);
        assert_eq!(read.structure.children[0].lines, 3);
    }
}

//! Writing IMAP data: strings (quoted or literal), flags, dates, the envelope and the body
//! structure (RFC 3501 §7.4.2, RFC 9051 §7.5.2), all from the metadata stored at delivery.

use marque_store::mail::{BodyPart, Envelope, EnvelopeAddress, Flags, MessageRecord};

/// Appends `s` as a quoted string when it can be one, else as a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    let quotable = s.len() < 1024 && s.iter().all(|&c| (0x20..0x7f).contains(&c));
    quoted_or_literal(out, s, quotable);
}

/// A UTF-8 string quoted when it has no control characters (RFC 9051 §4.3: IMAP4rev2 quoted
/// strings may hold UTF-8).
fn utf8_string(out: &mut Vec<u8>, s: &str) {
    let quotable = s.len() < 1024 && !s.chars().any(char::is_control);
    quoted_or_literal(out, s.as_bytes(), quotable);
}

fn quoted_or_literal(out: &mut Vec<u8>, s: &[u8], quotable: bool) {
    if quotable {
        out.push(b'"');
        for &c in s {
            if c == b'"' || c == b'\\' {
                out.push(b'\\');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        literal(out, s);
    }
}

/// Appends `s` as a literal.
pub fn literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

/// Appends message content as a literal. A literal carries no NUL (RFC 3501 §4.3 and §9,
/// CHAR8), but a message APPENDed as a literal8 may hold some (RFC 3516 §4.4): outside BINARY,
/// which sends them in a literal8, each is sent as the octet 0x80, so that the literal keeps
/// the part's size and offsets.
pub fn content_literal(out: &mut Vec<u8>, s: &[u8]) {
    if !s.contains(&0) {
        return literal(out, s);
    }
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend(s.iter().map(|&c| if c == 0 { 0x80 } else { c }));
}

/// `NIL` or a string.
pub fn nstring(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s.as_bytes()),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// A mailbox name, as a quoted string or literal, in modified UTF-7 unless `utf8`.
pub fn mailbox(out: &mut Vec<u8>, name: &str, utf8: bool) {
    if utf8 {
        utf8_string(out, name);
    } else {
        string(out, super::parse::utf7::encode(name).as_bytes());
    }
}

/// The flag list of a message: system flags then keywords.
pub fn flags(r: &MessageRecord) -> String {
    flag_list(r.flags, &r.keywords)
}

/// `(\Seen $Label)`.
pub fn flag_list(flags: Flags, keywords: &[String]) -> String {
    let mut v: Vec<&str> = flags.names();
    v.extend(keywords.iter().map(String::as_str));
    format!("({})", v.join(" "))
}

/// The month names of IMAP dates (RFC 3501 date-month).
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// INTERNALDATE as `"dd-Mon-yyyy hh:mm:ss +0000"`.
pub fn date_time(secs: i64) -> String {
    date_time_in(secs, 0)
}

/// INTERNALDATE as `"dd-Mon-yyyy hh:mm:ss +zzzz"` in the zone `zone` minutes east of UTC.
pub fn date_time_in(secs: i64, zone: i16) -> String {
    let local = secs.saturating_add(i64::from(zone) * 60);
    let t = time::OffsetDateTime::from_unix_timestamp(local)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let sign = if zone < 0 { '-' } else { '+' };
    let z = zone.unsigned_abs();
    format!(
        "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {sign}{:02}{:02}\"",
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        z / 60,
        z % 60
    )
}

fn addresses(out: &mut Vec<u8>, list: &[EnvelopeAddress]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        // RFC 3501 §7.4.2: name, source route, mailbox, host.
        out.push(b'(');
        nstring(out, a.name.as_deref());
        out.push(b' ');
        nstring(out, a.route.as_deref());
        out.push(b' ');
        nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

/// The ENVELOPE structure.
pub fn envelope(out: &mut Vec<u8>, e: &Envelope) {
    out.push(b'(');
    nstring(out, e.date.as_deref());
    out.push(b' ');
    nstring(out, e.subject.as_deref());
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        out.push(b' ');
        addresses(out, list);
    }
    out.push(b' ');
    nstring(out, e.in_reply_to.as_deref());
    out.push(b' ');
    nstring(out, e.message_id.as_deref());
    out.push(b')');
}

fn params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, k.as_bytes());
        out.push(b' ');
        string(out, v.as_bytes());
    }
    out.push(b')');
}

fn disposition_language_location(out: &mut Vec<u8>, p: &BodyPart) {
    out.push(b' ');
    match &p.disposition {
        Some((d, ps)) => {
            out.push(b'(');
            string(out, d.as_bytes());
            out.push(b' ');
            params(out, ps);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    if p.language.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        for (i, l) in p.language.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            string(out, l.as_bytes());
        }
        out.push(b')');
    }
    out.push(b' ');
    nstring(out, p.location.as_deref());
}

/// BODYSTRUCTURE (`extended`) or BODY, RFC 3501 §7.4.2.
pub fn body_structure(out: &mut Vec<u8>, p: &BodyPart, extended: bool) {
    out.push(b'(');
    if p.media_type == "multipart" {
        if p.children.is_empty() {
            // A multipart without parts: describe it as an empty text part.
            out.extend_from_slice(b"\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0");
        } else {
            for c in &p.children {
                body_structure(out, c, extended);
            }
        }
        out.push(b' ');
        string(out, p.media_subtype.as_bytes());
        if extended {
            out.push(b' ');
            params(out, &p.params);
            disposition_language_location(out, p);
        }
        out.push(b')');
        return;
    }
    string(out, p.media_type.as_bytes());
    out.push(b' ');
    string(out, p.media_subtype.as_bytes());
    out.push(b' ');
    params(out, &p.params);
    out.push(b' ');
    nstring(out, p.id.as_deref());
    out.push(b' ');
    nstring(out, p.description.as_deref());
    out.push(b' ');
    string(out, p.encoding.as_bytes());
    out.extend_from_slice(format!(" {}", p.end_offset.saturating_sub(p.body_offset)).as_bytes());
    // RFC 3501 §7.4.2: an enclosed message adds its envelope, its structure and its size in
    // lines. (message/global, RFC 6532, is described as a basic part, which IMAP4rev1 clients
    // expect of it.)
    if p.media_type == "message" && p.media_subtype == "rfc822" {
        match &p.message {
            Some(inner) => {
                out.push(b' ');
                envelope(out, &inner.0);
                out.push(b' ');
                body_structure(out, &inner.1, extended);
            }
            None => {
                out.extend_from_slice(b" ");
                envelope(out, &Envelope::default());
                out.extend_from_slice(b" (\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)");
            }
        }
        out.extend_from_slice(format!(" {}", p.lines).as_bytes());
    } else if p.media_type == "text" {
        out.extend_from_slice(format!(" {}", p.lines).as_bytes());
    }
    if extended {
        out.extend_from_slice(b" NIL");
        disposition_language_location(out, p);
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\"");
        assert_eq!(out, b"\"a \\\"b\\\"\"");
        out.clear();
        string(&mut out, b"a\r\nb");
        assert_eq!(out, b"{4}\r\na\r\nb");
    }

    #[test]
    fn content_literals_carry_no_nul() {
        let mut out = Vec::new();
        content_literal(&mut out, b"a\0b");
        assert_eq!(out, b"{3}\r\na\x80b");
        out.clear();
        content_literal(&mut out, b"plain\xff");
        assert_eq!(out, b"{6}\r\nplain\xff");
    }

    #[test]
    fn dates() {
        assert_eq!(date_time(837_596_665), "\"17-Jul-1996 09:44:25 +0000\"");
    }

    #[test]
    fn structure_of_a_text_part() {
        let p = BodyPart {
            media_type: "text".into(),
            media_subtype: "plain".into(),
            params: vec![("charset".into(), "us-ascii".into())],
            encoding: "7bit".into(),
            body_offset: 10,
            end_offset: 30,
            lines: 2,
            ..BodyPart::default()
        };
        let mut out = Vec::new();
        body_structure(&mut out, &p, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2)"
        );
    }
}

//! The vacation reply as it leaves: rebuilt by the platform's header writer
//! ([`marque_core::header`]) from the message `sieve-rs` composed, so that a script decides the
//! wording and never the header fields.
//!
//! `sieve-rs` writes the script's `:from`, `:subject` and `:mime` reason into its message as
//! they are, so a value holding CR LF (typed, or made with `${hex:0D 0A}`) would start header
//! fields of the script's choosing. Here that message is only read: its fields are expected in
//! the order `sieve-rs` writes them, and a value followed by lines it did not write is known
//! to have been broken by the script and is not used. What goes out:
//!
//! - `From`: the script's `:from` when it is one mailbox the user may send as (their address
//!   or an alias of theirs, the check submission applies), else the user's own address, and the
//!   log says so (RFC 5230 §4.4 suggests ignoring a `:from` that fails such a check).
//! - `To`: the envelope sender the reply goes to; `Subject`: the script's or the default.
//! - `In-Reply-To` and `References` from the original message (RFC 5230 §5.3, the rules of
//!   RFC 5322 §3.6.4), `Date`, a new `Message-ID`, `Auto-Submitted: auto-replied` (RFC 3834 §5).
//! - The body: with `:mime`, only the MIME header fields (`Content-*`) of the script's part
//!   (RFC 5230 §4.5: the reason is a MIME part); any other field is left out and logged.
//!   Line ends are CRLF and NUL characters are dropped.

use mail_parser::{HeaderValue, MessageParser};
use marque_core::header::{self, HeaderWriter};

/// What the reply needs besides the message `sieve-rs` composed.
pub struct ReplyContext<'a> {
    /// The user's mailbox address.
    pub user: &'a str,
    /// The envelope sender of the original, whom the reply goes to.
    pub to: &'a str,
    /// The original message.
    pub original: &'a [u8],
    /// The server's host name (in the Message-ID).
    pub hostname: &'a str,
    pub now: u64,
    /// Whether the user may send as an address (submission's sender check).
    pub owns: &'a dyn Fn(&str) -> bool,
}

/// The reply to send and what the log should say about it.
#[derive(Debug)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub notes: Vec<String>,
}

/// What was read from the message `sieve-rs` composed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Composed {
    /// The `From` value, `None` when the script broke it.
    from: Option<String>,
    /// The `Subject` value, `None` when the script broke it.
    subject: Option<String>,
    /// The fields of the body part (`Content-type` for a plain reason, the script's own with
    /// `:mime`), unfolded.
    part: Vec<(String, String)>,
    body: Vec<u8>,
}

/// The lines of `raw` up to its first empty line, and where the body after it starts.
fn header_lines(raw: &[u8]) -> (Vec<&[u8]>, Option<usize>) {
    let mut lines = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|i| pos + i);
        let Some(end) = end else {
            lines.push(&raw[pos..]);
            return (lines, None);
        };
        if end == pos {
            return (lines, Some(pos + 2));
        }
        lines.push(&raw[pos..end]);
        pos = end + 2;
    }
    (lines, None)
}

fn is_continuation(line: &[u8]) -> bool {
    matches!(line.first(), Some(b' ' | b'\t'))
}

/// A one-line value: `None` if it holds a control character (a bare CR or LF, a NUL...).
fn clean(value: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(value).ok()?;
    (!s.chars().any(|c| c.is_control() && c != '\t')).then(|| s.trim().to_string())
}

/// Reads the message `sieve-rs` composed (see its `Vacation::exec`): `From`, `To`, `Subject`,
/// optionally `In-Reply-To` and `References`, `Date`, `Message-ID`, `Auto-Submitted`, then the
/// body part: `Content-type`, an empty line and the reason, or the `:mime` reason as it is.
/// `threaded` says whether the original had a Message-ID (then `In-Reply-To` is there).
fn read(raw: &[u8], threaded: bool) -> Option<Composed> {
    let (lines, _) = header_lines(raw);
    let mut c = Composed::default();
    let first = lines.first()?.strip_prefix(b"From: ")?;
    let mut from = clean(first);
    let mut i = 1;
    // Anything before `To` is not of sieve-rs: the `:from` value held a line break.
    while i < lines.len() && !lines[i].starts_with(b"To:") {
        from = None;
        i += 1;
    }
    i += 1;
    while i < lines.len() && is_continuation(lines[i]) {
        i += 1;
    }
    let subject_line = lines.get(i)?.strip_prefix(b"Subject: ")?;
    let mut subject = clean(subject_line);
    i += 1;
    // After the subject: exactly these names, the first two with continuation lines.
    let expected: &[&[u8]] = if threaded {
        &[
            b"In-Reply-To: ".as_slice(),
            b"References: ".as_slice(),
            b"Date: ".as_slice(),
            b"Message-ID: ".as_slice(),
        ]
    } else {
        &[b"Date: ".as_slice(), b"Message-ID: ".as_slice()]
    };
    let mut seen = 0;
    loop {
        let line = *lines.get(i)?;
        if line == b"Auto-Submitted: auto-replied" {
            i += 1;
            break;
        }
        if is_continuation(line) && seen > 0 && seen <= 2 && threaded {
            i += 1;
            continue;
        }
        if expected.get(seen).is_some_and(|p| line.starts_with(p)) {
            seen += 1;
        } else {
            subject = None;
        }
        i += 1;
    }
    if seen != expected.len() {
        subject = None;
    }
    c.from = from;
    c.subject = subject;
    // The body part: its header fields up to the empty line, then its content.
    let rest_start = offset_of_line(raw, &lines, i);
    let rest = &raw[rest_start..];
    let (part_lines, body_at) = header_lines(rest);
    let part_raw = &rest[..body_at.map(|b| b - 2).unwrap_or(rest.len())];
    match (body_at, header::parse_fields(part_raw)) {
        (Some(b), Some(fields)) if !part_lines.is_empty() => {
            c.part = fields;
            c.body = rest[b..].to_vec();
        }
        // No header section to speak of: the whole rest is text.
        _ => c.body = rest.to_vec(),
    }
    Some(c)
}

/// Where line `i` of `lines` (slices of `raw`) starts; the end of `raw` past the last.
fn offset_of_line(raw: &[u8], lines: &[&[u8]], i: usize) -> usize {
    match lines.get(i) {
        Some(l) => l.as_ptr() as usize - raw.as_ptr() as usize,
        None => lines
            .last()
            .map(|l| l.as_ptr() as usize - raw.as_ptr() as usize + l.len() + 2)
            .unwrap_or(0)
            .min(raw.len()),
    }
}

/// `Name <addr>`, `<addr>` or `addr` as (display name, address).
fn parse_mailbox(value: &str) -> Option<(Option<String>, String)> {
    let value = value.trim();
    if let Some(open) = value.rfind('<') {
        let close = value[open..].find('>')? + open;
        if !value[close + 1..].trim().is_empty() {
            return None;
        }
        let address = value[open + 1..close].trim().to_string();
        let display = value[..open].trim().trim_matches('"').trim().to_string();
        let display = (!display.is_empty()).then_some(display);
        return header::is_plain_address(&address).then_some((display, address));
    }
    header::is_plain_address(value).then(|| (None, value.to_string()))
}

/// The reply to send for the message `sieve-rs` composed, or why none is sent.
pub fn rebuild(composed: &[u8], cx: &ReplyContext<'_>) -> Result<Reply, String> {
    let original = MessageParser::default().parse_headers(cx.original);
    let threaded = original.as_ref().and_then(|m| m.message_id()).is_some();
    let message_id = original
        .as_ref()
        .and_then(|m| m.message_id())
        .filter(|id| !id.is_empty() && !id.contains([' ', '<', '>']))
        .map(str::to_string);
    let c = read(composed, threaded)
        .ok_or("the reply composed by the script has an unexpected form")?;
    let mut notes = Vec::new();

    let (display, from) = match c.from.as_deref().map(parse_mailbox) {
        Some(Some((display, address))) if (cx.owns)(&address) => (display, address),
        Some(Some((_, address))) => {
            notes.push(format!(
                "vacation :from {address} is not an address of {}; sent from {} instead",
                cx.user, cx.user
            ));
            (None, cx.user.to_string())
        }
        _ => {
            notes.push(format!(
                "vacation :from is not one valid address; sent from {} instead",
                cx.user
            ));
            (None, cx.user.to_string())
        }
    };
    let subject = match c.subject {
        Some(s) if !s.is_empty() => s,
        broken => {
            if broken.is_none() {
                notes.push("vacation :subject holds a line break; default subject used".into());
            }
            default_subject(original.as_ref().and_then(|m| m.subject()))
        }
    };

    let mut w = HeaderWriter::new();
    let e = |e: header::HeaderError| e.to_string();
    w.mailbox("From", display.as_deref(), &from).map_err(e)?;
    w.mailbox("To", None, cx.to).map_err(e)?;
    w.text("Subject", &subject).map_err(e)?;
    if let Some(id) = &message_id {
        // RFC 5322 §3.6.4: the parent's References (or In-Reply-To) and its Message-ID.
        let mut refs: Vec<String> = original
            .as_ref()
            .map(|m| match m.references() {
                HeaderValue::Text(t) => vec![t.to_string()],
                HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        refs.retain(|r| !r.contains([' ', '<', '>']) && !r.chars().any(char::is_control));
        refs.push(id.clone());
        w.structured("In-Reply-To", &format!("<{id}>")).map_err(e)?;
        let refs: Vec<String> = refs.iter().map(|r| format!("<{r}>")).collect();
        w.structured("References", &refs.join(" ")).map_err(e)?;
    }
    w.structured("Date", &rfc2822_date(cx.now)).map_err(e)?;
    let hash = blake3::hash(composed).to_hex();
    w.structured(
        "Message-ID",
        &format!(
            "<vacation.{:x}.{}@{}>",
            cx.now,
            &hash.as_str()[..16],
            cx.hostname
        ),
    )
    .map_err(e)?;
    w.structured("Auto-Submitted", "auto-replied").map_err(e)?;
    w.structured("MIME-Version", "1.0").map_err(e)?;

    let body = text_body(&c.body);
    let mut has_type = false;
    let mut has_encoding = false;
    for (name, value) in &c.part {
        let lower = name.to_ascii_lowercase();
        if lower == "mime-version" {
            continue;
        }
        if !lower.starts_with("content-") {
            notes.push(format!(
                "vacation :mime header field {name:?} is not a MIME header; left out"
            ));
            continue;
        }
        let name = canonical(name);
        if w.structured(&name, value.trim()).is_err() {
            notes.push(format!(
                "vacation :mime header field {name:?} is not valid; left out"
            ));
            continue;
        }
        has_type |= lower == "content-type";
        has_encoding |= lower == "content-transfer-encoding";
    }
    if !has_type {
        w.structured("Content-Type", "text/plain; charset=utf-8")
            .map_err(e)?;
    }
    if !has_encoding {
        let encoding = if body.is_ascii() { "7bit" } else { "8bit" };
        w.structured("Content-Transfer-Encoding", encoding)
            .map_err(e)?;
    }
    let mut raw = w.finish();
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&body);
    Ok(Reply { raw, notes })
}

/// `content-type` as `Content-Type`.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The subject when the script gave none: `Auto: ` and the original's (as `sieve-rs` does).
fn default_subject(original: Option<&str>) -> String {
    match original.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let s: String = s.chars().filter(|c| !c.is_control()).take(256).collect();
            format!("Auto: {s}")
        }
        None => "Automated reply".to_string(),
    }
}

/// The body with CRLF line ends, no NUL, and a final line end.
fn text_body(body: &[u8]) -> Vec<u8> {
    let no_nul: Vec<u8> = body.iter().copied().filter(|&b| b != 0).collect();
    marque_store::mail::messages::crlf(&no_nul).into_owned()
}

/// `now` (seconds since the epoch) as an RFC 5322 §3.3 date in UTC.
fn rfc2822_date(now: u64) -> String {
    let t = i64::try_from(now).unwrap_or(0);
    match time::OffsetDateTime::from_unix_timestamp(t) {
        Ok(d) => d
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;

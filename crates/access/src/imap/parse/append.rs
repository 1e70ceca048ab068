//! The arguments of APPEND: one message (RFC 3501 §6.3.11) or several (MULTIAPPEND, RFC 3502
//! §6), each a literal, a binary literal8 (RFC 3516 §4.4) or a list of parts to join
//! (CATENATE, RFC 4469 §5):
//!
//! ```text
//! append          = "APPEND" SP mailbox 1*append-message
//! append-message  = append-opts SP append-data
//! append-opts     = [SP flag-list] [SP date-time]
//! append-data     = literal / literal8 / "CATENATE" SP "(" cat-part *(SP cat-part) ")"
//! cat-part        = "TEXT" SP literal / "URL" SP astring
//! ```
//!
//! Literals stay where they are in the command's buffer: only their ranges are kept.

use std::ops::Range;

use super::command::DateTime;
use super::{PResult, ParseError, Parser};

/// Most messages one APPEND may carry.
pub const MAX_MESSAGES: usize = 1000;
/// Most parts one CATENATE may join.
pub const MAX_PARTS: usize = 1000;

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<String>,
    pub date: Option<DateTime>,
    pub data: AppendData,
}

/// Where a message's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendData {
    /// A literal (or literal8): the range it holds in the command's buffer.
    Literal(Range<usize>),
    /// CATENATE (RFC 4469 §5): the parts to join, in order.
    Catenate(Vec<CatPart>),
}

/// One part of a CATENATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `TEXT literal`: the range of the literal in the command's buffer.
    Text(Range<usize>),
    /// `URL astring`: an IMAP URL (RFC 5092) naming a message or a part of one.
    Url(String),
}

/// The messages after APPEND's mailbox name (the parser stands just after the name).
pub fn messages(p: &mut Parser<'_>) -> PResult<Vec<AppendMessage>> {
    let mut out = Vec::new();
    loop {
        p.sp()?;
        let mut flags = Vec::new();
        if p.peek() == Some(b'(') {
            flags = p.list(|p| p.flag())?;
            p.sp()?;
        }
        let mut date = None;
        if p.peek() == Some(b'"') {
            date = Some(DateTime::parse(p)?);
            p.sp()?;
        }
        let data = if p.eat_word("CATENATE") {
            p.sp()?;
            AppendData::Catenate(cat_parts(p)?)
        } else {
            AppendData::Literal(p.literal_range()?)
        };
        out.push(AppendMessage { flags, date, data });
        if out.len() > MAX_MESSAGES {
            return Err(ParseError(format!(
                "more than {MAX_MESSAGES} messages in one APPEND"
            )));
        }
        // RFC 3502 §6: another message follows after a space.
        if p.peek() != Some(b' ') {
            return Ok(out);
        }
    }
}

/// `"(" cat-part *(SP cat-part) ")"`.
fn cat_parts(p: &mut Parser<'_>) -> PResult<Vec<CatPart>> {
    p.expect(b'(')?;
    let mut parts = Vec::new();
    loop {
        if p.eat_word("TEXT") {
            p.sp()?;
            parts.push(CatPart::Text(p.literal_range()?));
        } else if p.eat_word("URL") {
            p.sp()?;
            let url = p.astring_utf8()?;
            parts.push(CatPart::Url(url));
        } else {
            return Err(ParseError("expected TEXT or URL in CATENATE".into()));
        }
        if parts.len() > MAX_PARTS {
            return Err(ParseError(format!(
                "more than {MAX_PARTS} parts in one CATENATE"
            )));
        }
        if p.eat(b')') {
            return Ok(parts);
        }
        p.sp()?;
    }
}

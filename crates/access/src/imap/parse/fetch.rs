//! FETCH attributes (RFC 3501 §6.4.5, RFC 9051 §6.4.5) and body sections.

use super::{PResult, ParseError, Parser};

/// What part of a message a `BODY[...]` names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// Part numbers (`1.2`); empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

/// The text specifier of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    HeaderFields { not: bool, fields: Vec<String> },
    Text,
    Mime,
}

/// One FETCH attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAtt {
    Uid,
    Flags,
    InternalDate,
    Rfc822Size,
    Envelope,
    BodyStructure,
    /// `BODY` without a section: the structure without extension data.
    Body,
    Section {
        peek: bool,
        section: Section,
        partial: Option<(u32, u32)>,
    },
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    ModSeq,
    /// RFC 3516 §4.2: a part decoded from its transfer encoding.
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
    },
    /// RFC 3516 §4.2: the decoded size of a part.
    BinarySize {
        part: Vec<u32>,
    },
    /// RFC 8514: when the message was saved in this mailbox.
    SaveDate,
    /// RFC 8970: a short plain-text preview of the message (`LAZY` or not, it is always
    /// computed: nothing is cached that could be missing).
    Preview,
}

impl FetchAtt {
    /// True if answering needs the message's bytes.
    pub fn needs_body(&self) -> bool {
        matches!(
            self,
            FetchAtt::Section { .. }
                | FetchAtt::Rfc822
                | FetchAtt::Rfc822Header
                | FetchAtt::Rfc822Text
                | FetchAtt::Binary { .. }
                | FetchAtt::BinarySize { .. }
                | FetchAtt::Preview
        )
    }
    /// True if answering needs no more than the message's header section: `RFC822.HEADER`,
    /// `BODY[HEADER]` and `BODY[HEADER.FIELDS (...)]` (and `.NOT`) of the message itself.
    pub fn needs_header_only(&self) -> bool {
        match self {
            FetchAtt::Rfc822Header => true,
            FetchAtt::Section { section, .. } => {
                section.part.is_empty()
                    && matches!(
                        section.text,
                        Some(SectionText::Header | SectionText::HeaderFields { .. })
                    )
            }
            _ => false,
        }
    }
    /// True if answering sets `\Seen` (RFC 3501 §6.4.5).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchAtt::Section { peek: false, .. }
                | FetchAtt::Binary { peek: false, .. }
                | FetchAtt::Rfc822
                | FetchAtt::Rfc822Text
        )
    }
}

/// RFC 8970 §6: `"PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]`, `preview-mod =
/// "LAZY"`. A list after `PREVIEW` is taken as its modifiers only when it starts with one, so
/// that `FETCH 1 PREVIEW (CHANGEDSINCE 5)` keeps its FETCH modifier.
fn preview_modifiers(p: &mut Parser<'_>) -> PResult<()> {
    let mut ahead = p.clone();
    if !(ahead.eat(b' ') && ahead.eat(b'(') && ahead.eat_word("LAZY")) {
        return Ok(());
    }
    p.sp()?;
    p.list(|p| {
        if p.eat_word("LAZY") {
            Ok(())
        } else {
            Err(ParseError(format!(
                "unknown PREVIEW modifier at offset {}",
                p.pos()
            )))
        }
    })?;
    Ok(())
}

/// The attributes of a FETCH: one, a macro, or a parenthesised list.
pub fn atts(p: &mut Parser<'_>) -> PResult<Vec<FetchAtt>> {
    use FetchAtt::*;
    if p.eat_word("ALL") {
        return Ok(vec![Flags, InternalDate, Rfc822Size, Envelope]);
    }
    if p.eat_word("FAST") {
        return Ok(vec![Flags, InternalDate, Rfc822Size]);
    }
    if p.eat_word("FULL") {
        return Ok(vec![Flags, InternalDate, Rfc822Size, Envelope, Body]);
    }
    if p.peek() == Some(b'(') {
        let v = p.list(att)?;
        if v.is_empty() {
            return Err(ParseError("empty FETCH attribute list".into()));
        }
        return Ok(v);
    }
    Ok(vec![att(p)?])
}

fn att(p: &mut Parser<'_>) -> PResult<FetchAtt> {
    use FetchAtt::*;
    // Longest names first: RFC822.SIZE before RFC822, BODY.PEEK[ before BODY[ and BODY.
    for (word, a) in [
        ("UID", Uid),
        ("FLAGS", Flags),
        ("INTERNALDATE", InternalDate),
        ("RFC822.SIZE", Rfc822Size),
        ("RFC822.HEADER", Rfc822Header),
        ("RFC822.TEXT", Rfc822Text),
        ("RFC822", Rfc822),
        ("ENVELOPE", Envelope),
        ("BODYSTRUCTURE", BodyStructure),
        ("MODSEQ", ModSeq),
        ("SAVEDATE", SaveDate),
    ] {
        if p.eat_word(word) {
            return Ok(a);
        }
    }
    if p.eat_word("PREVIEW") {
        preview_modifiers(p)?;
        return Ok(Preview);
    }
    if p.eat_word("BINARY.SIZE[") {
        let part = part_numbers(p)?;
        p.expect(b']')?;
        return Ok(BinarySize { part });
    }
    let binary = if p.eat_word("BINARY.PEEK[") {
        Some(true)
    } else if p.eat_word("BINARY[") {
        Some(false)
    } else {
        None
    };
    if let Some(peek) = binary {
        let part = part_numbers(p)?;
        p.expect(b']')?;
        let partial = partial(p)?;
        return Ok(Binary {
            peek,
            part,
            partial,
        });
    }
    let peek = if p.eat_word("BODY.PEEK[") {
        true
    } else if p.eat_word("BODY[") {
        false
    } else if p.eat_word("BODY") {
        return Ok(Body);
    } else {
        return Err(ParseError(format!(
            "unknown FETCH attribute at offset {}",
            p.pos()
        )));
    };
    let section = section(p)?;
    p.expect(b']')?;
    let partial = partial(p)?;
    Ok(Section {
        peek,
        section,
        partial,
    })
}

/// `section-part` of BINARY: part numbers, possibly none.
fn part_numbers(p: &mut Parser<'_>) -> PResult<Vec<u32>> {
    let mut v = Vec::new();
    while p.peek().is_some_and(|c| c.is_ascii_digit()) {
        let n = p.number()?;
        if n == 0 {
            return Err(ParseError("part numbers start at 1".into()));
        }
        v.push(n);
        if v.len() > super::MAX_DEPTH * 4 {
            return Err(ParseError("section nested too deeply".into()));
        }
        if !p.eat(b'.') {
            break;
        }
    }
    Ok(v)
}

/// An optional `<origin.length>`.
/// `partial = "<" number "." nz-number ">"` (RFC 3501 §9, RFC 3516 §6, RFC 9051 §9): a
/// range always has its length; `<offset>` alone appears only in answers.
fn partial(p: &mut Parser<'_>) -> PResult<Option<(u32, u32)>> {
    Ok(if p.eat(b'<') {
        let off = p.number()?;
        if !p.eat(b'.') {
            return Err(ParseError(
                "a partial range is <offset.length>: the length is required".into(),
            ));
        }
        let len = p.number()?;
        if len == 0 {
            return Err(ParseError("partial length must not be 0".into()));
        }
        p.expect(b'>')?;
        Some((off, len))
    } else {
        None
    })
}

/// `HEADER.FIELDS` (`Some(false)`) or `HEADER.FIELDS.NOT` (`Some(true)`), in any case
/// (RFC 3501 §9: keywords are case-insensitive).
fn header_fields(p: &mut Parser<'_>) -> Option<bool> {
    if p.eat_word("HEADER.FIELDS.NOT") {
        Some(true)
    } else if p.eat_word("HEADER.FIELDS") {
        Some(false)
    } else {
        None
    }
}

/// The inside of `[...]`.
pub fn section(p: &mut Parser<'_>) -> PResult<Section> {
    let mut s = Section::default();
    if p.peek() == Some(b']') {
        return Ok(s);
    }
    while p.peek().is_some_and(|c| c.is_ascii_digit()) {
        let n = p.number()?;
        if n == 0 {
            return Err(ParseError("part numbers start at 1".into()));
        }
        s.part.push(n);
        if s.part.len() > super::MAX_DEPTH * 4 {
            return Err(ParseError("section nested too deeply".into()));
        }
        if !p.eat(b'.') {
            return Ok(s);
        }
    }
    s.text = Some(if let Some(not) = header_fields(p) {
        p.sp()?;
        let fields = p.list(|p| {
            let f = p.astring()?;
            String::from_utf8(f.into_owned()).map_err(|_| ParseError("bad header name".into()))
        })?;
        if fields.is_empty() {
            return Err(ParseError("empty header list".into()));
        }
        SectionText::HeaderFields { not, fields }
    } else if p.eat_word("HEADER") {
        SectionText::Header
    } else if p.eat_word("TEXT") {
        SectionText::Text
    } else if !s.part.is_empty() && p.eat_word("MIME") {
        SectionText::Mime
    } else {
        return Err(ParseError("bad section".into()));
    });
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> PResult<Vec<FetchAtt>> {
        let mut p = Parser::new(s.as_bytes());
        let v = atts(&mut p)?;
        p.end()?;
        Ok(v)
    }

    #[test]
    fn macros_and_lists() {
        assert_eq!(parse("FAST").unwrap().len(), 3);
        assert_eq!(
            parse("(UID RFC822.SIZE FLAGS)").unwrap(),
            vec![FetchAtt::Uid, FetchAtt::Rfc822Size, FetchAtt::Flags]
        );
        assert_eq!(parse("body").unwrap(), vec![FetchAtt::Body]);
    }

    #[test]
    fn sections() {
        let v = parse("(BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100> BODY[1.2.MIME] BODY[])")
            .unwrap();
        assert_eq!(
            v[0],
            FetchAtt::Section {
                peek: true,
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields {
                        not: false,
                        fields: vec!["From".into(), "Subject".into()]
                    })
                },
                partial: Some((0, 100))
            }
        );
        assert!(
            matches!(&v[1], FetchAtt::Section { peek: false, section, .. }
            if section.part == vec![1, 2] && section.text == Some(SectionText::Mime))
        );
        let not = parse("BODY[HEADER.FIELDS.NOT (X)]").unwrap();
        assert!(matches!(&not[0], FetchAtt::Section { section, .. }
            if matches!(section.text, Some(SectionText::HeaderFields { not: true, .. }))));
        // `.Not` in mixed case was once read as HEADER.FIELDS, the opposite.
        for mixed in [
            "BODY[header.fields.Not (X)]",
            "BODY.PEEK[1.HeAdEr.FiElDs.NoT (X)]",
        ] {
            assert!(
                matches!(&parse(mixed).unwrap()[0], FetchAtt::Section { section, .. }
                    if matches!(section.text, Some(SectionText::HeaderFields { not: true, .. }))),
                "{mixed}"
            );
        }
    }

    #[test]
    fn binary() {
        assert_eq!(
            parse("(BINARY.PEEK[1.2]<0.10> BINARY.SIZE[3] BINARY[])").unwrap(),
            vec![
                FetchAtt::Binary {
                    peek: true,
                    part: vec![1, 2],
                    partial: Some((0, 10))
                },
                FetchAtt::BinarySize { part: vec![3] },
                FetchAtt::Binary {
                    peek: false,
                    part: vec![],
                    partial: None
                },
            ]
        );
        assert!(parse("BINARY[HEADER]").is_err());
        // RFC 3516 §6 and RFC 9051 §9: `partial = "<" number "." nz-number ">"`; the form
        // without a length (`<40>`) is the answer's, never the command's.
        for bad in [
            "BINARY[1]<40>",
            "BINARY.PEEK[1]<40>",
            "BODY[1]<40>",
            "BODY.PEEK[]<0>",
            "BINARY[1]<0.0>",
            "BODY[]<1.>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("BODY[]<4294967295.1>").unwrap(),
            vec![FetchAtt::Section {
                peek: false,
                section: Section::default(),
                partial: Some((u32::MAX, 1))
            }]
        );
    }

    #[test]
    fn what_answering_needs() {
        let header =
            parse("(BODY.PEEK[HEADER] BODY.PEEK[HEADER.FIELDS (A)] RFC822.HEADER)").unwrap();
        assert!(
            header
                .iter()
                .all(|a| a.needs_body() && a.needs_header_only())
        );
        // Sections of parts, and the text, need the message itself.
        for other in [
            "BODY.PEEK[TEXT]",
            "BODY.PEEK[2.HEADER]",
            "BODY.PEEK[1]",
            "BINARY.PEEK[]",
        ] {
            let a = &parse(other).unwrap()[0];
            assert!(a.needs_body() && !a.needs_header_only(), "{other}");
        }
        assert!(!FetchAtt::Envelope.needs_body());
    }

    #[test]
    fn malformed() {
        assert!(parse("BODY[MIME]").is_err());
        assert!(parse("BODY[0]").is_err());
        assert!(parse("BODY[TEXT").is_err());
        assert!(parse("()").is_err());
        assert!(parse("FOO").is_err());
        assert!(parse("BODY[]<1.0>").is_err());
    }
}

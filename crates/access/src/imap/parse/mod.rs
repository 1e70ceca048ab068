//! IMAP command parsing, apart from any I/O (RFC 3501 §9, RFC 9051 §9).
//!
//! The session reads a whole command first ([`frame`] finds the literals and checks their
//! sizes), then [`command::parse`] turns the bytes into a [`command::Command`]. Nothing here
//! touches a socket, so every rule is unit-tested (and can be fuzzed) on plain byte strings.
//!
//! # Layout
//! - [`frame`]: literal markers at the end of a line, limits.
//! - [`seq`]: sequence sets (`1:3,7,*`).
//! - [`command`]: the command grammar.
//! - [`append`]: APPEND's messages (MULTIAPPEND, CATENATE).
//! - [`fetch`]: FETCH attributes and body sections.
//! - [`search`]: SEARCH keys.
//! - [`sort`]: SORT criteria and THREAD algorithms.
//! - [`url`]: IMAP URLs to messages and their parts (RFC 5092), for CATENATE.
//! - [`utf7`]: modified UTF-7 mailbox names (RFC 3501 §5.1.3).

pub mod append;
pub mod command;
pub mod fetch;
pub mod frame;
pub mod search;
pub mod seq;
pub mod sort;
pub mod url;
pub mod utf7;

use std::borrow::Cow;

/// Deepest nesting of parenthesised lists (and of search keys) accepted in one command.
pub const MAX_DEPTH: usize = 16;

/// Why a command could not be parsed; the text goes into the `BAD` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Result of a parsing step.
pub type PResult<T> = Result<T, ParseError>;

fn err<T>(what: impl Into<String>) -> PResult<T> {
    Err(ParseError(what.into()))
}

/// RFC 3501 §9 `atom-specials`, without the control characters and SP tested apart.
fn is_atom_char(c: u8) -> bool {
    c > 0x20 && c < 0x7f && !b"(){%*\"\\]".contains(&c)
}

/// `ASTRING-CHAR`: an atom character or `]`.
fn is_astring_char(c: u8) -> bool {
    is_atom_char(c) || c == b']'
}

/// `list-char`: an astring character or a wildcard.
fn is_list_char(c: u8) -> bool {
    is_astring_char(c) || c == b'%' || c == b'*'
}

/// A cursor over one complete command (its literals included, each after its `{N}\r\n`).
/// Cloning it gives a lookahead that the original does not follow.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    /// IMAP4rev2 is enabled: mailbox names are UTF-8, never modified UTF-7 (RFC 9051 §5.1).
    pub utf8_names: bool,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Parser {
            buf,
            pos: 0,
            depth: 0,
            utf8_names: false,
        }
    }

    /// Position in the buffer.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// True at the end of the command.
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next byte, not consumed.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Consumes `c` if it is next.
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Expects `c`.
    pub fn expect(&mut self, c: u8) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            err(format!("expected {:?} at offset {}", c as char, self.pos))
        }
    }

    /// Expects one space.
    pub fn sp(&mut self) -> PResult<()> {
        self.expect(b' ')
    }

    /// Expects the end of the command.
    pub fn end(&self) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            err(format!("unexpected text at offset {}", self.pos))
        }
    }

    /// Consumes `word` (case-insensitive) if it is next and followed by a delimiter.
    pub fn eat_word(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        match self.buf.get(self.pos..end) {
            Some(s) if s.eq_ignore_ascii_case(word.as_bytes()) => {
                let next = self.buf.get(end).copied();
                if next.is_none_or(|c| !is_atom_char(c) || word.ends_with(['[', '.'])) {
                    self.pos = end;
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.buf[start..self.pos]
    }

    /// An atom (RFC 3501 §9 `atom`).
    pub fn atom(&mut self) -> PResult<&'a str> {
        let s = self.take_while(is_atom_char);
        if s.is_empty() {
            return err(format!("expected an atom at offset {}", self.pos));
        }
        // Atom characters are ASCII.
        std::str::from_utf8(s).map_err(|_| ParseError("atom is not ASCII".into()))
    }

    /// A tag: astring characters except `+`.
    pub fn tag(&mut self) -> PResult<&'a str> {
        let s = self.take_while(|c| is_astring_char(c) && c != b'+');
        if s.is_empty() {
            return err("missing tag");
        }
        std::str::from_utf8(s).map_err(|_| ParseError("tag is not ASCII".into()))
    }

    /// A number (`number`: up to 32 bits).
    pub fn number(&mut self) -> PResult<u32> {
        let n = self.number64()?;
        u32::try_from(n).map_err(|_| ParseError("number out of range".into()))
    }

    /// A 63-bit number (`mod-sequence-value`, sizes).
    pub fn number64(&mut self) -> PResult<u64> {
        let s = self.take_while(|c| c.is_ascii_digit());
        if s.is_empty() || s.len() > 19 {
            return err(format!("expected a number at offset {}", self.pos));
        }
        s.iter()
            .try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
            .ok_or_else(|| ParseError("number out of range".into()))
    }

    /// A quoted string (RFC 3501 §9 `quoted`), unescaped.
    pub fn quoted(&mut self) -> PResult<Vec<u8>> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r') | Some(b'\n') => return err("unterminated quoted string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        _ => return err("bad escape in quoted string"),
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A literal (`{N}` or `{N+}`, or a binary `~{N}`, RFC 3516 §4.4; CRLF, N bytes); the
    /// session has already read it whole.
    pub fn literal(&mut self) -> PResult<&'a [u8]> {
        self.eat(b'~');
        self.expect(b'{')?;
        let n = self.number64()?;
        self.eat(b'+');
        self.expect(b'}')?;
        if !(self.eat(b'\r') && self.eat(b'\n')) {
            return err("literal marker not followed by CRLF");
        }
        let n = usize::try_from(n).map_err(|_| ParseError("literal too large".into()))?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| ParseError("literal shorter than announced".into()))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Where the literal that comes next lies in the buffer (for APPEND, to avoid a copy).
    pub fn literal_range(&mut self) -> PResult<std::ops::Range<usize>> {
        let s = self.literal()?;
        Ok(self.pos - s.len()..self.pos)
    }

    /// `string`: quoted or literal.
    pub fn string(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"') => Ok(Cow::Owned(self.quoted()?)),
            Some(b'{' | b'~') => Ok(Cow::Borrowed(self.literal()?)),
            _ => err(format!("expected a string at offset {}", self.pos)),
        }
    }

    /// `astring`: an atom (with `]`) or a string.
    pub fn astring(&mut self) -> PResult<Cow<'a, [u8]>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let s = self.take_while(is_astring_char);
                if s.is_empty() {
                    return err(format!("expected a string at offset {}", self.pos));
                }
                Ok(Cow::Borrowed(s))
            }
        }
    }

    /// An astring as UTF-8 text.
    pub fn astring_utf8(&mut self) -> PResult<String> {
        let s = self.astring()?;
        String::from_utf8(s.into_owned()).map_err(|_| ParseError("string is not UTF-8".into()))
    }

    /// `nstring`-like: `NIL` or a string.
    pub fn nstring(&mut self) -> PResult<Option<Cow<'a, [u8]>>> {
        if self.eat_word("NIL") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// A mailbox name (`mailbox`), decoded from modified UTF-7 when it is valid as such.
    pub fn mailbox(&mut self) -> PResult<String> {
        let s = self.astring_utf8()?;
        if self.utf8_names {
            return Ok(s);
        }
        Ok(utf7::decode(&s).unwrap_or(s))
    }

    /// A LIST pattern (`list-mailbox`): list characters or a string.
    pub fn list_mailbox(&mut self) -> PResult<String> {
        let raw = match self.peek() {
            Some(b'"' | b'{') => self.string()?.into_owned(),
            _ => {
                let s = self.take_while(is_list_char);
                if s.is_empty() {
                    return err("expected a mailbox pattern");
                }
                s.to_vec()
            }
        };
        let s = String::from_utf8(raw).map_err(|_| ParseError("pattern is not UTF-8".into()))?;
        if self.utf8_names {
            return Ok(s);
        }
        Ok(utf7::decode(&s).unwrap_or(s))
    }

    /// A parenthesised, space-separated list of `item`s (possibly empty).
    pub fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        self.expect(b'(')?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("lists nested too deeply");
        }
        let mut out = Vec::new();
        if !self.eat(b')') {
            loop {
                out.push(item(self)?);
                if self.eat(b')') {
                    break;
                }
                self.sp()?;
            }
        }
        self.depth -= 1;
        Ok(out)
    }

    /// Enters one level of nesting that is not a list (a search key in parentheses).
    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("command nested too deeply");
        }
        Ok(())
    }

    /// Leaves a level entered with [`Parser::enter`].
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A flag: `\Name` or a keyword atom.
    pub fn flag(&mut self) -> PResult<String> {
        let backslash = self.eat(b'\\');
        if backslash && self.eat(b'*') {
            return Ok("\\*".into());
        }
        let a = self.atom()?;
        Ok(if backslash {
            format!("\\{a}")
        } else {
            a.to_string()
        })
    }

    /// A date (`date`: `d-Mon-yyyy`, quoted or not), as the epoch second of its midnight UTC.
    pub fn date(&mut self) -> PResult<i64> {
        let text = if self.peek() == Some(b'"') {
            self.quoted()?
        } else {
            self.take_while(|c| c.is_ascii_alphanumeric() || c == b'-')
                .to_vec()
        };
        let text = String::from_utf8(text).map_err(|_| ParseError("bad date".into()))?;
        parse_date(&text).ok_or_else(|| ParseError(format!("bad date {text:?}")))
    }

    /// A `date-time` (`"dd-Mon-yyyy hh:mm:ss +zzzz"`), as an epoch second.
    pub fn date_time(&mut self) -> PResult<i64> {
        let text = self.quoted()?;
        let text = String::from_utf8(text).map_err(|_| ParseError("bad date-time".into()))?;
        parse_date_time(&text).ok_or_else(|| ParseError(format!("bad date-time {text:?}")))
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn civil(day: u8, month: &str, year: i32) -> Option<time::Date> {
    let m = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(month))?;
    let month = time::Month::try_from(u8::try_from(m + 1).ok()?).ok()?;
    time::Date::from_calendar_date(year, month, day).ok()
}

/// `d-Mon-yyyy` at midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let day: u8 = it.next()?.trim().parse().ok()?;
    let month = it.next()?;
    let year: i32 = it.next()?.parse().ok()?;
    Some(
        civil(day, month, year)?
            .midnight()
            .assume_utc()
            .unix_timestamp(),
    )
}

/// `dd-Mon-yyyy hh:mm:ss +zzzz` (RFC 3501 §9 `date-time`).
pub fn parse_date_time(s: &str) -> Option<i64> {
    let (date, rest) = s.trim_start().split_once(' ')?;
    let (clock, zone) = rest.split_once(' ')?;
    let mut it = date.splitn(3, '-');
    let day: u8 = it.next()?.parse().ok()?;
    let month = it.next()?;
    let year: i32 = it.next()?.parse().ok()?;
    let d = civil(day, month, year)?;
    let mut c = clock.splitn(3, ':');
    let h: u8 = c.next()?.parse().ok()?;
    let mi: u8 = c.next()?.parse().ok()?;
    let se: u8 = c.next()?.parse().ok()?;
    let t = time::Time::from_hms(h, mi, se).ok()?;
    if zone.len() != 5 {
        return None;
    }
    let sign = match zone.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zh: i64 = zone.get(1..3)?.parse().ok()?;
    let zm: i64 = zone.get(3..5)?.parse().ok()?;
    let local = d.with_time(t).assume_utc().unix_timestamp();
    Some(local - sign * (zh * 3600 + zm * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_atoms_and_literals() {
        let mut p = Parser::new(b"abc \"a \\\"q\\\\\" {3}\r\nx y {2+}\r\nzz");
        assert_eq!(p.atom().unwrap(), "abc");
        p.sp().unwrap();
        assert_eq!(&*p.astring().unwrap(), b"a \"q\\");
        p.sp().unwrap();
        assert_eq!(&*p.astring().unwrap(), b"x y");
        p.sp().unwrap();
        assert_eq!(&*p.string().unwrap(), b"zz");
        p.end().unwrap();
    }

    #[test]
    fn malformed_strings_are_errors() {
        assert!(Parser::new(b"\"open").quoted().is_err());
        assert!(Parser::new(b"\"bad \\x\"").quoted().is_err());
        assert!(Parser::new(b"{5}\r\nabc").literal().is_err());
        assert!(Parser::new(b"{5}abcde").literal().is_err());
        assert!(
            Parser::new(b"{99999999999999999999}\r\n")
                .literal()
                .is_err()
        );
        assert!(Parser::new(b"(").astring().is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        fn nested(p: &mut Parser<'_>) -> PResult<u32> {
            if p.peek() == Some(b'(') {
                p.list(nested).map(|v| v.len() as u32)
            } else {
                p.number()
            }
        }
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert!(nested(&mut Parser::new(deep.as_bytes())).is_err());
        let ok = format!("{}1{}", "(".repeat(5), ")".repeat(5));
        assert!(nested(&mut Parser::new(ok.as_bytes())).is_ok());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1-Feb-1994"), Some(760_060_800));
        assert_eq!(
            parse_date_time("17-Jul-1996 02:44:25 -0700"),
            Some(837_596_665)
        );
        assert_eq!(parse_date("31-Feb-1994"), None);
        assert_eq!(parse_date_time("17-Jul-1996 02:44:25"), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(Parser::new(b"4294967295").number().unwrap(), u32::MAX);
        assert!(Parser::new(b"4294967296").number().is_err());
        assert!(Parser::new(b"x").number().is_err());
    }
}

//! SEARCH keys (RFC 3501 §6.4.4, RFC 7162 §3.1.5 for MODSEQ), ESEARCH return options
//! (RFC 4731) and SAVE (RFC 5182).

use super::seq::SeqSet;
use super::{PResult, ParseError, Parser};

/// One search key; a list of keys is their conjunction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    All,
    /// A system flag that must be set (`true`) or unset.
    Flag(&'static str, bool),
    Keyword(String, bool),
    New,
    Old,
    Recent,
    Seq(SeqSet),
    Uid(SeqSet),
    /// A header field containing a string (FROM, TO, CC, BCC, SUBJECT, HEADER).
    Header(String, String),
    Body(String),
    Text(String),
    /// Internal date: before, on, since (epoch seconds of a day's midnight).
    Before(i64),
    On(i64),
    Since(i64),
    SentBefore(i64),
    SentOn(i64),
    SentSince(i64),
    /// SAVEDATE (RFC 8514): the save date's day (UTC) before, on, since the given day.
    SavedBefore(i64),
    SavedOn(i64),
    SavedSince(i64),
    /// SAVEDATE (RFC 8514): every message of a mailbox that keeps save dates (all do).
    SaveDateSupported,
    /// RFC 5032 (WITHIN): the internal date more than this many seconds ago.
    Older(u32),
    /// RFC 5032 (WITHIN): the internal date at most this many seconds ago.
    Younger(u32),
    Larger(u64),
    Smaller(u64),
    ModSeq(u64),
    Not(Box<Key>),
    Or(Box<Key>, Box<Key>),
    And(Vec<Key>),
}

/// ESEARCH `RETURN` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Return {
    pub min: bool,
    pub max: bool,
    pub all: bool,
    pub count: bool,
    /// RFC 5182 §2.1: keep the result for `$`.
    pub save: bool,
}

impl Return {
    /// RFC 5182 §2.4: `RETURN (SAVE)` alone saves without an ESEARCH response.
    pub fn answers(&self) -> bool {
        self.min || self.max || self.all || self.count
    }
}

/// A parsed SEARCH: optional RETURN, optional CHARSET, keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub ret: Option<Return>,
    pub key: Key,
}

/// The list after `RETURN` (RFC 4731 §3.1, RFC 5182 §2.1, RFC 5267 §3): an empty list means
/// `ALL`.
pub fn return_options(p: &mut Parser<'_>) -> PResult<Return> {
    let opts = p.list(|p| Ok(p.atom()?.to_ascii_uppercase()))?;
    let mut r = Return::default();
    for o in &opts {
        match o.as_str() {
            "MIN" => r.min = true,
            "MAX" => r.max = true,
            "ALL" => r.all = true,
            "COUNT" => r.count = true,
            "SAVE" => r.save = true,
            _ => return Err(ParseError(format!("unknown RETURN option {o}"))),
        }
    }
    if opts.is_empty() {
        r.all = true;
    }
    Ok(r)
}

/// Parses the arguments of SEARCH.
pub fn search(p: &mut Parser<'_>) -> PResult<Search> {
    let mut ret = None;
    if p.eat_word("RETURN") {
        p.sp()?;
        ret = Some(return_options(p)?);
        p.sp()?;
    }
    if p.eat_word("CHARSET") {
        p.sp()?;
        let cs = p.astring()?;
        if !cs.eq_ignore_ascii_case(b"UTF-8") && !cs.eq_ignore_ascii_case(b"US-ASCII") {
            return Err(ParseError(
                "[BADCHARSET (UTF-8 US-ASCII)] charset not supported".into(),
            ));
        }
        p.sp()?;
    }
    let key = keys(p)?;
    Ok(Search { ret, key })
}

/// True if a command that failed to parse was a SEARCH (or an ESORT SORT, RFC 5267 §3)
/// asking to SAVE its result: RFC 5182 §2.1 then empties the saved result. Only the words
/// before the keys are looked at.
pub fn saves(command: &[u8]) -> bool {
    let line = command.split(|&b| b == b'\r').next().unwrap_or_default();
    let text = String::from_utf8_lossy(line).to_ascii_uppercase();
    let mut words = text.split(' ').skip(1).peekable();
    if words.peek() == Some(&"UID") {
        words.next();
    }
    if !matches!(words.next(), Some("SEARCH" | "SORT")) || words.next() != Some("RETURN") {
        return false;
    }
    for w in words {
        let w = w.trim_start_matches('(');
        if w.trim_end_matches(')') == "SAVE" {
            return true;
        }
        if w.ends_with(')') {
            break;
        }
    }
    false
}

/// Search keys up to the end of the command, as one key.
pub fn keys(p: &mut Parser<'_>) -> PResult<Key> {
    let mut keys = vec![key(p)?];
    while p.eat(b' ') {
        keys.push(key(p)?);
    }
    p.end()?;
    Ok(if keys.len() == 1 {
        keys.pop().unwrap_or(Key::All)
    } else {
        Key::And(keys)
    })
}

fn text(p: &mut Parser<'_>) -> PResult<String> {
    p.sp()?;
    p.astring_utf8()
}

fn key(p: &mut Parser<'_>) -> PResult<Key> {
    if p.peek() == Some(b'(') {
        p.enter()?;
        p.expect(b'(')?;
        let mut keys = vec![key(p)?];
        while p.eat(b' ') {
            keys.push(key(p)?);
        }
        p.expect(b')')?;
        p.leave();
        return Ok(Key::And(keys));
    }
    if p.peek()
        .is_some_and(|c| c.is_ascii_digit() || c == b'*' || c == b'$')
    {
        return Ok(Key::Seq(SeqSet::parse(p)?));
    }
    let word = p.atom()?.to_ascii_uppercase();
    let date = |p: &mut Parser<'_>| {
        p.sp()?;
        p.date()
    };
    Ok(match word.as_str() {
        "ALL" => Key::All,
        "ANSWERED" => Key::Flag("\\Answered", true),
        "DELETED" => Key::Flag("\\Deleted", true),
        "DRAFT" => Key::Flag("\\Draft", true),
        "FLAGGED" => Key::Flag("\\Flagged", true),
        "SEEN" => Key::Flag("\\Seen", true),
        "UNANSWERED" => Key::Flag("\\Answered", false),
        "UNDELETED" => Key::Flag("\\Deleted", false),
        "UNDRAFT" => Key::Flag("\\Draft", false),
        "UNFLAGGED" => Key::Flag("\\Flagged", false),
        "UNSEEN" => Key::Flag("\\Seen", false),
        "NEW" => Key::New,
        "OLD" => Key::Old,
        "RECENT" => Key::Recent,
        "KEYWORD" | "UNKEYWORD" => {
            p.sp()?;
            Key::Keyword(p.atom()?.to_string(), word == "KEYWORD")
        }
        "UID" => {
            p.sp()?;
            Key::Uid(SeqSet::parse(p)?)
        }
        "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" => Key::Header(word.clone(), text(p)?),
        "HEADER" => {
            let name = text(p)?;
            Key::Header(name, text(p)?)
        }
        "BODY" => Key::Body(text(p)?),
        "TEXT" => Key::Text(text(p)?),
        "BEFORE" => Key::Before(date(p)?),
        "ON" => Key::On(date(p)?),
        "SINCE" => Key::Since(date(p)?),
        "SENTBEFORE" => Key::SentBefore(date(p)?),
        "SENTON" => Key::SentOn(date(p)?),
        "SENTSINCE" => Key::SentSince(date(p)?),
        "SAVEDBEFORE" => Key::SavedBefore(date(p)?),
        "SAVEDON" => Key::SavedOn(date(p)?),
        "SAVEDSINCE" => Key::SavedSince(date(p)?),
        "SAVEDATESUPPORTED" => Key::SaveDateSupported,
        "LARGER" => {
            p.sp()?;
            Key::Larger(p.number64()?)
        }
        // RFC 5032 §4: `"OLDER" SP nz-number` and `"YOUNGER" SP nz-number`.
        "OLDER" | "YOUNGER" => {
            p.sp()?;
            let n = p.number()?;
            if n == 0 {
                return Err(ParseError(format!("{word} needs a number above 0")));
            }
            if word == "OLDER" {
                Key::Older(n)
            } else {
                Key::Younger(n)
            }
        }
        "SMALLER" => {
            p.sp()?;
            Key::Smaller(p.number64()?)
        }
        "MODSEQ" => {
            p.sp()?;
            // RFC 7162 §3.1.5: an optional entry name and type come before the value.
            if p.peek() == Some(b'"') {
                p.quoted()?;
                p.sp()?;
                p.atom()?;
                p.sp()?;
            }
            Key::ModSeq(p.number64()?)
        }
        "NOT" => {
            p.sp()?;
            p.enter()?;
            let k = key(p)?;
            p.leave();
            Key::Not(Box::new(k))
        }
        "OR" => {
            p.sp()?;
            p.enter()?;
            let a = key(p)?;
            p.sp()?;
            let b = key(p)?;
            p.leave();
            Key::Or(Box::new(a), Box::new(b))
        }
        _ => return Err(ParseError(format!("unknown search key {word}"))),
    })
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The date of a Date: header field's value (RFC 5322 §3.3 `date-time`, with the obsolete
/// forms of §4.3: comments, folding, two- and three-digit years), as the epoch second of
/// that day's midnight UTC: the day as written, whatever the time and zone after it
/// (RFC 3501 §6.4.4 SENT* keys). `None` if no day, month and year can be read.
pub fn date_field_day(value: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(value).ok()?;
    // Comments (possibly nested) read as white space (RFC 5322 §3.2.2).
    let mut plain = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                plain.push(' ');
            }
            _ if depth > 0 => {}
            _ => plain.push(c),
        }
    }
    let mut words = plain
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .peekable();
    // An optional day of the week.
    if words
        .peek()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
    {
        words.next();
    }
    let day: u8 = words.next()?.parse().ok()?;
    let month = words.next()?.to_ascii_lowercase();
    let month = MONTHS.iter().position(|m| *m == month)?;
    let year_text = words.next()?;
    if !year_text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = year_text.parse().ok()?;
    // RFC 5322 §4.3: a two-digit year below 50 is 20xx, else 19xx; three digits add 1900.
    let year = match year_text.len() {
        1 | 2 if year < 50 => year + 2000,
        1 | 2 => year + 1900,
        3 => year + 1900,
        _ => year,
    };
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> PResult<Search> {
        search(&mut Parser::new(s.as_bytes()))
    }

    #[test]
    fn keys() {
        let s =
            parse("RETURN (MIN COUNT) CHARSET UTF-8 OR SEEN (FROM \"bob\" LARGER 10) NOT UID 1:*")
                .unwrap();
        assert_eq!(
            s.ret,
            Some(Return {
                min: true,
                count: true,
                ..Return::default()
            })
        );
        let Key::And(keys) = s.key else { panic!("and") };
        assert_eq!(keys.len(), 2);
        assert!(matches!(keys[0], Key::Or(..)));
        assert!(matches!(keys[1], Key::Not(..)));
        assert_eq!(
            parse("SINCE 1-Feb-1994").unwrap().key,
            Key::Since(760_060_800)
        );
        assert_eq!(
            parse("HEADER X-Spam yes").unwrap().key,
            Key::Header("X-Spam".into(), "yes".into())
        );
    }

    /// RFC 5032 §4: `"OLDER" SP nz-number`, `"YOUNGER" SP nz-number`.
    #[test]
    fn within() {
        assert_eq!(parse("older 3600").unwrap().key, Key::Older(3600));
        assert_eq!(parse("YOUNGER 1").unwrap().key, Key::Younger(1));
        for bad in ["OLDER 0", "YOUNGER", "OLDER -1", "YOUNGER 4294967296"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn save() {
        let r = parse("RETURN (SAVE) ALL").unwrap().ret.unwrap();
        assert!(r.save && !r.answers());
        let r = parse("RETURN (MIN SAVE) $").unwrap();
        assert!(r.ret.as_ref().unwrap().save && r.ret.unwrap().min);
        assert_eq!(r.key, Key::Seq(SeqSet::Saved));
        assert_eq!(parse("UID $").unwrap().key, Key::Uid(SeqSet::Saved));
        assert!(saves(b"a1 SEARCH RETURN (SAVE) BOGUS"));
        assert!(saves(b"a1 UID SORT RETURN (MIN SAVE) (BOGUS) UTF-8 ALL"));
        assert!(!saves(b"a1 SORT RETURN (MIN) (DATE) UTF-8 SAVE"));
        assert!(saves(b"a1 uid search return (min save) FROM"));
        assert!(!saves(b"a1 SEARCH RETURN (MIN) SAVE"));
        assert!(!saves(b"a1 FETCH 1 (SAVE)"));
    }

    #[test]
    fn date_fields_give_their_day_as_written() {
        let day = |s: &str| date_field_day(s.as_bytes());
        let d = |s: &str| super::super::parse_date(s);
        // RFC 5322 §A.1.1's example, with its zone: the day as written.
        assert_eq!(day(" Fri, 21 Nov 1997 09:55:06 -0600"), d("21-Nov-1997"));
        // Near midnight: the day as written, not the day in UTC.
        assert_eq!(day("Mon, 1 Jan 2001 23:30:00 -0800"), d("1-Jan-2001"));
        assert_eq!(day("Mon, 1 Jan 2001 00:30:00 +1300"), d("1-Jan-2001"));
        // No day of the week, comments, folding, obsolete years and zones.
        assert_eq!(day("1 Jan 2001 00:00 GMT"), d("1-Jan-2001"));
        assert_eq!(
            day("(Sent) Tue,\r\n 2 (second) Feb 99 10:00 EST"),
            d("2-Feb-1999")
        );
        assert_eq!(day("3 Mar 05 10:00 +0000"), d("3-Mar-2005"));
        assert_eq!(day("4 apr 101 10:00 +0000"), d("4-Apr-2001"));
        // Not dates.
        assert_eq!(day(""), None);
        assert_eq!(day("yesterday"), None);
        assert_eq!(day("31 Feb 2001 10:00 +0000"), None);
        assert_eq!(day("1 Foo 2001"), None);
        assert_eq!(day("1 Jan twenty"), None);
    }

    #[test]
    fn malformed() {
        assert!(parse("").is_err());
        assert!(parse("FROM").is_err());
        assert!(parse("BOGUS").is_err());
        assert!(parse("CHARSET KOI8-R ALL").is_err());
        assert!(parse("SINCE 40-Feb-2000").is_err());
        let deep = format!("{}ALL", "NOT ".repeat(100));
        assert!(parse(&deep).is_err());
    }
}

//! SORT and THREAD arguments (RFC 5256 §3): criteria or algorithm, a charset, search keys.

use super::search::{self, Key, Return};
use super::{PResult, ParseError, Parser};

/// What SORT orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    /// RFC 5957 §3: the display name of the first From address, else its address.
    DisplayFrom,
    /// RFC 5957 §3: the same for the first To address.
    DisplayTo,
    From,
    Size,
    Subject,
    To,
}

/// One criterion: a key, possibly reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// THREAD algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    OrderedSubject,
    References,
}

fn charset(p: &mut Parser<'_>) -> PResult<()> {
    let cs = p.astring()?;
    if !cs.eq_ignore_ascii_case(b"UTF-8") && !cs.eq_ignore_ascii_case(b"US-ASCII") {
        return Err(ParseError(
            "[BADCHARSET (UTF-8 US-ASCII)] charset not supported".into(),
        ));
    }
    p.sp()
}

/// SORT's arguments: `[RETURN (options)] (criteria) charset keys` (RFC 5256 §3, RETURN from
/// ESORT, RFC 5267 §3, DISPLAYFROM and DISPLAYTO from RFC 5957).
pub fn sort(p: &mut Parser<'_>) -> PResult<(Option<Return>, Vec<Criterion>, Key)> {
    let mut ret = None;
    if p.eat_word("RETURN") {
        p.sp()?;
        ret = Some(search::return_options(p)?);
        p.sp()?;
    }
    let mut crit = Vec::new();
    let words = p.list(|p| Ok(p.atom()?.to_ascii_uppercase()))?;
    let mut reverse = false;
    for w in words {
        let key = match w.as_str() {
            "REVERSE" if !reverse => {
                reverse = true;
                continue;
            }
            "ARRIVAL" => SortKey::Arrival,
            "CC" => SortKey::Cc,
            "DATE" => SortKey::Date,
            "DISPLAYFROM" => SortKey::DisplayFrom,
            "DISPLAYTO" => SortKey::DisplayTo,
            "FROM" => SortKey::From,
            "SIZE" => SortKey::Size,
            "SUBJECT" => SortKey::Subject,
            "TO" => SortKey::To,
            _ => return Err(ParseError(format!("bad sort criterion {w}"))),
        };
        crit.push(Criterion { reverse, key });
        reverse = false;
    }
    if crit.is_empty() || reverse {
        return Err(ParseError("bad sort criteria".into()));
    }
    p.sp()?;
    charset(p)?;
    Ok((ret, crit, search::keys(p)?))
}

/// `algorithm charset keys`.
pub fn thread(p: &mut Parser<'_>) -> PResult<(Algorithm, Key)> {
    let a = match p.atom()?.to_ascii_uppercase().as_str() {
        "ORDEREDSUBJECT" => Algorithm::OrderedSubject,
        "REFERENCES" => Algorithm::References,
        other => return Err(ParseError(format!("unknown THREAD algorithm {other}"))),
    };
    p.sp()?;
    charset(p)?;
    Ok((a, search::keys(p)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let (r, c, k) = sort(&mut Parser::new(b"(REVERSE DATE SUBJECT) UTF-8 ALL")).unwrap();
        assert_eq!(r, None);
        assert_eq!(
            c,
            vec![
                Criterion {
                    reverse: true,
                    key: SortKey::Date
                },
                Criterion {
                    reverse: false,
                    key: SortKey::Subject
                }
            ]
        );
        assert_eq!(k, Key::All);
        assert!(sort(&mut Parser::new(b"(REVERSE) UTF-8 ALL")).is_err());
        // RFC 5267 §3: RETURN options before the criteria; `()` means ALL.
        let (r, _, _) = sort(&mut Parser::new(b"RETURN (MIN COUNT) (DATE) UTF-8 ALL")).unwrap();
        let r = r.unwrap();
        assert!(r.min && r.count && !r.max && !r.all);
        let (r, _, _) = sort(&mut Parser::new(b"RETURN () (DATE) UTF-8 ALL")).unwrap();
        assert!(r.unwrap().all);
        assert!(sort(&mut Parser::new(b"RETURN (BOGUS) (DATE) UTF-8 ALL")).is_err());
        assert!(sort(&mut Parser::new(b"RETURN (DATE) UTF-8 ALL")).is_err());
        let (_, c, _) = sort(&mut Parser::new(
            b"(displayfrom REVERSE DISPLAYTO) UTF-8 ALL",
        ))
        .unwrap();
        assert_eq!(
            c,
            vec![
                Criterion {
                    reverse: false,
                    key: SortKey::DisplayFrom
                },
                Criterion {
                    reverse: true,
                    key: SortKey::DisplayTo
                }
            ]
        );
        assert!(sort(&mut Parser::new(b"(DATE) KOI8-R ALL")).is_err());
        assert!(sort(&mut Parser::new(b"() UTF-8 ALL")).is_err());
        let (a, _) = thread(&mut Parser::new(b"REFERENCES US-ASCII SEEN")).unwrap();
        assert_eq!(a, Algorithm::References);
        assert!(thread(&mut Parser::new(b"X UTF-8 ALL")).is_err());
    }
}

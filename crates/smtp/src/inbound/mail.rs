//! MAIL FROM (RFC 5321 §4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152) and SMTPUTF8
//! (RFC 6531) parameters.

use super::command::{ParseError, parameters, path};

/// `BODY=` (RFC 6152 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
}

/// A parsed `MAIL FROM`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailFrom {
    /// The reverse path; empty for the null sender `<>`.
    pub from: String,
    /// `SIZE=`: the size the client announces.
    pub size: Option<u64>,
    pub body: Body,
    pub smtputf8: bool,
}

pub fn parse(rest: &str) -> Result<MailFrom, ParseError> {
    let Some(p) = strip_keyword(rest, "FROM:") else {
        return Err(ParseError::Syntax("expected MAIL FROM:<address>"));
    };
    let (from, params) = path(p)?;
    let mut m = MailFrom {
        from,
        ..MailFrom::default()
    };
    for (k, v) in parameters(params)? {
        match (k.as_str(), v) {
            ("SIZE", Some(v)) => {
                m.size = Some(v.parse().map_err(|_| ParseError::Syntax("bad SIZE"))?);
            }
            ("BODY", Some(v)) => {
                m.body = match v.to_ascii_uppercase().as_str() {
                    "7BIT" => Body::SevenBit,
                    "8BITMIME" => Body::EightBitMime,
                    _ => return Err(ParseError::Syntax("BODY must be 7BIT or 8BITMIME")),
                };
            }
            ("SMTPUTF8", None) => m.smtputf8 = true,
            _ => return Err(ParseError::Syntax("unknown MAIL parameter")),
        }
    }
    Ok(m)
}

/// `FROM:` or `TO:`, case-insensitive.
pub(crate) fn strip_keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let head = s.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw).then(|| &s[kw.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_and_parameters() {
        let m = parse("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8").unwrap();
        assert_eq!(m.from, "a@b.example");
        assert_eq!(m.size, Some(1000));
        assert_eq!(m.body, Body::EightBitMime);
        assert!(m.smtputf8);
        assert_eq!(parse("from:<>").unwrap().from, "");
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "FROM",
            "TO:<a@b.c>",
            "FROM:<a@b.c> SIZE=x",
            "FROM:<a@b.c> BODY=BINARYMIME",
            "FROM:<a@b.c> FOO=1",
            "FROM:a@b.c",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

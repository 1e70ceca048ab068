//! RCPT TO (RFC 5321 §4.1.1.3): parsing here; resolution through the core in the session
//! ([`super::session`]), which knows who is authenticated.

use super::command::{ParseError, parameters, path};
use super::mail::strip_keyword;

/// A parsed `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptTo {
    pub to: String,
}

pub fn parse(rest: &str) -> Result<RcptTo, ParseError> {
    let Some(p) = strip_keyword(rest, "TO:") else {
        return Err(ParseError::Syntax("expected RCPT TO:<address>"));
    };
    let (to, params) = path(p)?;
    if to.is_empty() {
        return Err(ParseError::Syntax("a recipient cannot be <>"));
    }
    // DSN parameters (RFC 3461 NOTIFY, ORCPT) are not offered: any parameter is an error.
    if !parameters(params)?.is_empty() {
        return Err(ParseError::Syntax("unknown RCPT parameter"));
    }
    Ok(RcptTo { to })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients() {
        assert_eq!(parse("TO:<a@b.example>").unwrap().to, "a@b.example");
        assert_eq!(parse("to: <a@b.example>").unwrap().to, "a@b.example");
        for bad in [
            "TO:<>",
            "FROM:<a@b.c>",
            "TO:<a@b.c> NOTIFY=NEVER",
            "TO:<@x:a@b.c>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

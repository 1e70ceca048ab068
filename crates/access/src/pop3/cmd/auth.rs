//! AUTH (RFC 5034): SASL sign-in; only PLAIN (RFC 4616) is offered. `AUTH` alone lists the
//! mechanisms; the initial response may come with the command (`=` for an empty one) or after
//! a `+ ` continuation; `*` cancels (RFC 5034 §4). The responses are decoded by
//! `marque_session::sasl`.

use super::{Command, ParseError, Reply};

/// The mechanisms offered.
pub const MECHANISMS: &[&str] = &["PLAIN"];

/// `AUTH mechanism [initial-response]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-cased.
    pub mechanism: String,
    pub initial: Option<String>,
}

pub fn parse(args: &str) -> Result<Command, ParseError> {
    let args = args.trim_end();
    if args.is_empty() {
        return Ok(Command::Auth(None));
    }
    let mut it = args.split(' ');
    let mechanism = it.next().unwrap_or_default().to_ascii_uppercase();
    let initial = it.next().map(str::to_string);
    if mechanism.is_empty() || it.next().is_some() || initial.as_deref() == Some("") {
        return Err(ParseError::Syntax("AUTH mechanism [initial-response]"));
    }
    Ok(Command::Auth(Some(Request { mechanism, initial })))
}

/// The answer to `AUTH` alone: the mechanisms, one per line.
pub fn list() -> Reply {
    Reply::multi(
        "methods supported",
        MECHANISMS.iter().map(|m| m.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_initial_response() {
        assert_eq!(parse(""), Ok(Command::Auth(None)));
        assert_eq!(
            parse("plain"),
            Ok(Command::Auth(Some(Request {
                mechanism: "PLAIN".into(),
                initial: None
            })))
        );
        assert!(matches!(
            parse("PLAIN abc"),
            Ok(Command::Auth(Some(Request {
                initial: Some(_),
                ..
            })))
        ));
        assert!(parse("PLAIN a b").is_err());
    }
}

//! AUTH (RFC 5034): SASL sign-in; only PLAIN (RFC 4616) is offered. `AUTH` alone lists the
//! mechanisms; the initial response may come with the command (`=` for an empty one) or after
//! a `+ ` continuation; `*` cancels (RFC 5034 §4).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

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

/// The credentials of a PLAIN response.
#[derive(PartialEq, Eq)]
pub struct Plain {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plain({:?}, ..)", self.login)
    }
}

/// Why a SASL response is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslError {
    /// The client sent `*` (RFC 5034 §4).
    Cancelled,
    /// Not base64, or not `authzid NUL authcid NUL passwd`.
    Malformed,
    /// An authorization identity other than the login: no proxy sign-in.
    OtherIdentity,
}

/// Decodes a PLAIN response (RFC 4616 §2): `=` is the empty response.
pub fn decode_plain(response: &str) -> Result<Plain, SaslError> {
    let response = response.trim_end();
    if response == "*" {
        return Err(SaslError::Cancelled);
    }
    let raw = if response == "=" {
        Vec::new()
    } else {
        STANDARD
            .decode(response)
            .map_err(|_| SaslError::Malformed)?
    };
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authz), Some(authc), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Malformed);
    let (authz, login, password) = (text(authz)?, text(authc)?, text(pass)?);
    if login.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(&login) {
        return Err(SaslError::OtherIdentity);
    }
    Ok(Plain { login, password })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

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

    #[test]
    fn decodes_plain() {
        let ok = decode_plain(&b64(b"\0ann@c.example\0s3cret pass")).unwrap();
        assert_eq!(ok.login, "ann@c.example");
        assert_eq!(ok.password, "s3cret pass");
        assert!(decode_plain(&b64(b"ann@c.example\0ann@c.example\0x")).is_ok());
        assert_eq!(
            decode_plain(&b64(b"bob@c.example\0ann@c.example\0x")),
            Err(SaslError::OtherIdentity)
        );
        assert_eq!(decode_plain("*"), Err(SaslError::Cancelled));
        assert_eq!(decode_plain("=="), Err(SaslError::Malformed));
        assert_eq!(decode_plain("="), Err(SaslError::Malformed));
        assert_eq!(decode_plain("!!!"), Err(SaslError::Malformed));
        assert_eq!(decode_plain(&b64(b"\0ann")), Err(SaslError::Malformed));
        assert_eq!(decode_plain(&b64(b"\0a\0b\0c")), Err(SaslError::Malformed));
        assert_eq!(decode_plain(&b64(b"\0\xff\0b")), Err(SaslError::Malformed));
    }
}

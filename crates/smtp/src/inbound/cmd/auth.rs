//! AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms: parsing and decoding of
//! the SASL exchange. The session checks the credentials through `Core::sign_in`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::command::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// `AUTH <mechanism> [initial-response]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStart {
    /// `None`: a mechanism we do not offer.
    pub mechanism: Option<Mechanism>,
    pub initial: Option<String>,
}

pub fn parse(rest: &str) -> Result<AuthStart, ParseError> {
    let mut it = rest.split(' ').filter(|s| !s.is_empty());
    let mech = it
        .next()
        .ok_or(ParseError::Syntax("AUTH needs a mechanism"))?;
    let mechanism = match mech.to_ascii_uppercase().as_str() {
        "PLAIN" => Some(Mechanism::Plain),
        "LOGIN" => Some(Mechanism::Login),
        _ => None,
    };
    let initial = it.next().map(str::to_string);
    if it.next().is_some() {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(AuthStart { mechanism, initial })
}

/// Decodes one client response; `=` is the empty response (RFC 4954 §4).
pub fn decode(response: &str) -> Option<Vec<u8>> {
    let r = response.trim();
    if r == "=" {
        return Some(Vec::new());
    }
    STANDARD.decode(r).ok()
}

/// `[authzid] NUL authcid NUL passwd` (RFC 4616 §2). An authzid other than the login is
/// refused (no proxy authorization).
pub fn plain_credentials(decoded: &[u8]) -> Option<(String, String)> {
    let mut parts = decoded.split(|&b| b == 0);
    let authzid = std::str::from_utf8(parts.next()?).ok()?;
    let login = std::str::from_utf8(parts.next()?).ok()?;
    let password = std::str::from_utf8(parts.next()?).ok()?;
    if parts.next().is_some() || login.is_empty() {
        return None;
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(login) {
        return None;
    }
    Some((login.to_string(), password.to_string()))
}

/// The LOGIN prompts, base64 of `Username:` and `Password:`.
pub const LOGIN_USER: &str = "VXNlcm5hbWU6";
pub const LOGIN_PASS: &str = "UGFzc3dvcmQ6";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start() {
        let a = parse("plain AGFAYi5jAHB3").unwrap();
        assert_eq!(a.mechanism, Some(Mechanism::Plain));
        assert_eq!(a.initial.as_deref(), Some("AGFAYi5jAHB3"));
        assert_eq!(parse("CRAM-MD5").unwrap().mechanism, None);
        assert!(parse("").is_err());
        assert!(parse("PLAIN a b").is_err());
    }

    #[test]
    fn plain() {
        let d = decode("AGFAYi5jAHB3").unwrap();
        assert_eq!(
            plain_credentials(&d),
            Some(("a@b.c".to_string(), "pw".to_string()))
        );
        assert_eq!(plain_credentials(b"other\0a@b.c\0pw"), None);
        assert_eq!(plain_credentials(b"a@b.c\0pw"), None);
        assert_eq!(decode("not base64!"), None);
        assert_eq!(decode("="), Some(vec![]));
    }
}

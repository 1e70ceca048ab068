//! AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms: the command's grammar. The
//! responses are decoded by `marque_session::sasl`; the session checks the credentials through
//! `Core::sign_in`.

use marque_session::sasl::Mechanism;

use super::command::ParseError;

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
    let mechanism = Mechanism::parse(mech);
    let initial = it.next().map(str::to_string);
    if it.next().is_some() {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(AuthStart { mechanism, initial })
}

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
}

//! The SMTP commands, one file each: its parse (apart from I/O, RFC 5321 §4.1), the state it
//! needs, what it does, and its reply. This module splits a line into a [`Command`]; the
//! loop ([`super::serve`]) runs it with the command's `run` on the [`super::session::Session`].

pub mod auth;
pub mod bdat;
pub mod data;
pub mod ehlo;
pub mod expn;
pub mod help;
pub mod mail;
pub mod noop;
pub mod quit;
pub mod rcpt;
pub mod rset;
pub mod starttls;
pub mod vrfy;

use super::reply::Reply;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    Mail(mail::MailFrom),
    Rcpt(rcpt::RcptTo),
    Data,
    Bdat(bdat::Bdat),
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth(auth::AuthStart),
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `500 5.5.1`: no such command.
    Unknown,
    /// `501 5.5.4` (or `5.5.2`): the command's arguments are wrong.
    Syntax(&'static str),
    /// `555 5.5.4` (RFC 5321 §4.1.1.11, §4.3.2): a MAIL or RCPT parameter we do not know.
    UnknownParameter(&'static str),
    /// Not UTF-8, or a control character.
    BadBytes,
}

/// Parses a line with its CRLF or LF removed.
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::BadBytes)?;
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ParseError::BadBytes);
    }
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    match verb.to_ascii_uppercase().as_str() {
        "EHLO" => ehlo::parse(rest).map(Command::Ehlo),
        "HELO" => ehlo::parse(rest).map(Command::Helo),
        "MAIL" => mail::parse(rest).map(Command::Mail),
        "RCPT" => rcpt::parse(rest).map(Command::Rcpt),
        "DATA" => data::parse(rest),
        "BDAT" => bdat::parse(rest).map(Command::Bdat),
        "RSET" => rset::parse(rest),
        "NOOP" => noop::parse(rest),
        "QUIT" => quit::parse(rest),
        "VRFY" => vrfy::parse(rest),
        "EXPN" => expn::parse(rest),
        "HELP" => help::parse(rest),
        "STARTTLS" => starttls::parse(rest),
        "AUTH" => auth::parse(rest).map(Command::Auth),
        _ => Err(ParseError::Unknown),
    }
}

/// A command that takes no argument: `c`, or `501` if something follows the verb.
fn no_args(rest: &str, c: Command) -> Result<Command, ParseError> {
    if rest.trim().is_empty() {
        Ok(c)
    } else {
        Err(ParseError::Syntax("this command takes no argument"))
    }
}

/// The reply to a line that is not a command.
pub fn parse_error_reply(e: ParseError) -> Reply {
    match e {
        ParseError::Unknown => Reply::new(500, "5.5.1", "Command unrecognized"),
        ParseError::Syntax(why) => Reply::new(501, "5.5.4", format!("Syntax error: {why}")),
        ParseError::UnknownParameter(why) => Reply::new(555, "5.5.4", why),
        ParseError::BadBytes => Reply::new(500, "5.5.2", "Invalid characters in command"),
    }
}

/// Splits `ESMTP parameters` (RFC 5321 §4.1.2 `Mail-parameters`): `KEY[=VALUE]` separated by
/// spaces; keys upper-cased.
pub fn parameters(s: &str) -> Result<Vec<(String, Option<String>)>, ParseError> {
    let mut out = Vec::new();
    for p in s.split(' ').filter(|p| !p.is_empty()) {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (p, None),
        };
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ParseError::Syntax("bad parameter"));
        }
        out.push((k.to_ascii_uppercase(), v));
    }
    Ok(out)
}

/// A path as in `MAIL FROM:<path>` and `RCPT TO:<path>` (RFC 5321 §4.1.2), after the colon:
/// returns the address (empty for `<>`) and what follows (the parameters).
pub fn path(s: &str) -> Result<(String, &str), ParseError> {
    // Some clients put a space after the colon; accept it.
    let s = s.trim_start();
    let Some(rest) = s.strip_prefix('<') else {
        return Err(ParseError::Syntax("the address must be in <>"));
    };
    let Some(end) = rest.find('>') else {
        return Err(ParseError::Syntax("missing >"));
    };
    let inner = &rest[..end];
    let after = &rest[end + 1..];
    if !after.is_empty() && !after.starts_with(' ') {
        return Err(ParseError::Syntax("junk after the address"));
    }
    // RFC 5321 §4.1.1.3 and Appendix C: source routes are obsolete; we refuse them rather
    // than guess (a classic open-relay trick).
    if inner.starts_with('@') {
        return Err(ParseError::Syntax("source routes are not accepted"));
    }
    if inner.is_empty() {
        return Ok((String::new(), after.trim()));
    }
    // Quoted local parts are refused (relay tricks like "a@b"@c).
    if inner.contains('"') || inner.contains('\\') || inner.contains(' ') {
        return Err(ParseError::Syntax("quoted local parts are not accepted"));
    }
    let Some((local, domain)) = inner.rsplit_once('@') else {
        return Err(ParseError::Syntax("the address needs a domain"));
    };
    if local.is_empty() || domain.is_empty() || local.len() > 64 || inner.len() > 254 {
        return Err(ParseError::Syntax("bad address"));
    }
    if domain.contains('@') || local.contains('@') {
        return Err(ParseError::Syntax("bad address"));
    }
    Ok((inner.to_string(), after.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_case_insensitive() {
        assert_eq!(parse(b"noop"), Ok(Command::Noop));
        assert_eq!(parse(b"QuIt"), Ok(Command::Quit));
        assert_eq!(parse(b"data"), Ok(Command::Data));
    }

    #[test]
    fn unknown_and_malformed() {
        assert_eq!(parse(b"FOO bar"), Err(ParseError::Unknown));
        assert_eq!(parse(b""), Err(ParseError::Unknown));
        assert!(matches!(parse(b"DATA now"), Err(ParseError::Syntax(_))));
        assert_eq!(parse(b"NOOP \x01"), Err(ParseError::BadBytes));
        assert_eq!(parse(b"\xff\xfe"), Err(ParseError::BadBytes));
    }

    #[test]
    fn paths() {
        assert_eq!(path("<a@b.c>").unwrap(), ("a@b.c".to_string(), ""));
        assert_eq!(path("<> SIZE=10").unwrap(), (String::new(), "SIZE=10"));
        assert_eq!(path(" <a@b.c>").unwrap().0, "a@b.c");
        for bad in [
            "a@b.c",
            "<a@b.c",
            "<@relay.example:a@b.c>",
            "<\"a@x\"@b.c>",
            "<a>",
            "<a@b.c>junk",
            "<@b.c>",
            "<a@>",
        ] {
            assert!(path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parameter_lists() {
        assert_eq!(
            parameters("size=10 BODY=8BITMIME SMTPUTF8").unwrap(),
            vec![
                ("SIZE".into(), Some("10".into())),
                ("BODY".into(), Some("8BITMIME".into())),
                ("SMTPUTF8".into(), None)
            ]
        );
        assert!(parameters("=x").is_err());
    }
}

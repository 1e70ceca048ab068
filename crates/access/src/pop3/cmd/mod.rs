//! POP3 commands: one file per command, each with its parser and the code that answers it.
//! Parsing is pure ([`parse`]); the session ([`super::session`]) runs the answers.
//!
//! RFC 1939 §3: a command is a case-insensitive keyword of three or four characters, possibly
//! followed by arguments separated by single spaces, ended by CRLF.

pub mod auth;
pub mod capa;
pub mod dele;
pub mod list;
pub mod noop;
pub mod pass;
pub mod quit;
pub mod retr;
pub mod rset;
pub mod stat;
pub mod stls;
pub mod top;
pub mod uidl;
pub mod user;

use std::fmt;

/// A parsed command.
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(String),
    /// `AUTH` alone lists the mechanisms; else the mechanism and its initial response.
    Auth(Option<auth::Request>),
    Quit,
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Top(u32, u64),
    Uidl(Option<u32>),
}

impl Command {
    /// The keyword, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Auth(_) => "AUTH",
            Command::Quit => "QUIT",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Top(..) => "TOP",
            Command::Uidl(_) => "UIDL",
        }
    }
}

// Secrets never reach a log.
impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Pass(_) => f.write_str("Pass(..)"),
            Command::Auth(Some(r)) => write!(f, "Auth({})", r.mechanism),
            Command::User(u) => write!(f, "User({u:?})"),
            Command::List(n) | Command::Uidl(n) => write!(f, "{}({n:?})", self.name()),
            Command::Retr(n) | Command::Dele(n) => write!(f, "{}({n})", self.name()),
            Command::Top(n, m) => write!(f, "Top({n}, {m})"),
            _ => f.write_str(self.name()),
        }
    }
}

/// Why a line is not a command we can run; the text follows `-ERR `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not a POP3 keyword we know.
    Unknown(String),
    /// A known keyword with bad arguments.
    Syntax(&'static str),
    /// Bytes that are not UTF-8 text.
    Encoding,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(k) => write!(f, "unknown command {k}"),
            ParseError::Syntax(s) => write!(f, "syntax: {s}"),
            ParseError::Encoding => f.write_str("commands are text"),
        }
    }
}

/// Parses one command line (without its CRLF).
pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
    let line = std::str::from_utf8(line).map_err(|_| ParseError::Encoding)?;
    if line.chars().any(|c| c.is_control()) {
        return Err(ParseError::Encoding);
    }
    let (keyword, args) = match line.split_once(' ') {
        Some((k, a)) => (k, a),
        None => (line, ""),
    };
    if keyword.is_empty() || keyword.len() > 4 || !keyword.is_ascii() {
        let shown: String = keyword.chars().take(8).collect();
        return Err(ParseError::Unknown(shown));
    }
    match keyword.to_ascii_uppercase().as_str() {
        "CAPA" => capa::parse(args),
        "STLS" => stls::parse(args),
        "USER" => user::parse(args),
        "PASS" => pass::parse(args),
        "AUTH" => auth::parse(args),
        "QUIT" => quit::parse(args),
        "STAT" => stat::parse(args),
        "LIST" => list::parse(args),
        "RETR" => retr::parse(args),
        "DELE" => dele::parse(args),
        "NOOP" => noop::parse(args),
        "RSET" => rset::parse(args),
        "TOP" => top::parse(args),
        "UIDL" => uidl::parse(args),
        other => Err(ParseError::Unknown(other.to_string())),
    }
}

/// Arguments of a command that takes none.
pub(crate) fn no_args(args: &str, then: Command) -> Result<Command, ParseError> {
    if args.trim().is_empty() {
        Ok(then)
    } else {
        Err(ParseError::Syntax("this command takes no argument"))
    }
}

/// A message number: decimal, at least 1 (RFC 1939 §5).
pub(crate) fn msg_number(s: &str) -> Result<u32, ParseError> {
    let bad = ParseError::Syntax("a message number is a positive decimal number");
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    match s.parse::<u32>() {
        Ok(0) | Err(_) => Err(bad),
        Ok(n) => Ok(n),
    }
}

/// An optional message number (LIST, UIDL).
pub(crate) fn optional_number(args: &str) -> Result<Option<u32>, ParseError> {
    let args = args.trim_end();
    if args.is_empty() {
        return Ok(None);
    }
    msg_number(args).map(Some)
}

/// One answer, as bytes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply(pub Vec<u8>);

impl Reply {
    /// `+OK text`.
    pub fn ok(text: impl AsRef<str>) -> Reply {
        Reply(format!("+OK {}\r\n", text.as_ref()).into_bytes())
    }

    /// `-ERR text` (the text may start with a response code, RFC 2449 §8).
    pub fn err(text: impl AsRef<str>) -> Reply {
        Reply(format!("-ERR {}\r\n", text.as_ref()).into_bytes())
    }

    /// `+OK text` then lines (none may start with `.`) and the terminating dot.
    pub fn multi(text: impl AsRef<str>, lines: impl IntoIterator<Item = String>) -> Reply {
        let mut out = format!("+OK {}\r\n", text.as_ref());
        for l in lines {
            out.push_str(&l);
            out.push_str("\r\n");
        }
        out.push_str(".\r\n");
        Reply(out.into_bytes())
    }

    /// `+OK text` then an already dot-stuffed body that ends with `.` CRLF.
    pub fn with_body(text: impl AsRef<str>, body: Vec<u8>) -> Reply {
        let mut out = format!("+OK {}\r\n", text.as_ref()).into_bytes();
        out.extend_from_slice(&body);
        Reply(out)
    }

    /// The text of the reply, for tests.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// `-ERR` for a number that names no message, or a deleted one (RFC 1939 §5).
pub(crate) fn no_such_message(n: u32) -> Reply {
    Reply::err(format!("no such message {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(parse(b"stat"), Ok(Command::Stat));
        assert_eq!(parse(b"LiSt 3"), Ok(Command::List(Some(3))));
        assert_eq!(parse(b"uidl"), Ok(Command::Uidl(None)));
        assert_eq!(parse(b"TOP 1 10"), Ok(Command::Top(1, 10)));
    }

    #[test]
    fn malformed_lines_are_refused() {
        assert!(matches!(parse(b""), Err(ParseError::Unknown(_))));
        assert!(matches!(parse(b"HELO x"), Err(ParseError::Unknown(_))));
        assert!(matches!(parse(b"RETRIEVE 1"), Err(ParseError::Unknown(_))));
        assert!(matches!(parse(b"RETR"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"RETR 0"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"RETR -1"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"RETR 1 2"), Err(ParseError::Syntax(_))));
        assert!(matches!(
            parse(b"RETR 99999999999"),
            Err(ParseError::Syntax(_))
        ));
        assert!(matches!(parse(b"DELE x"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"TOP 1"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"TOP 1 x"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"STAT 1"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse(b"LIST 1 2"), Err(ParseError::Syntax(_))));
        assert_eq!(parse(b"NOOP\x00"), Err(ParseError::Encoding));
        assert_eq!(parse(b"USER \xff"), Err(ParseError::Encoding));
        assert!(matches!(parse(b"USER"), Err(ParseError::Syntax(_))));
    }

    #[test]
    fn the_password_is_never_shown() {
        let c = parse(b"PASS hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = parse(b"AUTH PLAIN AGFubgBodW50ZXIy").unwrap();
        assert!(!format!("{c:?}").contains("AGFub"));
    }
}

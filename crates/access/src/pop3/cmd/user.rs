//! USER name (RFC 1939 §7): the first half of USER/PASS; the session remembers the name.

use super::{Command, ParseError};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    let name = args.trim();
    if name.is_empty() || name.contains(' ') {
        return Err(ParseError::Syntax("USER takes one name"));
    }
    Ok(Command::User(name.to_string()))
}

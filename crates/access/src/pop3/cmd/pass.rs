//! PASS secret (RFC 1939 §7): the second half of USER/PASS. The secret is the rest of the line,
//! spaces included (RFC 1939 §7: "a server may treat spaces in the argument as part of the
//! password").

use super::{Command, ParseError};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    if args.is_empty() {
        return Err(ParseError::Syntax("PASS takes the password"));
    }
    Ok(Command::Pass(args.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_belong_to_the_password() {
        assert_eq!(
            parse("correct horse battery"),
            Ok(Command::Pass("correct horse battery".into()))
        );
    }
}

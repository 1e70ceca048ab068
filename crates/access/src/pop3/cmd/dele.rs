//! DELE n (RFC 1939 §5): marks a message deleted; it is removed only in the UPDATE state.

use super::{Command, ParseError, Reply, msg_number, no_such_message};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    msg_number(args.trim_end()).map(Command::Dele)
}

/// Marks message `n`.
pub fn apply(drop: &mut Maildrop, n: u32) -> Reply {
    if drop.delete(n) {
        Reply::ok(format!("message {n} deleted"))
    } else {
        no_such_message(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twice_is_an_error() {
        let mut m = crate::pop3::maildrop::sample();
        assert!(apply(&mut m, 1).text().starts_with("+OK "));
        assert!(apply(&mut m, 1).text().starts_with("-ERR "));
        assert!(apply(&mut m, 9).text().starts_with("-ERR "));
    }
}

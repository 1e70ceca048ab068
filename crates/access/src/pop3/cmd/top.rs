//! TOP n m (RFC 1939 §7): the header of message n, the blank line, and m lines of its body.

use marque_store::Store;

use super::{Command, ParseError, Reply, msg_number};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    let mut it = args.trim_end().split(' ');
    let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
        return Err(ParseError::Syntax(
            "TOP takes a message number and a line count",
        ));
    };
    let n = msg_number(n)?;
    if m.is_empty() || m.len() > 19 || !m.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Syntax("the line count is a decimal number"));
    }
    let m = m
        .parse::<u64>()
        .map_err(|_| ParseError::Syntax("the line count is a decimal number"))?;
    Ok(Command::Top(n, m))
}

pub async fn send(store: &Store, drop: &Maildrop, n: u32, lines: u64) -> Reply {
    super::retr::send(store, drop, n, Some(lines)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_numbers() {
        assert_eq!(parse("1 0"), Ok(Command::Top(1, 0)));
        assert!(parse("1").is_err());
        assert!(parse("1 2 3").is_err());
        assert!(parse("0 2").is_err());
        assert!(parse("1 -2").is_err());
        assert!(parse("1  2").is_err());
    }
}

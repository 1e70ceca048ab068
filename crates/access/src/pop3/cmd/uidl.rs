//! UIDL [n] (RFC 1939 §7): the unique id of one message or of every message; stable across
//! sessions because it is made of the INBOX's UIDVALIDITY and the message's UID.

use super::{Command, ParseError, Reply, no_such_message, optional_number};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    optional_number(args).map(Command::Uidl)
}

/// `+OK n id`, or `+OK` and one `n id` line per message.
pub fn answer(drop: &Maildrop, n: Option<u32>) -> Reply {
    match n {
        Some(n) => match drop.get(n) {
            Some(e) => Reply::ok(format!("{n} {}", drop.unique_id(e))),
            None => no_such_message(n),
        },
        None => Reply::multi(
            "unique-id listing follows",
            drop.live()
                .map(|(n, e)| format!("{n} {}", drop.unique_id(e))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_uidvalidity_and_uid() {
        let mut m = crate::pop3::maildrop::sample();
        assert_eq!(answer(&m, Some(3)).text(), "+OK 3 42.9\r\n");
        m.delete(1);
        assert_eq!(
            answer(&m, None).text(),
            "+OK unique-id listing follows\r\n2 42.5\r\n3 42.9\r\n.\r\n"
        );
        assert!(answer(&m, Some(1)).text().starts_with("-ERR "));
    }
}

//! LIST [n] (RFC 1939 §5): the size of one message, or a scan listing of every message.

use super::{Command, ParseError, Reply, no_such_message, optional_number};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    optional_number(args).map(Command::List)
}

/// `+OK n size`, or `+OK` and one `n size` line per message.
pub fn answer(drop: &Maildrop, n: Option<u32>) -> Reply {
    match n {
        Some(n) => match drop.get(n) {
            Some(e) => Reply::ok(format!("{n} {}", e.size)),
            None => no_such_message(n),
        },
        None => {
            let (count, size) = drop.totals();
            Reply::multi(
                format!("{count} messages ({size} octets)"),
                drop.live().map(|(n, e)| format!("{n} {}", e.size)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_or_all() {
        let mut m = crate::pop3::maildrop::sample();
        assert_eq!(answer(&m, Some(2)).text(), "+OK 2 250\r\n");
        assert!(answer(&m, Some(4)).text().starts_with("-ERR "));
        m.delete(2);
        assert!(answer(&m, Some(2)).text().starts_with("-ERR "));
        assert_eq!(
            answer(&m, None).text(),
            "+OK 2 messages (1100 octets)\r\n1 100\r\n3 1000\r\n.\r\n"
        );
    }
}

//! STAT (RFC 1939 §5): the number of messages and their total size, deleted ones excepted.

use super::{Command, ParseError, Reply, no_args};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Stat)
}

/// `+OK count size`.
pub fn answer(drop: &Maildrop) -> Reply {
    let (count, size) = drop.totals();
    Reply::ok(format!("{count} {size}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_what_is_not_deleted() {
        let mut m = crate::pop3::maildrop::sample();
        assert_eq!(super::answer(&m).text(), "+OK 3 1350\r\n");
        m.delete(1);
        assert_eq!(super::answer(&m).text(), "+OK 2 1250\r\n");
    }
}

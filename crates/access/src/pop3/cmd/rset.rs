//! RSET (RFC 1939 §5): unmarks every message marked deleted.

use super::{Command, ParseError, Reply, no_args};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Rset)
}

pub fn apply(drop: &mut Maildrop) -> Reply {
    drop.reset();
    let (count, size) = drop.totals();
    Reply::ok(format!("maildrop has {count} messages ({size} octets)"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn brings_deleted_messages_back() {
        let mut m = crate::pop3::maildrop::sample();
        m.delete(1);
        m.delete(3);
        assert_eq!(
            super::apply(&mut m).text(),
            "+OK maildrop has 3 messages (1350 octets)\r\n"
        );
    }
}

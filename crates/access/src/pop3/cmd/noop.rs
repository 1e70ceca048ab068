//! NOOP (RFC 1939 §5): does nothing but answer.

use super::{Command, ParseError, Reply, no_args};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Noop)
}

pub fn answer() -> Reply {
    Reply(b"+OK\r\n".to_vec())
}

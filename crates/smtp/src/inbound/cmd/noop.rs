//! NOOP (RFC 5321 §4.1.1.9).

use super::{Command, ParseError};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

/// NOOP may carry a string, which is ignored.
pub fn parse(_rest: &str) -> Result<Command, ParseError> {
    Ok(Command::Noop)
}

pub fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    s.reply(io, Reply::new(250, "2.0.0", "OK"));
    Flow::Continue
}

//! EXPN (RFC 5321 §4.1.1.7): lists and aliases are never expanded for a client (§3.5.3:
//! `252`).

use super::{Command, ParseError};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

/// The argument is not read.
pub fn parse(_rest: &str) -> Result<Command, ParseError> {
    Ok(Command::Expn)
}

pub fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    s.reply(io, Reply::new(252, "2.5.0", "Cannot EXPN"));
    Flow::Continue
}

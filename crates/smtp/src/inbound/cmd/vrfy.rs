//! VRFY (RFC 5321 §4.1.1.6): we never say whether an address exists (§3.5.3: `252`).

use super::{Command, ParseError};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

/// The argument is not read.
pub fn parse(_rest: &str) -> Result<Command, ParseError> {
    Ok(Command::Vrfy)
}

pub fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    let r = Reply::new(252, "2.5.0", "Cannot VRFY user, but will accept message");
    s.reply(io, r);
    Flow::Continue
}

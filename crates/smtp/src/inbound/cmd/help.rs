//! HELP (RFC 5321 §4.1.1.8): a pointer to the RFC, whatever the topic.

use super::{Command, ParseError};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

/// The topic is not read.
pub fn parse(_rest: &str) -> Result<Command, ParseError> {
    Ok(Command::Help)
}

pub fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    let r = Reply::new(
        214,
        "2.0.0",
        "See RFC 5321 (https://www.rfc-editor.org/rfc/rfc5321)",
    );
    s.reply(io, r);
    Flow::Continue
}

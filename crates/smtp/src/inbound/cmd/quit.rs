//! QUIT (RFC 5321 §4.1.1.10): `221`, then the session closes (a transaction in progress is
//! recorded as abandoned when the session ends).

use super::{Command, ParseError, no_args};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

pub fn parse(rest: &str) -> Result<Command, ParseError> {
    no_args(rest, Command::Quit)
}

pub fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    let r = Reply::new(221, "2.0.0", format!("{} closing", s.ctx.cfg.hostname));
    s.reply(io, r);
    Flow::Close
}

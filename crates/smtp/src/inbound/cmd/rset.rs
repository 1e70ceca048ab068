//! RSET (RFC 5321 §4.1.1.5): the transaction goes (its record is written), the EHLO stays.

use super::{Command, ParseError, no_args};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

pub fn parse(rest: &str) -> Result<Command, ParseError> {
    no_args(rest, Command::Rset)
}

pub async fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    s.abandon().await;
    s.reply(io, Reply::new(250, "2.0.0", "OK"));
    Flow::Continue
}

//! STARTTLS (RFC 3207): `220`, then the session runs the handshake and starts over, requiring
//! a new EHLO (§4.2); a transaction in progress is abandoned.

use super::{Command, ParseError, no_args};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session};
use marque_session::lines::LineIo;

pub fn parse(rest: &str) -> Result<Command, ParseError> {
    no_args(rest, Command::StartTls)
}

pub async fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    if s.ctx.tls {
        s.reply(io, Reply::new(503, "5.5.1", "TLS already active"));
        Flow::Continue
    } else if !io.stream().can_starttls() {
        s.reply(io, Reply::new(454, "4.7.0", "TLS not available"));
        Flow::Continue
    } else {
        s.abandon().await;
        s.reply(io, Reply::new(220, "2.0.0", "Ready to start TLS"));
        Flow::StartTls
    }
}

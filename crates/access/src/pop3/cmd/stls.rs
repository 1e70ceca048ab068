//! STLS (RFC 2595 §4): starts TLS in the AUTHORIZATION state; the session then discards what it
//! knew (and the client must ask CAPA again).

use super::{Command, ParseError, Reply, no_args};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Stls)
}

/// The answer before the handshake, or why there is none.
pub fn answer(is_tls: bool, can_starttls: bool) -> Result<Reply, Reply> {
    if is_tls {
        Err(Reply::err("command not permitted when TLS active"))
    } else if !can_starttls {
        Err(Reply::err("STLS not available"))
    } else {
        Ok(Reply::ok("begin TLS negotiation"))
    }
}

//! QUIT (RFC 1939 §4 and §6): ends the session; in the TRANSACTION state the server enters the
//! UPDATE state and removes the messages marked deleted before it answers.

use marque_core::Core;

use super::{Command, ParseError, Reply, no_args};
use crate::pop3::maildrop::Maildrop;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Quit)
}

/// QUIT before sign-in.
pub fn answer(hostname: &str) -> Reply {
    Reply::ok(format!("{hostname} POP3 server signing off"))
}

/// RFC 1939 §6: the removal is durable before `+OK`; if it fails, nothing was removed and the
/// answer is `-ERR` (RFC 2449 §8.1.2 `[SYS/TEMP]`).
pub async fn apply(core: &Core, drop: &Maildrop, hostname: &str) -> Reply {
    match drop.commit(core).await {
        Ok(removed) => {
            let (left, _) = drop.totals();
            Reply::ok(format!(
                "{hostname} POP3 server signing off ({removed} messages deleted, {left} left)"
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "POP3 UPDATE failed");
            Reply::err("[SYS/TEMP] some deleted messages not removed")
        }
    }
}

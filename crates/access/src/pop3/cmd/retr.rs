//! RETR n (RFC 1939 §5): the whole message, CRLF line ends, dot-stuffed.

use marque_store::Store;

use super::{Command, ParseError, Reply, msg_number, no_such_message};
use crate::pop3::maildrop::Maildrop;
use crate::pop3::wire;

pub fn parse(args: &str) -> Result<Command, ParseError> {
    msg_number(args.trim_end()).map(Command::Retr)
}

/// Reads message `n` and answers with it (`top`: only the header and that many body lines).
pub async fn send(store: &Store, drop: &Maildrop, n: u32, top: Option<u64>) -> Reply {
    let Some(entry) = drop.get(n) else {
        return no_such_message(n);
    };
    match drop.body(store, n).await {
        Ok(Some(raw)) => {
            let text = match top {
                None => format!("{} octets", entry.size),
                Some(_) => "top of message follows".to_string(),
            };
            Reply::with_body(text, wire::multiline(&raw, top))
        }
        // Removed through IMAP since this session began.
        Ok(None) => Reply::err(format!("message {n} is no longer in the maildrop")),
        Err(e) => {
            tracing::error!(error = %e, n, "reading a message failed");
            Reply::err("[SYS/TEMP] cannot read the message now")
        }
    }
}

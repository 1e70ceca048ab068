//! DATA (RFC 5321 §4.1.1.4): `354`, then the content's lines up to end-of-data into the
//! transaction's [`Collector`] (dot-transparency, line length and size limit live there,
//! in [`crate::inbound::content`]), then the transaction's end.

use marque_session::lines::{Line, LineIo};
use tokio::time::timeout;
use tracing::instrument;

use super::{Command, ParseError, no_args};
use crate::inbound::content::{Collector, MAX_LINE};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};

pub fn parse(rest: &str) -> Result<Command, ParseError> {
    no_args(rest, Command::Data)
}

/// DATA: `354`, then the content up to end-of-data, then the transaction's end (delivery and
/// its reply).
#[instrument(name = "data", skip_all)]
pub async fn run(s: &mut Session, io: &mut LineIo) -> Flow {
    let ready = match &s.state {
        State::Mail(_, tx) if tx.bdat.is_some() => {
            Err(Reply::new(503, "5.5.1", "BDAT in progress"))
        }
        State::Mail(_, tx) if !tx.has_recipients() => {
            // RFC 5321 §3.3: no valid recipients.
            Err(Reply::new(554, "5.5.1", "No valid recipients"))
        }
        State::Mail(..) => Ok(()),
        _ => Err(Reply::new(503, "5.5.1", "MAIL and RCPT first")),
    };
    if let Err(r) = ready {
        s.reply(io, r);
        return Flow::Continue;
    }
    s.reply(
        io,
        Reply::plain(354, vec!["Start mail input; end with <CRLF>.<CRLF>".into()]),
    );
    if io.flush().await.is_err() {
        return Flow::Close;
    }
    let mut c = Collector::spooled_in(s.ctx.cfg.max_message_size, s.ctx.cfg.spool_dir.clone());
    loop {
        // A line of up to MAX_LINE bytes is kept; longer ones are read through and dropped.
        match timeout(s.ctx.cfg.data_timeout, io.read_line(MAX_LINE)).await {
            Err(_) => {
                let r = Reply::new(421, "4.4.2", "Timeout during DATA, closing");
                s.reply(io, r);
                return Flow::Close;
            }
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Flow::Close,
            Ok(Ok(Line::TooLong { crlf })) => c.data_line_too_long(crlf),
            Ok(Ok(Line::Complete(l))) => {
                if c.data_line(&l) {
                    break;
                }
            }
        }
    }
    s.ctx.note("C: (message content)".into());
    let r = s.finish(c.finish()).await;
    s.reply(io, r);
    Flow::Continue
}

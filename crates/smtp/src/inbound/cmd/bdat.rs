//! BDAT (RFC 3030 §2): `BDAT <size> [LAST]`; the chunk follows the command line, with no
//! dot-stuffing. The chunks go into the transaction's collector; the last one ends the
//! transaction like the end of DATA.

use tokio::time::timeout;
use tracing::instrument;

use super::ParseError;
use crate::inbound::content::Collector;
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};
use marque_session::lines::LineIo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bdat {
    pub size: u64,
    pub last: bool,
}

pub fn parse(rest: &str) -> Result<Bdat, ParseError> {
    let mut it = rest.split(' ').filter(|s| !s.is_empty());
    let size = it
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or(ParseError::Syntax("BDAT needs a chunk size"))?;
    let last = match it.next() {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(ParseError::Syntax("expected LAST")),
    };
    if it.next().is_some() {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(Bdat { size, last })
}

/// BDAT: reads the chunk, then answers it (the last one with the transaction's end).
#[instrument(name = "bdat", skip(s, io))]
pub async fn run(s: &mut Session, io: &mut LineIo, b: Bdat) -> Flow {
    let max = s.ctx.cfg.max_message_size;
    let spool = &s.ctx.cfg.spool_dir;
    let collector = match &mut s.state {
        State::Mail(_, tx) if tx.has_recipients() => Some(
            tx.bdat
                .get_or_insert_with(|| Collector::spooled_in(max, spool.clone())),
        ),
        _ => None,
    };
    // RFC 3030 §2: the chunk is read whatever the reply will be.
    let read = match collector {
        Some(c) => {
            timeout(
                s.ctx.cfg.data_timeout,
                io.read_exact(b.size, |bytes| c.chunk(bytes)),
            )
            .await
        }
        None => timeout(s.ctx.cfg.data_timeout, io.read_exact(b.size, |_| {})).await,
    };
    match read {
        Err(_) => {
            let r = Reply::new(421, "4.4.2", "Timeout during BDAT, closing");
            s.reply(io, r);
            return Flow::Close;
        }
        Ok(Err(_)) | Ok(Ok(false)) => return Flow::Close,
        Ok(Ok(true)) => {}
    }
    s.ctx.note(format!("C: ({} octets)", b.size));
    let r = match &mut s.state {
        State::Mail(_, tx) if !tx.has_recipients() => {
            Reply::new(554, "5.5.1", "No valid recipients")
        }
        State::Mail(_, tx) => {
            if b.last {
                let c = tx.bdat.take().unwrap_or_else(|| Collector::new(max));
                s.finish(c.finish()).await
            } else {
                Reply::new(250, "2.0.0", format!("{} octets received", b.size))
            }
        }
        _ => Reply::new(503, "5.5.1", "MAIL and RCPT first"),
    };
    s.reply(io, r);
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks() {
        assert_eq!(
            parse("10").unwrap(),
            Bdat {
                size: 10,
                last: false
            }
        );
        assert_eq!(
            parse("0 last").unwrap(),
            Bdat {
                size: 0,
                last: true
            }
        );
        for bad in ["", "x", "-1", "10 FIRST", "10 LAST x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

//! RCPT TO (RFC 5321 §4.1.1.3) with the DSN parameters NOTIFY and ORCPT (RFC 3461 §4.1,
//! §4.2): parsing, the checks of the session (recipients per transaction, SMTPUTF8, the
//! hourly limit of submission users), then resolution through the core in the transaction
//! ([`crate::inbound::transaction`]).

use marque_hosting::outbound::Notify;
use marque_store::now_ms;
use tracing::{error, instrument, warn};

use super::mail::{is_xtext, strip_keyword};
use super::{ParseError, parameters, path};
use crate::inbound::envelope::MailFrom;
pub use crate::inbound::envelope::RcptTo;
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};
use crate::inbound::transaction::Transaction;
use marque_session::lines::LineIo;

/// Longest ORCPT value (RFC 3461 §4.2: the address part is at most 500 characters).
const MAX_ORCPT: usize = 500;

/// `NOTIFY=NEVER` or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1).
fn notify(v: &str) -> Result<Notify, ParseError> {
    let mut n = Notify::default();
    for word in v.split(',') {
        let flag = match word.to_ascii_uppercase().as_str() {
            "NEVER" => &mut n.never,
            "SUCCESS" => &mut n.success,
            "FAILURE" => &mut n.failure,
            "DELAY" => &mut n.delay,
            _ => {
                return Err(ParseError::Syntax(
                    "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY",
                ));
            }
        };
        if *flag {
            return Err(ParseError::Syntax("NOTIFY lists a value twice"));
        }
        *flag = true;
    }
    if n.never && (n.success || n.failure || n.delay) {
        return Err(ParseError::Syntax("NOTIFY=NEVER cannot be combined"));
    }
    Ok(n)
}

/// `ORCPT=addr-type;xtext` (RFC 3461 §4.2): an atom, a semicolon, xtext.
fn orcpt(v: &str) -> Result<String, ParseError> {
    let Some((kind, addr)) = v.split_once(';') else {
        return Err(ParseError::Syntax("ORCPT must be addr-type;address"));
    };
    let atom = !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c));
    if !atom || addr.is_empty() || addr.len() > MAX_ORCPT || !is_xtext(addr) {
        return Err(ParseError::Syntax(
            "ORCPT must be addr-type;address with the address in xtext",
        ));
    }
    Ok(v.to_string())
}

pub fn parse(rest: &str) -> Result<RcptTo, ParseError> {
    let Some(p) = strip_keyword(rest, "TO:") else {
        return Err(ParseError::Syntax("expected RCPT TO:<address>"));
    };
    let (to, params) = path(p)?;
    if to.is_empty() {
        return Err(ParseError::Syntax("a recipient cannot be <>"));
    }
    let mut r = RcptTo {
        to,
        notify: None,
        orcpt: None,
    };
    for (k, v) in parameters(params)? {
        match (k.as_str(), v) {
            ("NOTIFY", Some(v)) if r.notify.is_none() => r.notify = Some(notify(&v)?),
            ("ORCPT", Some(v)) if r.orcpt.is_none() => r.orcpt = Some(orcpt(&v)?),
            ("NOTIFY" | "ORCPT", Some(_)) => {
                return Err(ParseError::Syntax("a DSN parameter given twice"));
            }
            ("NOTIFY" | "ORCPT", None) => {
                return Err(ParseError::Syntax("this RCPT parameter needs a value"));
            }
            _ => {
                return Err(ParseError::UnknownParameter(
                    "RCPT parameter not recognized",
                ));
            }
        }
    }
    Ok(r)
}

/// RCPT TO: the recipient accepted into the transaction, or the reply that refuses it.
pub async fn run(s: &mut Session, io: &mut LineIo, r: RcptTo) -> Flow {
    let reply = match &mut s.state {
        State::Mail(_, tx) if tx.recipient_commands >= s.ctx.cfg.max_recipients => {
            // RFC 5321 §4.5.3.1.10.
            Reply::new(452, "4.5.3", "Too many recipients")
        }
        State::Mail(_, tx) if !tx.mail.smtputf8 && !r.to.is_ascii() => {
            // RFC 6531 §3.4.
            Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8")
        }
        State::Mail(..) => apply(s, &r).await,
        _ => Reply::new(503, "5.5.1", "MAIL first"),
    };
    s.reply(io, reply);
    Flow::Continue
}

#[instrument(name = "rcpt", skip(s))]
async fn apply(s: &mut Session, to: &RcptTo) -> Reply {
    let State::Mail(_, tx) = &mut s.state else {
        return Reply::new(503, "5.5.1", "MAIL first");
    };
    if let Some(user) = &s.ctx.user {
        match s.ctx.limits.take_recipient(&user.login, now_ms()).await {
            Ok(true) => {}
            Ok(false) => {
                warn!(user = %user.login, "hourly recipient limit reached");
                return Reply::new(451, "4.7.1", "Hourly recipient limit reached, try later");
            }
            Err(e) => {
                // Never let a recipient through uncounted.
                error!(user = %user.login, error = %e, "hourly recipient limit unreadable");
                return Reply::new(451, "4.3.0", "Temporary failure, try again later");
            }
        }
    }
    let mut tx = std::mem::replace(tx, Box::new(Transaction::new(MailFrom::default())));
    let reply = tx.rcpt(&s.ctx.core, to, s.ctx.user.is_some()).await;
    if reply.code == 550 {
        // Unknown recipients count towards the error limit (address harvesting).
        s.errors += 1;
    }
    if let State::Mail(_, slot) = &mut s.state {
        *slot = tx;
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients() {
        assert_eq!(parse("TO:<a@b.example>").unwrap().to, "a@b.example");
        assert_eq!(parse("to: <a@b.example>").unwrap().to, "a@b.example");
        let d =
            parse("TO:<a@b.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.example").unwrap();
        assert_eq!(
            d.notify,
            Some(Notify {
                success: true,
                failure: true,
                ..Notify::default()
            })
        );
        assert_eq!(d.orcpt.as_deref(), Some("rfc822;a+40b.example"));
        assert!(
            parse("TO:<a@b.c> NOTIFY=NEVER")
                .unwrap()
                .notify
                .unwrap()
                .never
        );
        for bad in [
            "TO:<>",
            "FROM:<a@b.c>",
            "TO:<@x:a@b.c>",
            "TO:<a@b.c> NOTIFY=NEVER,SUCCESS",
            "TO:<a@b.c> NOTIFY=SOMETIMES",
            "TO:<a@b.c> NOTIFY=FAILURE,FAILURE",
            "TO:<a@b.c> NOTIFY=DELAY NOTIFY=DELAY",
            "TO:<a@b.c> ORCPT=a@b.c",
            "TO:<a@b.c> ORCPT=rfc822;a=b",
            "TO:<a@b.c> FOO=1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

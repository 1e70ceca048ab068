//! MAIL FROM (RFC 5321 §4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8
//! (RFC 6531) and DSN (RFC 3461 §4.3, §4.4: RET, ENVID) parameters: starts a transaction
//! once the sender may send (submission: signed in, the sender's own address, within the
//! hourly limit).

use marque_hosting::outbound::Ret;
use marque_store::now_ms;
use tracing::{error, instrument, warn};

use super::{ParseError, parameters, path};
use crate::inbound::context::User;
pub use crate::inbound::envelope::{Body, MailFrom};
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};
use crate::inbound::transaction::Transaction;
use crate::submission_limits::Taken;
use marque_session::lines::LineIo;

/// Longest ENVID (RFC 3461 §4.4: 100 characters).
const MAX_ENVID: usize = 100;

/// RFC 3461 §4: `xtext = *( xchar / hexchar )`, `hexchar = "+" 2(HEXDIG upper case)`, `xchar`
/// any printable ASCII except `+` and `=`.
pub(crate) fn is_xtext(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                let hex = |c: Option<&u8>| {
                    c.is_some_and(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c))
                };
                if !(hex(b.get(i + 1)) && hex(b.get(i + 2))) {
                    return false;
                }
                i += 3;
            }
            b'=' => return false,
            33..=126 => i += 1,
            _ => return false,
        }
    }
    true
}

pub fn parse(rest: &str) -> Result<MailFrom, ParseError> {
    let Some(p) = strip_keyword(rest, "FROM:") else {
        return Err(ParseError::Syntax("expected MAIL FROM:<address>"));
    };
    let (from, params) = path(p)?;
    let mut m = MailFrom {
        from,
        ..MailFrom::default()
    };
    for (k, v) in parameters(params)? {
        match (k.as_str(), v) {
            ("SIZE", Some(v)) => {
                m.size = Some(v.parse().map_err(|_| ParseError::Syntax("bad SIZE"))?);
            }
            ("BODY", Some(v)) => {
                m.body = match v.to_ascii_uppercase().as_str() {
                    "7BIT" => Body::SevenBit,
                    "8BITMIME" => Body::EightBitMime,
                    _ => return Err(ParseError::Syntax("BODY must be 7BIT or 8BITMIME")),
                };
            }
            ("SMTPUTF8", None) => m.smtputf8 = true,
            ("RET", Some(v)) => {
                if m.ret.is_some() {
                    return Err(ParseError::Syntax("RET given twice"));
                }
                m.ret = Some(match v.to_ascii_uppercase().as_str() {
                    "FULL" => Ret::Full,
                    "HDRS" => Ret::Hdrs,
                    _ => return Err(ParseError::Syntax("RET must be FULL or HDRS")),
                });
            }
            ("ENVID", Some(v)) => {
                if m.envid.is_some() {
                    return Err(ParseError::Syntax("ENVID given twice"));
                }
                if v.is_empty() || v.len() > MAX_ENVID || !is_xtext(&v) {
                    return Err(ParseError::Syntax(
                        "ENVID must be 1 to 100 characters of xtext",
                    ));
                }
                m.envid = Some(v.to_string());
            }
            ("SIZE" | "BODY" | "RET" | "ENVID", None) => {
                return Err(ParseError::Syntax("this MAIL parameter needs a value"));
            }
            ("SMTPUTF8", Some(_)) => {
                return Err(ParseError::Syntax("SMTPUTF8 takes no value"));
            }
            _ => {
                return Err(ParseError::UnknownParameter(
                    "MAIL parameter not recognized",
                ));
            }
        }
    }
    Ok(m)
}

/// MAIL FROM: a new transaction, or the reply that refuses it.
pub async fn run(s: &mut Session, io: &mut LineIo, m: MailFrom) -> Flow {
    let r = apply(s, m).await;
    s.reply(io, r);
    Flow::Continue
}

#[instrument(name = "mail", skip_all, fields(from = %m.from))]
async fn apply(s: &mut Session, m: MailFrom) -> Reply {
    let helo = match &s.state {
        State::Start => return Reply::new(503, "5.5.1", "EHLO or HELO first"),
        State::Mail(..) => return Reply::new(503, "5.5.1", "Nested MAIL command"),
        State::Ready(h) => h.clone(),
    };
    if s.ctx.service.is_submission() && s.ctx.user.is_none() {
        // RFC 4954 §6.
        return Reply::new(530, "5.7.0", "Authentication required");
    }
    if (m.smtputf8 || m.size.is_some() || m.body != Default::default()) && !helo.esmtp {
        return Reply::new(555, "5.5.4", "Parameters need EHLO");
    }
    if !m.smtputf8 && !m.from.is_ascii() {
        // RFC 6531 §3.4: non-ASCII addresses need the SMTPUTF8 parameter.
        return Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    }
    if m.size.is_some_and(|size| size > s.ctx.cfg.max_message_size) {
        // RFC 1870 §6.
        return Reply::new(
            552,
            "5.3.4",
            "Message size exceeds fixed maximum message size",
        );
    }
    if let Some(user) = &s.ctx.user
        && !sender_belongs_to(s, user, &m.from).await
    {
        return Reply::new(
            553,
            "5.7.1",
            format!("Sender address not owned by {}", user.login),
        );
    }
    let mut counted = None;
    if let Some(user) = &s.ctx.user {
        match s.ctx.limits.take_message(&user.login, now_ms()).await {
            Ok(Taken::Counted(c)) => counted = Some(c),
            Ok(Taken::Unlimited) => {}
            Ok(Taken::OverLimit) => {
                warn!(user = %user.login, "hourly message limit reached");
                return Reply::new(451, "4.7.1", "Hourly message limit reached, try later");
            }
            Err(e) => {
                // Never let a message through uncounted.
                error!(user = %user.login, error = %e, "hourly message limit unreadable");
                return Reply::new(451, "4.3.0", "Temporary failure, try again later");
            }
        }
    }
    s.ctx.transactions += 1;
    let mut tx = Transaction::new(m);
    tx.counted = counted;
    s.state = State::Mail(helo, Box::new(tx));
    Reply::new(250, "2.1.0", "OK")
}

/// The sender is the user's own address, or an alias that delivers to it.
async fn sender_belongs_to(s: &Session, user: &User, from: &str) -> bool {
    s.ctx
        .core
        .address_belongs_to(from, user.account, &user.login)
        .await
        .unwrap_or(false)
}

/// `FROM:` or `TO:`, case-insensitive.
pub(crate) fn strip_keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let head = s.get(..kw.len())?;
    head.eq_ignore_ascii_case(kw).then(|| &s[kw.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_and_parameters() {
        let m = parse("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8").unwrap();
        assert_eq!(m.from, "a@b.example");
        assert_eq!(m.size, Some(1000));
        assert_eq!(m.body, Body::EightBitMime);
        assert!(m.smtputf8);
        assert_eq!(parse("from:<>").unwrap().from, "");
        let d = parse("FROM:<a@b.example> RET=HDRS ENVID=QQ+2B314159").unwrap();
        assert_eq!(d.ret, Some(Ret::Hdrs));
        assert_eq!(d.envid.as_deref(), Some("QQ+2B314159"));
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "FROM",
            "TO:<a@b.c>",
            "FROM:<a@b.c> SIZE=x",
            "FROM:<a@b.c> BODY=BINARYMIME",
            "FROM:<a@b.c> FOO=1",
            "FROM:a@b.c",
            "FROM:<a@b.c> RET=BODY",
            "FROM:<a@b.c> RET=FULL RET=HDRS",
            "FROM:<a@b.c> ENVID=a=b",
            "FROM:<a@b.c> ENVID=a+2",
            "FROM:<a@b.c> ENVID=a+zz",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

//! EHLO and HELO (RFC 5321 §4.1.1.1): the client's name, and the extensions we advertise.
//! Either ends a transaction in progress (its record is written) and starts the session over.

use super::ParseError;
use crate::inbound::context::Helo;
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};
use marque_session::lines::LineIo;

/// The argument: a domain or an address literal. We record it; we do not verify it.
pub fn parse(rest: &str) -> Result<String, ParseError> {
    let name = rest.trim();
    if name.is_empty() || name.contains(' ') || name.len() > 255 {
        return Err(ParseError::Syntax(
            "EHLO needs one domain or address literal",
        ));
    }
    Ok(name.to_string())
}

/// What this session may offer.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    pub max_size: u64,
    pub starttls: bool,
    /// AUTH mechanisms are offered (submission, once TLS is up).
    pub auth: bool,
}

/// The EHLO reply: the greeting line, then one extension a line.
pub fn ehlo_reply(hostname: &str, client: &str, offer: Offer) -> Reply {
    let mut lines = vec![format!("{hostname} greets {client}")];
    lines.push("PIPELINING".into()); // RFC 2920
    lines.push(format!("SIZE {}", offer.max_size)); // RFC 1870
    lines.push("8BITMIME".into()); // RFC 6152
    lines.push("SMTPUTF8".into()); // RFC 6531
    lines.push("ENHANCEDSTATUSCODES".into()); // RFC 2034
    lines.push("CHUNKING".into()); // RFC 3030
    lines.push("DSN".into()); // RFC 3461
    if offer.starttls {
        lines.push("STARTTLS".into()); // RFC 3207
    }
    if offer.auth {
        lines.push("AUTH PLAIN LOGIN".into()); // RFC 4954
    }
    Reply::plain(250, lines)
}

/// The HELO reply: one line, no extensions.
pub fn helo_reply(hostname: &str) -> Reply {
    Reply::plain(250, vec![hostname.to_string()])
}

/// EHLO (`esmtp`) or HELO from the client `name`.
pub async fn run(s: &mut Session, io: &mut LineIo, name: String, esmtp: bool) -> Flow {
    s.abandon().await;
    let host = io.stream().server_name().unwrap_or(&s.ctx.cfg.hostname);
    let r = if esmtp {
        let offer = Offer {
            max_size: s.ctx.cfg.max_message_size,
            starttls: io.stream().can_starttls(),
            auth: s.ctx.service.is_submission() && s.ctx.tls && s.ctx.user.is_none(),
        };
        ehlo_reply(host, &name, offer)
    } else {
        helo_reply(host)
    };
    s.state = State::Ready(Helo { name, esmtp });
    s.reply(io, r);
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse(" client.example ").unwrap(), "client.example");
        assert_eq!(parse("[192.0.2.1]").unwrap(), "[192.0.2.1]");
        assert!(parse("").is_err());
        assert!(parse("a b").is_err());
    }

    #[test]
    fn extensions_follow_the_offer() {
        let r = ehlo_reply(
            "mx",
            "c",
            Offer {
                max_size: 100,
                starttls: true,
                auth: false,
            },
        )
        .to_wire();
        assert!(r.starts_with("250-mx greets c\r\n"));
        assert!(r.contains("250-SIZE 100\r\n"));
        assert!(r.contains("STARTTLS"));
        assert!(!r.contains("AUTH"));
    }
}

//! AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms: the command's grammar and
//! the exchange; responses are decoded by `marque_session::sasl`, and the credentials checked
//! through `Core::sign_in`.

use marque_core::authlog::Attempt;
use marque_core::{CoreError, Role};
use marque_session::sasl::{self, Credentials, Mechanism, SaslError};
use tokio::time::timeout;
use tracing::instrument;

use super::ParseError;
use crate::inbound::context::User;
use crate::inbound::reply::Reply;
use crate::inbound::session::{Flow, Session, State};
use marque_session::lines::{Line, LineIo, strip_eol};

/// `AUTH <mechanism> [initial-response]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStart {
    /// `None`: a mechanism we do not offer.
    pub mechanism: Option<Mechanism>,
    pub initial: Option<String>,
}

pub fn parse(rest: &str) -> Result<AuthStart, ParseError> {
    let mut it = rest.split(' ').filter(|s| !s.is_empty());
    let mech = it
        .next()
        .ok_or(ParseError::Syntax("AUTH needs a mechanism"))?;
    let mechanism = Mechanism::parse(mech);
    let initial = it.next().map(str::to_string);
    if it.next().is_some() {
        return Err(ParseError::Syntax("too many arguments"));
    }
    Ok(AuthStart { mechanism, initial })
}

// Never the credentials in the span: only the mechanism.
#[instrument(name = "auth", skip_all, fields(mechanism = ?a.mechanism))]
pub async fn run(s: &mut Session, io: &mut LineIo, a: AuthStart) -> Flow {
    let refusal = if !s.ctx.service.is_submission() {
        Some(Reply::new(503, "5.5.1", "AUTH not available on this port"))
    } else if !s.ctx.tls {
        // RFC 3207 §4 / RFC 4954 §4: no plaintext credentials.
        Some(Reply::new(
            530,
            "5.7.0",
            "Must issue a STARTTLS command first",
        ))
    } else if s.ctx.user.is_some() {
        Some(Reply::new(503, "5.5.1", "Already authenticated"))
    } else if !matches!(s.state, State::Ready(_)) {
        Some(Reply::new(
            503,
            "5.5.1",
            "AUTH needs EHLO and no transaction",
        ))
    } else {
        None
    };
    if let Some(r) = refusal {
        s.reply(io, r);
        return Flow::Continue;
    }
    let Some(mech) = a.mechanism else {
        s.reply(io, Reply::new(504, "5.5.4", "Mechanism not supported"));
        return Flow::Continue;
    };
    let creds = match mech {
        Mechanism::Plain => {
            let resp = match a.initial {
                Some(i) => Some(i),
                None => match challenge(s, io, "").await {
                    Ok(r) => r,
                    Err(flow) => return flow,
                },
            };
            resp.map(|r| sasl::plain(r.as_bytes()))
        }
        Mechanism::Login => {
            let user = match a.initial {
                Some(i) => Some(i),
                None => match challenge(s, io, sasl::LOGIN_USER).await {
                    Ok(r) => r,
                    Err(flow) => return flow,
                },
            };
            match user {
                None => None,
                Some(u) => match challenge(s, io, sasl::LOGIN_PASS).await {
                    Ok(p) => p.map(|p| sasl::login(u.as_bytes(), p.as_bytes())),
                    Err(flow) => return flow,
                },
            }
        }
    };
    let Credentials { login, password } = match creds {
        Some(Ok(creds)) => creds,
        // The client cancelled with `*`.
        None | Some(Err(SaslError::Cancelled)) => {
            s.reply(io, Reply::new(501, "5.0.0", "Authentication cancelled"));
            return Flow::Continue;
        }
        Some(Err(_)) => {
            s.reply(io, Reply::new(501, "5.5.2", "Cannot decode the response"));
            return Flow::Continue;
        }
    };
    let remote = s.ctx.peer.ip().to_string();
    let attempt = Attempt {
        protocol: "smtp",
        login: &login,
        remote: &remote,
        mechanism: mech.name(),
    };
    let ip = s.ctx.peer.ip();
    // Core::sign_in applies the shared throttle: it waits out the delay of recent
    // failures, refuses a banned address, and answers a failure only after its delay.
    let user = match s.ctx.core.sign_in(attempt, &password).await {
        Ok(actor) => match actor.principal.role {
            // Staff logins are for the panel and API, not for mail.
            Role::User { account, .. } | Role::Postmaster { account, .. } => Ok(User {
                login: actor.principal.name.clone(),
                account,
                path: actor.principal.path.clone(),
            }),
            _ => Err(CoreError::AuthFailed),
        },
        Err(e) => Err(e),
    };
    match user {
        Ok(u) => {
            s.ctx.user = Some(u);
            s.reply(io, Reply::new(235, "2.7.0", "Authentication successful"));
            Flow::Continue
        }
        Err(CoreError::SignInRefused { .. }) => {
            let r = Reply::new(421, "4.7.0", "Too many authentication failures, try later");
            s.reply(io, r);
            Flow::Close
        }
        Err(CoreError::AuthFailed) => {
            // The same reply whatever was wrong (no user enumeration).
            let r = Reply::new(535, "5.7.8", "Authentication credentials invalid");
            s.reply(io, r);
            if matches!(s.ctx.core.sign_in_ban(ip).await, Ok(Some(_))) {
                let r = Reply::new(421, "4.7.0", "Too many authentication failures, try later");
                s.reply(io, r);
                return Flow::Close;
            }
            Flow::Continue
        }
        Err(e) => {
            tracing::warn!(error = %e, "AUTH could not complete");
            // RFC 4954 §6: a temporary failure of the server, not of the credentials.
            s.reply(
                io,
                Reply::new(454, "4.7.0", "Temporary authentication failure"),
            );
            Flow::Continue
        }
    }
}

/// Sends a `334` challenge and reads the response; `Ok(None)` if cancelled (`*`) or not
/// a usable line. A silent client gets `421` like any idle one, and the session ends
/// (`Err`) when it times out or the connection goes.
async fn challenge(s: &mut Session, io: &mut LineIo, prompt: &str) -> Result<Option<String>, Flow> {
    s.reply(io, Reply::plain(334, vec![prompt.to_string()]));
    io.flush().await.map_err(|_| Flow::Close)?;
    let read = timeout(
        s.ctx.cfg.command_timeout,
        io.read_line(s.ctx.cfg.max_command_line),
    )
    .await;
    let line = match read {
        Err(_) => {
            let r = Reply::new(
                421,
                "4.4.2",
                format!("{} timeout, closing", s.ctx.cfg.hostname),
            );
            s.reply(io, r);
            return Err(Flow::Close);
        }
        Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Err(Flow::Close),
        Ok(Ok(Line::TooLong { .. })) => return Ok(None),
        Ok(Ok(Line::Complete(l))) => l,
    };
    s.ctx.note("C: ****".into());
    let Ok(response) = String::from_utf8(strip_eol(&line).to_vec()) else {
        return Ok(None);
    };
    Ok((response != "*").then_some(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start() {
        let a = parse("plain AGFAYi5jAHB3").unwrap();
        assert_eq!(a.mechanism, Some(Mechanism::Plain));
        assert_eq!(a.initial.as_deref(), Some("AGFAYi5jAHB3"));
        assert_eq!(parse("CRAM-MD5").unwrap().mechanism, None);
        assert!(parse("").is_err());
        assert!(parse("PLAIN a b").is_err());
    }
}

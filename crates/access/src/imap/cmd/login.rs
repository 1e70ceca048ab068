//! LOGIN (RFC 3501 §6.2.3, RFC 9051 §6.2.3), and the sign-in both LOGIN and AUTHENTICATE end
//! in: the core checks the password, writes the authentication-log record and applies the
//! sign-in throttle shared by every service (a failure is answered after a delay that grows
//! per client address and per login; a banned address is refused). Too many failures on one
//! connection end it. Without TLS, only clients the operator allows may sign in at all.

use std::io;

use marque_core::authlog::Attempt;
use marque_core::{CoreError, Role};

use crate::imap::session::{Outcome, Session};
use crate::imap::state::{State, User};

/// Failed sign-ins allowed on one connection before it is closed.
pub const MAX_FAILURES: u32 = 5;

/// The refusal of a password sent before TLS where the operator does not allow it
/// (RFC 9051 §6.2.3 and §7.1: LOGINDISABLED is advertised and the command answered with
/// PRIVACYREQUIRED, RFC 5530 §3).
pub fn privacy_required() -> Outcome {
    Outcome::No("[PRIVACYREQUIRED] use STARTTLS (or port 993) before signing in".into())
}

/// Applies LOGIN.
pub async fn run(
    s: &mut Session,
    login: &str,
    password: &str,
    mechanism: &str,
) -> io::Result<Outcome> {
    if !s.may_send_password() {
        return Ok(privacy_required());
    }
    sign_in(s, login, password, mechanism).await
}

/// Signs in `login` with `password`; moves to the authenticated state on success.
#[tracing::instrument(skip(s, password), fields(login))]
pub async fn sign_in(
    s: &mut Session,
    login: &str,
    password: &str,
    mechanism: &str,
) -> io::Result<Outcome> {
    let attempt = Attempt {
        protocol: "imap",
        login,
        remote: &s.remote,
        mechanism,
    };
    let result = s.ctx.core.sign_in(attempt, password).await;
    // Staff principals have no mailbox: they may not use the mail protocols.
    let account = match &result {
        Ok(actor) => match actor.principal.role {
            Role::User { account, .. } | Role::Postmaster { account, .. } => Some(account),
            _ => None,
        },
        Err(_) => None,
    };
    match account {
        Some(account) => {
            let Some(permit) = s
                .ctx
                .sessions
                .admit(account, crate::imap::limits::MAX_SESSIONS_PER_USER)
            else {
                // RFC 5530 §3: LIMIT.
                return Ok(Outcome::No(
                    "[LIMIT] too many sessions for this user".into(),
                ));
            };
            let events = s.ctx.core.store().notifier().subscribe(account);
            s.state = State::Authenticated {
                user: User {
                    account,
                    login: login.to_string(),
                    events: Some(events),
                    _permit: permit,
                },
            };
            let caps = s.capabilities();
            Ok(Outcome::Ok(format!("[CAPABILITY {caps}] signed in")))
        }
        None => {
            let failures = match &mut s.state {
                State::NotAuthenticated { failures } => {
                    *failures += 1;
                    *failures
                }
                _ => MAX_FAILURES,
            };
            if failures >= MAX_FAILURES {
                s.io.line("* BYE too many failed sign-ins");
                s.state = State::Logout;
            }
            Ok(match result {
                // RFC 5530 §3: UNAVAILABLE, a temporary refusal; the password was not checked.
                Err(CoreError::SignInRefused { retry_after_secs }) => Outcome::No(format!(
                    "[UNAVAILABLE] too many failed sign-ins from your address; try again in \
                     {retry_after_secs} s"
                )),
                Err(e @ (CoreError::Store(_) | CoreError::Task(_) | CoreError::Hash(_))) => {
                    tracing::warn!(error = %e, "sign-in could not complete");
                    Outcome::No("[UNAVAILABLE] cannot sign in now".into())
                }
                // RFC 5530 §3: AUTHENTICATIONFAILED says nothing about which part was wrong.
                _ => Outcome::No("[AUTHENTICATIONFAILED] invalid credentials".into()),
            })
        }
    }
}

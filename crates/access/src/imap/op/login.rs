//! LOGIN (RFC 3501 §6.2.3), and the sign-in both LOGIN and AUTHENTICATE end in: the core
//! checks the password and writes the authentication-log record; a failure costs a delay that
//! grows with each one from the same address (across connections), and too many on one
//! connection end it.

use std::io;
use std::time::Duration;

use marque_core::Role;
use marque_core::authlog::Attempt;

use crate::imap::session::{Outcome, Session};
use crate::imap::state::{State, User};

/// Failed sign-ins allowed on one connection before it is closed.
pub const MAX_FAILURES: u32 = 5;

/// The delay after the `n`th failure: 0.5 s, 1 s, 2 s, 4 s, capped at 8 s.
pub fn failure_delay(n: u32) -> Duration {
    Duration::from_millis(500u64 << n.saturating_sub(1).min(4))
}

/// Applies LOGIN.
pub async fn run(
    s: &mut Session,
    login: &str,
    password: &str,
    mechanism: &str,
) -> io::Result<Outcome> {
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
    let result = {
        let _turn = s.ctx.sign_ins.acquire().await.map_err(io::Error::other)?;
        s.ctx.core.sign_in(attempt, password).await
    };
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
            let recent = match s.remote.parse() {
                Ok(ip) => s.ctx.failures.record(ip),
                Err(_) => failures,
            };
            tokio::time::sleep(failure_delay(failures.max(recent))).await;
            if failures >= MAX_FAILURES {
                s.io.line("* BYE too many failed sign-ins");
                s.state = State::Logout;
            }
            // RFC 5530 §3: AUTHENTICATIONFAILED says nothing about which part was wrong.
            Ok(Outcome::No(
                "[AUTHENTICATIONFAILED] invalid credentials".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn delays_grow_and_stop_growing() {
        use super::failure_delay;
        assert!(failure_delay(2) > failure_delay(1));
        assert_eq!(failure_delay(10), failure_delay(5));
    }
}

//! One POP3 session: the greeting, the states of RFC 1939 (AUTHORIZATION, TRANSACTION, UPDATE),
//! pipelined command lines (RFC 2449 §6.6), STLS and the autologout timer.

use marque_core::authlog::Attempt;
use marque_core::{CoreError, Role};
use marque_session::Connection;
use marque_session::lines::{LineIo, Timed};
use marque_session::sasl::{self, SaslError};
use tracing::{debug, info, warn};

use super::Pop3;
use super::cmd::{self, Command, Reply, auth};
use super::line::{Line, MAX_LINE};
use super::lock::DropGuard;
use super::maildrop::Maildrop;

/// Failed sign-ins after which the session is closed.
const MAX_FAILURES: u32 = 5;
/// Replies buffered before they are written even if more commands are waiting.
const FLUSH_AT: usize = 64 * 1024;

/// Where the session is (RFC 1939 §3). A command that is not valid in a state has no data to
/// run on.
enum State {
    /// RFC 1939 §4; `user`: the name a USER command gave.
    Authorization { user: Option<String> },
    /// RFC 5034 §4: AUTH PLAIN was answered with `+ `; the next line is the client's response.
    SaslResponse,
    /// RFC 1939 §5, with the maildrop's exclusive lock (RFC 1939 §8).
    Transaction { drop: Maildrop, _lock: DropGuard },
}

/// What the session does after a reply.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Continue,
    Close,
    StartTls,
}

struct Session<'a> {
    pop3: &'a Pop3,
    remote: String,
    is_tls: bool,
    can_starttls: bool,
    /// A password may be sent before TLS from this client (loopback, or a network the
    /// operator allows).
    cleartext_ok: bool,
    failures: u32,
    state: State,
}

/// Runs a session until QUIT, the client leaves, the idle timer fires or the server stops.
pub(super) async fn run(pop3: &Pop3, conn: Connection) {
    let mut s = Session {
        pop3,
        remote: conn.peer().ip().to_string(),
        is_tls: conn.is_tls(),
        can_starttls: conn.can_starttls(),
        cleartext_ok: pop3.core.cleartext_sign_in(conn.peer().ip()),
        failures: 0,
        state: State::Authorization { user: None },
    };
    // The name the client asked for by SNI, when the platform serves it (white label).
    let host = conn.server_name().unwrap_or(&pop3.hostname);
    let greeting = greeting(host, conn.session_id());
    let mut io = LineIo::new(conn);
    io.queue(greeting.as_bytes());

    loop {
        // RFC 2449 §6.6: answers to pipelined commands go out together, once no whole command
        // waits (or a lot is queued).
        if (!io.has_line() || io.queued() >= FLUSH_AT)
            && io.flush_within(pop3.idle_timeout).await.is_err()
        {
            return;
        }
        let line = match io.read_line_within(MAX_LINE, pop3.idle_timeout).await {
            Ok(Timed::Ready(line)) => match Line::from_read(line) {
                Some(line) => line,
                None => return,
            },
            Err(_) => return,
            // Without QUIT there is no UPDATE state: nothing marked is removed.
            Ok(Timed::Shutdown) => {
                io.queue(b"-ERR [SYS/TEMP] server shutting down\r\n");
                io.close().await;
                return;
            }
            // RFC 1939 §3: the autologout timer closes without entering UPDATE.
            Ok(Timed::Idle) => {
                info!("autologout");
                io.queue(b"-ERR [SYS/TEMP] autologout, idle for too long\r\n");
                io.close().await;
                return;
            }
        };
        let (reply, next) = s.step(line).await;
        io.queue(&reply.0);
        match next {
            Next::Continue => {}
            Next::Close => {
                if io.flush_within(pop3.idle_timeout).await.is_ok() {
                    io.close().await;
                }
                return;
            }
            Next::StartTls => {
                if io.flush_within(pop3.idle_timeout).await.is_err() {
                    return;
                }
                // RFC 2595 §4 (and RFC 3207 §4.2): whatever followed STLS in plaintext is
                // dropped, never read as if it came over TLS.
                io = match io.starttls().await {
                    Ok(io) => io,
                    Err(e) => {
                        debug!(error = %e, "STLS handshake failed");
                        return;
                    }
                };
                s.is_tls = true;
                s.can_starttls = false;
                s.state = State::Authorization { user: None };
            }
        }
    }
}

/// RFC 1939 §4: `+OK` and a banner; the angle-bracketed timestamp is the one APOP would use.
fn greeting(hostname: &str, session_id: u64) -> String {
    let secs = marque_store::now_secs();
    format!("+OK {hostname} POP3 ready <{session_id}.{secs}@{hostname}>\r\n")
}

impl Session<'_> {
    async fn step(&mut self, line: Line) -> (Reply, Next) {
        let line = match line {
            Line::Complete(l) => l,
            Line::TooLong => {
                if matches!(self.state, State::SaslResponse) {
                    self.state = State::Authorization { user: None };
                }
                return (Reply::err("line too long"), Next::Continue);
            }
        };
        if matches!(self.state, State::SaslResponse) {
            self.state = State::Authorization { user: None };
            let response = String::from_utf8_lossy(&line).into_owned();
            return self.sasl_plain(&response).await;
        }
        match cmd::parse(&line) {
            Ok(c) => self.dispatch(c).await,
            Err(e) => (Reply::err(e.to_string()), Next::Continue),
        }
    }

    #[tracing::instrument(skip_all, fields(command = c.name()))]
    async fn dispatch(&mut self, c: Command) -> (Reply, Next) {
        let pop3 = self.pop3;
        let store = pop3.core.store();
        let go = |r: Reply| (r, Next::Continue);
        match &mut self.state {
            State::Authorization { user } => match c {
                Command::Capa => go(cmd::capa::answer(
                    true,
                    self.can_starttls,
                    self.is_tls || self.cleartext_ok,
                )),
                // RFC 2595 §4, RFC 8314 §3: no password in clear; only STLS, CAPA and QUIT
                // until TLS.
                Command::User(_) | Command::Pass(_) | Command::Auth(_)
                    if !(self.is_tls || self.cleartext_ok) =>
                {
                    go(Reply::err(
                        "[AUTH] sign-in requires TLS: use STLS (or port 995) first",
                    ))
                }
                Command::Stls => match cmd::stls::answer(self.is_tls, self.can_starttls) {
                    Ok(r) => (r, Next::StartTls),
                    Err(r) => go(r),
                },
                Command::User(name) => {
                    *user = Some(name);
                    go(Reply::ok("send PASS"))
                }
                Command::Pass(secret) => match user.take() {
                    Some(login) => self.sign_in(&login, &secret, "USER/PASS").await,
                    None => go(Reply::err("USER first")),
                },
                Command::Auth(None) => go(auth::list()),
                Command::Auth(Some(req)) => {
                    if !auth::MECHANISMS.contains(&req.mechanism.as_str()) {
                        return go(Reply::err("unsupported authentication mechanism"));
                    }
                    match req.initial {
                        Some(initial) => self.sasl_plain(&initial).await,
                        None => {
                            self.state = State::SaslResponse;
                            go(Reply(b"+ \r\n".to_vec()))
                        }
                    }
                }
                Command::Quit => (cmd::quit::answer(&pop3.hostname), Next::Close),
                _ => go(Reply::err("sign in first")),
            },
            State::SaslResponse => go(Reply::err("unexpected state")),
            State::Transaction { drop, .. } => match c {
                Command::Capa => go(cmd::capa::answer(false, false, false)),
                Command::Stat => go(cmd::stat::answer(drop)),
                Command::List(n) => go(cmd::list::answer(drop, n)),
                Command::Uidl(n) => go(cmd::uidl::answer(drop, n)),
                Command::Retr(n) => go(cmd::retr::send(store, drop, n, None).await),
                Command::Top(n, m) => go(cmd::top::send(store, drop, n, m).await),
                Command::Dele(n) => go(cmd::dele::apply(drop, n)),
                Command::Rset => go(cmd::rset::apply(drop)),
                Command::Noop => go(cmd::noop::answer()),
                Command::Quit => {
                    let reply = cmd::quit::apply(&pop3.core, drop, &pop3.hostname).await;
                    // The lock goes before the answer, so that the client may sign in again
                    // at once.
                    self.state = State::Authorization { user: None };
                    (reply, Next::Close)
                }
                Command::Stls | Command::User(_) | Command::Pass(_) | Command::Auth(_) => {
                    go(Reply::err("already signed in"))
                }
            },
        }
    }

    /// A PLAIN response, from AUTH's initial response or after the `+ ` continuation.
    async fn sasl_plain(&mut self, response: &str) -> (Reply, Next) {
        match sasl::plain(response.as_bytes()) {
            Ok(p) => self.sign_in(&p.login, &p.password, "PLAIN").await,
            Err(SaslError::Cancelled) => (Reply::err("authentication cancelled"), Next::Continue),
            Err(_) => self.failed().await,
        }
    }

    /// Verifies the credentials (the core writes the authentication log), takes the maildrop
    /// lock and opens the maildrop.
    async fn sign_in(&mut self, login: &str, secret: &str, mechanism: &str) -> (Reply, Next) {
        let pop3 = self.pop3;
        let attempt = Attempt {
            protocol: "pop3",
            login,
            remote: &self.remote,
            mechanism,
        };
        let account = match pop3.core.sign_in(attempt, secret).await {
            // Only mailboxes have a maildrop; staff sign in elsewhere.
            Ok(actor) => match actor.principal.role {
                Role::User { account, .. } | Role::Postmaster { account, .. } => account,
                _ => return self.failed().await,
            },
            Err(CoreError::AuthFailed) => return self.failed().await,
            // RFC 3206 §4: SYS/TEMP, a temporary refusal; the password was not checked.
            Err(CoreError::SignInRefused { retry_after_secs }) => {
                self.failures += 1;
                return (
                    Reply::err(format!(
                        "[SYS/TEMP] too many failed sign-ins from your address; try again in \
                         {retry_after_secs} s"
                    )),
                    if self.failures >= MAX_FAILURES {
                        Next::Close
                    } else {
                        Next::Continue
                    },
                );
            }
            Err(e) => {
                warn!(error = %e, "sign-in failed");
                return (Reply::err("[SYS/TEMP] cannot sign in now"), Next::Continue);
            }
        };
        // RFC 2449 §8.1.1: [IN-USE], the maildrop is locked by another session.
        let Some(lock) = pop3.locks.try_lock(account).await else {
            return (
                Reply::err("[IN-USE] maildrop already in use by another session"),
                Next::Continue,
            );
        };
        let drop = match Maildrop::load(pop3.core.store(), account).await {
            Ok(d) => d,
            // RFC 3206 §4: SYS/PERM, trying again will not help; SYS/TEMP, it may.
            Err(marque_store::Error::NotFound(what)) => {
                warn!(%what, "the account has no maildrop");
                return (
                    Reply::err("[SYS/PERM] this account has no maildrop"),
                    Next::Continue,
                );
            }
            Err(e) => {
                warn!(error = %e, "opening the maildrop failed");
                return (
                    Reply::err("[SYS/TEMP] cannot open the maildrop"),
                    Next::Continue,
                );
            }
        };
        let (count, size) = drop.totals();
        info!(%login, mechanism, messages = count, "signed in");
        self.state = State::Transaction { drop, _lock: lock };
        (
            Reply::ok(format!("maildrop has {count} messages ({size} octets)")),
            Next::Continue,
        )
    }

    /// A failed sign-in, already slowed down by the core's throttle (RFC 1939 §13): `[AUTH]`
    /// (RFC 3206 §5), and the end of the session after too many.
    async fn failed(&mut self) -> (Reply, Next) {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            return (
                Reply::err("[AUTH] too many failed sign-ins, closing"),
                Next::Close,
            );
        }
        (Reply::err("[AUTH] invalid credentials"), Next::Continue)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_greeting_names_the_host_and_carries_a_timestamp() {
        let g = super::greeting("pop.example", 7);
        assert!(g.starts_with("+OK pop.example POP3 ready <7."));
        assert!(g.ends_with("@pop.example>\r\n"));
    }
}

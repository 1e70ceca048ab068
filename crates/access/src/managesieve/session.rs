//! One ManageSieve session: the greeting (the capability list, RFC 5804 §1.7), commands until
//! LOGOUT, STARTTLS, SASL PLAIN through the core's sign-in, and the limits on idle time,
//! failures and commands.

use marque_core::authlog::Attempt;
use marque_core::{CoreError, Role};
use marque_session::Connection;
use marque_session::lines::{LineIo, Timed};
use marque_session::sasl::{self, SaslError};
use tracing::{debug, info, warn};

use super::ManageSieve;
use super::cmd::{self, User, authenticate, capability::Offer};
use super::parse::{self, Command, FrameError, FrameLimits, Token};
use super::response::{Code, Reply};

/// Where the session is. Script commands need the signed-in [`User`].
enum State {
    NotAuthenticated {
        failures: u32,
    },
    /// AUTHENTICATE without an initial response: the next line is the client's response.
    SaslResponse {
        failures: u32,
    },
    Authenticated {
        user: User,
    },
}

/// What the session does after a reply.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Continue,
    Close,
    StartTls,
}

struct Session<'a> {
    svc: &'a ManageSieve,
    remote: String,
    /// A password may be sent before TLS from this client (loopback, or a network the
    /// operator allows: `[signin] cleartext_networks`).
    cleartext_ok: bool,
    is_tls: bool,
    can_starttls: bool,
    commands: u64,
    state: State,
}

/// Serves one connection to the end.
/// Its logs go in the connection's span (`session{id, service, remote}`).
pub(super) async fn run(svc: &ManageSieve, conn: Connection) {
    let s = Session {
        svc,
        remote: conn.peer().ip().to_string(),
        cleartext_ok: svc.plaintext_allowed
            && svc.hosting.core().cleartext_sign_in(conn.peer().ip()),
        is_tls: conn.is_tls(),
        can_starttls: conn.can_starttls(),
        commands: 0,
        state: State::NotAuthenticated { failures: 0 },
    };
    serve(s, conn).await;
}

async fn serve(mut s: Session<'_>, conn: Connection) {
    let svc = s.svc;
    let limits = FrameLimits {
        max_line: parse::MAX_LINE,
        max_literal: svc.max_literal(),
    };
    // The name the client asked for by SNI, when the platform serves it (white label).
    let greeting = s.greeting(conn.server_name().unwrap_or(&svc.hostname));
    // The shared reader buffers and times the input; the grammar frames it (literals and
    // all), refusing an overlong line before its end arrives.
    let mut io = LineIo::new(conn);
    io.queue(&greeting);
    loop {
        let mut next = Next::Continue;
        loop {
            match parse::frame(io.buffered(), limits) {
                Ok(None) => break,
                Ok(Some((tokens, used))) => {
                    io.consume(used);
                    let (reply, then) = s.step(tokens).await;
                    io.queue(&reply.0);
                    next = then;
                    if next != Next::Continue {
                        break;
                    }
                }
                Err(FrameError::Syntax { reason, skip }) => {
                    io.consume(skip);
                    if let State::SaslResponse { failures } = s.state {
                        s.state = State::NotAuthenticated { failures };
                    }
                    io.queue(&Reply::no(None, &reason).0);
                }
                Err(FrameError::LineTooLong) => {
                    io.queue(&Reply::bye(None, "line too long").0);
                    next = Next::Close;
                    break;
                }
                Err(FrameError::LiteralTooLarge { size, max }) => {
                    let text = format!("literal of {size} bytes is larger than {max}");
                    io.queue(&Reply::bye(Some(Code::QuotaMaxSize), &text).0);
                    next = Next::Close;
                    break;
                }
            }
        }
        if io.flush_within(svc.idle_timeout).await.is_err() {
            return;
        }
        match next {
            Next::Continue => {}
            Next::Close => {
                io.close().await;
                return;
            }
            Next::StartTls => {
                // RFC 5804 §2.2 (and RFC 3207 §4.2): whatever followed STARTTLS in plaintext
                // is dropped, never read as if it came over TLS.
                io = match io.starttls().await {
                    Ok(io) => io,
                    Err(e) => {
                        debug!(error = %e, "STARTTLS handshake failed");
                        return;
                    }
                };
                s.is_tls = true;
                s.can_starttls = false;
                // RFC 5804 §2.2: the capabilities again, then OK.
                let mut r = cmd::capability::lines(svc, s.offer());
                r.push_status("OK", None, "TLS negotiation successful");
                io.queue(&r.0);
                if io.flush_within(svc.idle_timeout).await.is_err() {
                    return;
                }
                continue;
            }
        }
        match io.fill_within(svc.idle_timeout).await {
            Ok(Timed::Ready(0)) | Err(_) => return,
            Ok(Timed::Ready(_)) => {}
            Ok(Timed::Shutdown) => {
                io.queue(&Reply::bye(Some(Code::TryLater), "server shutting down").0);
                io.close().await;
                return;
            }
            Ok(Timed::Idle) => {
                info!("idle timeout");
                io.queue(&Reply::bye(None, "idle for too long").0);
                io.close().await;
                return;
            }
        }
    }
}

impl Session<'_> {
    /// What the capability list offers now.
    fn offer(&self) -> Offer {
        Offer {
            // RFC 5804 §2.1: SASL PLAIN is not offered before TLS.
            plain: self.is_tls || self.cleartext_ok,
            starttls: self.can_starttls
                && !self.is_tls
                && !matches!(self.state, State::Authenticated { .. }),
        }
    }

    /// RFC 5804 §1.7: the capabilities, then OK.
    fn greeting(&self, host: &str) -> Vec<u8> {
        let mut r = cmd::capability::lines(self.svc, self.offer());
        let text = format!("{host} ManageSieve ready");
        r.push_status("OK", None, &text);
        r.0
    }

    async fn step(&mut self, tokens: Vec<Token>) -> (Reply, Next) {
        self.commands += 1;
        if self.commands > self.svc.max_commands {
            return (
                Reply::bye(None, "too many commands on one connection"),
                Next::Close,
            );
        }
        if let State::SaslResponse { failures } = self.state {
            self.state = State::NotAuthenticated { failures };
            return match tokens.as_slice() {
                [Token::String(response)] => self.sasl_plain(response).await,
                _ => (
                    Reply::no(None, "expected a SASL response string"),
                    Next::Continue,
                ),
            };
        }
        match Command::parse(tokens) {
            Ok(c) => self.dispatch(c).await,
            Err(e) => (Reply::no(None, &e), Next::Continue),
        }
    }

    #[tracing::instrument(skip_all, fields(command = c.name()))]
    async fn dispatch(&mut self, c: Command) -> (Reply, Next) {
        let svc = self.svc;
        let hosting = &svc.hosting;
        let go = |r: Reply| (r, Next::Continue);
        let signed_in = matches!(self.state, State::Authenticated { .. });
        match c {
            Command::Capability => return go(cmd::capability::answer(svc, self.offer())),
            Command::Logout => return (cmd::logout::answer(), Next::Close),
            Command::Noop { tag } => return go(cmd::noop::answer(tag.as_deref())),
            Command::StartTls => {
                return match cmd::starttls::answer(self.is_tls, self.can_starttls, signed_in) {
                    Ok(r) => (r, Next::StartTls),
                    Err(r) => go(r),
                };
            }
            Command::Unauthenticate => {
                let r = cmd::unauthenticate::answer(signed_in);
                if signed_in {
                    self.state = State::NotAuthenticated { failures: 0 };
                }
                return go(r);
            }
            _ => {}
        }
        let user = match &self.state {
            State::Authenticated { user } => user.clone(),
            _ => {
                return match c {
                    Command::Authenticate { mechanism, initial } => {
                        self.authenticate(&mechanism, initial).await
                    }
                    _ => go(Reply::no(None, "authenticate first")),
                };
            }
        };
        go(match c {
            Command::Authenticate { .. } => Reply::no(None, "already authenticated"),
            Command::HaveSpace { name, size } => {
                cmd::havespace::run(hosting, &user, &name, size).await
            }
            Command::PutScript { name, script } => {
                cmd::putscript::run(hosting, &user, &name, script).await
            }
            Command::CheckScript { script } => cmd::checkscript::run(hosting, &script),
            Command::ListScripts => cmd::listscripts::run(hosting, &user).await,
            Command::SetActive { name } => cmd::setactive::run(hosting, &user, &name).await,
            Command::GetScript { name } => cmd::getscript::run(hosting, &user, &name).await,
            Command::DeleteScript { name } => cmd::deletescript::run(hosting, &user, &name).await,
            Command::RenameScript { old, new } => {
                cmd::renamescript::run(hosting, &user, &old, &new).await
            }
            Command::Capability
            | Command::Logout
            | Command::Noop { .. }
            | Command::StartTls
            | Command::Unauthenticate => Reply::no(None, "unexpected command"),
        })
    }

    /// AUTHENTICATE before sign-in: PLAIN only, and only where [`Self::offer`] allows it.
    async fn authenticate(&mut self, mechanism: &str, initial: Option<Vec<u8>>) -> (Reply, Next) {
        if mechanism != authenticate::PLAIN {
            return (
                Reply::no(None, "unsupported authentication mechanism"),
                Next::Continue,
            );
        }
        if !self.offer().plain {
            return (
                Reply::no(Some(Code::EncryptNeeded), "use STARTTLS first"),
                Next::Continue,
            );
        }
        match initial {
            Some(response) => self.sasl_plain(&response).await,
            None => {
                let failures = match self.state {
                    State::NotAuthenticated { failures } => failures,
                    _ => 0,
                };
                self.state = State::SaslResponse { failures };
                // RFC 5804 §2.1: an empty challenge.
                (Reply(b"\"\"\r\n".to_vec()), Next::Continue)
            }
        }
    }

    async fn sasl_plain(&mut self, response: &[u8]) -> (Reply, Next) {
        match sasl::plain(response) {
            Ok(p) => self.sign_in(&p.login, &p.password).await,
            Err(SaslError::Cancelled) => {
                (Reply::no(None, "authentication cancelled"), Next::Continue)
            }
            Err(_) => self.failed().await,
        }
    }

    /// Verifies the credentials through the core, which writes the authentication log.
    async fn sign_in(&mut self, login: &str, password: &str) -> (Reply, Next) {
        let attempt = Attempt {
            protocol: "managesieve",
            login,
            remote: &self.remote,
            mechanism: "PLAIN",
        };
        match self.svc.hosting.core().sign_in(attempt, password).await {
            // Only mailboxes have scripts; staff manage them through the admin API.
            Ok(actor)
                if matches!(
                    actor.principal.role,
                    Role::User { .. } | Role::Postmaster { .. }
                ) =>
            {
                info!(login, "signed in");
                let address = actor.principal.name.clone();
                let actor = actor.with_source(self.remote.clone());
                self.state = State::Authenticated {
                    user: User { actor, address },
                };
                (Reply::ok("authenticated"), Next::Continue)
            }
            Ok(_) | Err(CoreError::AuthFailed) => self.failed().await,
            // RFC 5804 §1.3: TRYLATER; the password was not checked.
            Err(CoreError::SignInRefused { retry_after_secs }) => {
                let (_, next) = self.failed().await;
                let text = format!(
                    "too many failed sign-ins from your address; try again in {retry_after_secs} s"
                );
                let reply = if next == Next::Close {
                    Reply::bye(Some(Code::TryLater), &text)
                } else {
                    Reply::no(Some(Code::TryLater), &text)
                };
                (reply, next)
            }
            Err(e) => {
                warn!(error = %e, "sign-in failed");
                (
                    Reply::no(Some(Code::TryLater), "cannot sign in now"),
                    Next::Continue,
                )
            }
        }
    }

    /// A failed sign-in (already slowed down by the core's throttle, shared with every other
    /// service), and the end of the connection after [`super::MAX_FAILURES`].
    async fn failed(&mut self) -> (Reply, Next) {
        let failures = match &mut self.state {
            State::NotAuthenticated { failures } | State::SaslResponse { failures } => {
                *failures += 1;
                *failures
            }
            State::Authenticated { .. } => super::MAX_FAILURES,
        };
        if failures >= super::MAX_FAILURES {
            return (Reply::bye(None, "too many failed sign-ins"), Next::Close);
        }
        (Reply::no(None, "authentication failed"), Next::Continue)
    }
}

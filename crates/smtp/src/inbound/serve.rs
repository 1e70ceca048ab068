//! The SMTP session's loop: the greeting, reading command lines (bounded, through the shared
//! line reader) and handing each to its command under [`super::cmd`].
//!
//! Replies are queued and flushed only when no pipelined input is waiting (RFC 2920 §3.2).
//! After STARTTLS, anything buffered from the plain stream is dropped and the session starts
//! over, requiring a new EHLO (RFC 3207 §4.2).

use marque_session::Connection;
use marque_session::lines::{Line, LineIo, Timed, strip_eol};
use tokio::time::timeout;
use tracing::debug;

use super::cmd::{self, Command};
use super::context::Service;
use super::reply::Reply;
use super::session::{Flow, Session, State};

/// The whole session.
pub async fn run(mut s: Session, conn: Connection) {
    let mut io = LineIo::new(conn);
    if let Some(r) = pre_greeting(&mut s, &mut io).await {
        s.reply(&mut io, r);
        io.close().await;
        return;
    }
    // The name the client asked for by SNI, when the platform serves it (white label).
    let host = io.stream().server_name().unwrap_or(&s.ctx.cfg.hostname);
    let greeting = Reply::plain(220, vec![format!("{host} ESMTP Marque")]);
    s.reply(&mut io, greeting);
    loop {
        if !io.pending() && io.flush().await.is_err() {
            break;
        }
        let cfg = s.ctx.cfg.clone();
        let read = io
            .read_line_within(cfg.max_command_line, cfg.command_timeout)
            .await;
        let flow = match read {
            Ok(Timed::Shutdown) => {
                let r = Reply::new(421, "4.3.2", format!("{} shutting down", cfg.hostname));
                s.reply(&mut io, r);
                break;
            }
            Ok(Timed::Idle) => {
                let r = Reply::new(421, "4.4.2", format!("{} timeout, closing", cfg.hostname));
                s.reply(&mut io, r);
                break;
            }
            Err(e) => {
                debug!(error = %e, "read failed");
                break;
            }
            Ok(Timed::Ready(Line::Eof)) => break,
            Ok(Timed::Ready(Line::TooLong { .. })) => {
                s.ctx.note("C: (line too long)".into());
                s.reply(&mut io, Reply::new(500, "5.5.2", "Line too long"));
                Flow::Continue
            }
            Ok(Timed::Ready(Line::Complete(l))) => {
                let text = strip_eol(&l).to_vec();
                note_command(&mut s, &text);
                match cmd::parse(&text) {
                    Ok(cmd) => dispatch(&mut s, cmd, &mut io).await,
                    Err(e) => {
                        let r = cmd::parse_error_reply(e);
                        s.reply(&mut io, r);
                        Flow::Continue
                    }
                }
            }
        };
        if s.errors >= s.ctx.cfg.max_errors {
            let r = Reply::new(421, "4.7.0", "Too many errors, closing");
            s.reply(&mut io, r);
            break;
        }
        match flow {
            Flow::Continue => {}
            Flow::Close => break,
            Flow::StartTls => {
                if io.flush().await.is_err() {
                    break;
                }
                match io.starttls().await {
                    Ok(upgraded) => {
                        io = upgraded;
                        s.ctx.tls = true;
                        s.state = State::Start;
                        s.ctx.note("(TLS started)".into());
                    }
                    Err(e) => {
                        debug!(error = %e, "TLS handshake failed");
                        s.abandon().await;
                        return;
                    }
                }
            }
        }
    }
    s.abandon().await;
    io.close().await;
}

/// Refuses a client that is banned for AUTH failures, or (MX) that talks before the
/// greeting.
async fn pre_greeting(s: &mut Session, io: &mut LineIo) -> Option<Reply> {
    // The sign-in throttle is shared by every service: an address refused for failures
    // on IMAP or POP3 is refused here too.
    if s.ctx.service.is_submission()
        && matches!(s.ctx.core.sign_in_ban(s.ctx.peer.ip()).await, Ok(Some(_)))
    {
        return Some(Reply::new(
            421,
            "4.7.0",
            "Too many authentication failures, try later",
        ));
    }
    let delay = s.ctx.cfg.greeting_delay;
    if s.ctx.service == Service::Mx && !delay.is_zero() {
        match timeout(delay, io.fill()).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Some(Reply::new(421, "4.4.0", "Closed before the greeting"));
            }
            Ok(Ok(_)) => {
                s.ctx.note("C: (data before the greeting)".into());
                // RFC 5321 §4.3.1: a server may refuse with 554 instead of greeting.
                return Some(Reply::new(
                    554,
                    "5.5.0",
                    "Commands sent before the greeting",
                ));
            }
        }
    }
    None
}

/// Records the command for the log; AUTH data never (RFC 4954 §4 responses are secrets).
fn note_command(session: &mut Session, text: &[u8]) {
    let s = String::from_utf8_lossy(text);
    let upper = s.to_ascii_uppercase();
    if upper.starts_with("AUTH ") {
        let mut parts = s.split(' ');
        let verb = parts.next().unwrap_or("");
        let mech = parts.next().unwrap_or("");
        let redacted = if parts.next().is_some() { " ****" } else { "" };
        session.ctx.note(format!("C: {verb} {mech}{redacted}"));
    } else {
        session.ctx.note(format!("C: {s}"));
    }
}

/// Runs `cmd`; each command's file checks that the state allows it.
async fn dispatch(s: &mut Session, cmd: Command, io: &mut LineIo) -> Flow {
    match cmd {
        Command::Ehlo(name) => cmd::ehlo::run(s, io, name, true).await,
        Command::Helo(name) => cmd::ehlo::run(s, io, name, false).await,
        Command::Mail(m) => cmd::mail::run(s, io, m).await,
        Command::Rcpt(r) => cmd::rcpt::run(s, io, r).await,
        Command::Data => cmd::data::run(s, io).await,
        Command::Bdat(b) => cmd::bdat::run(s, io, b).await,
        Command::Rset => cmd::rset::run(s, io).await,
        Command::Noop => cmd::noop::run(s, io),
        Command::Quit => cmd::quit::run(s, io),
        Command::Vrfy => cmd::vrfy::run(s, io),
        Command::Expn => cmd::expn::run(s, io),
        Command::Help => cmd::help::run(s, io),
        Command::StartTls => cmd::starttls::run(s, io).await,
        Command::Auth(a) => cmd::auth::run(s, io, a).await,
    }
}

//! One SMTP session: the loop, the state (RFC 5321 §4.1.4 command order) and the dispatch to
//! the commands, one file each under [`super::cmd`].
//!
//! Replies are queued and flushed only when no pipelined input is waiting (RFC 2920 §3.2).
//! After STARTTLS, anything buffered from the plain stream is dropped and the session starts
//! over, requiring a new EHLO (RFC 3207 §4.2).

use marque_session::Connection;
use marque_session::lines::{Line, LineIo, strip_eol};
use tokio::time::timeout;
use tracing::{debug, info, warn};

use super::cmd::data::Collected;
use super::cmd::{self, Command};
use super::context::{Context, Helo, Service};
use super::reply::Reply;
use super::transaction::Transaction;
use crate::submission_limits::Counted;

/// Where the session is in RFC 5321's command order.
pub enum State {
    /// Greeted, waiting for EHLO or HELO.
    Start,
    /// After EHLO/HELO (or RSET): no transaction.
    Ready(Helo),
    /// After MAIL FROM: recipients and content.
    Mail(Helo, Box<Transaction>),
}

/// What the loop does after a command.
pub enum Flow {
    Continue,
    Close,
    StartTls,
}

pub struct Session {
    pub ctx: Context,
    pub state: State,
    /// Bad commands, failed AUTHs and unknown recipients so far (`max_errors`).
    pub errors: u32,
}

impl Session {
    pub fn new(ctx: Context) -> Self {
        Session {
            ctx,
            state: State::Start,
            errors: 0,
        }
    }

    /// Queues a reply (and keeps it in the conversation); error replies count towards
    /// `max_errors`.
    pub fn reply(&mut self, io: &mut LineIo, r: Reply) {
        if matches!(r.code, 500..=504) || r.code == 535 {
            self.errors += 1;
        }
        for l in r.to_wire().lines() {
            self.ctx.note(format!("S: {l}"));
        }
        io.queue(r.to_wire().as_bytes());
    }

    /// The whole session.
    pub async fn run(mut self, conn: Connection) {
        let mut stop = conn.shutdown_signal();
        let mut io = LineIo::new(conn);
        if let Some(r) = self.pre_greeting(&mut io).await {
            self.reply(&mut io, r);
            io.close().await;
            return;
        }
        // The name the client asked for by SNI, when the platform serves it (white label).
        let host = io.stream().server_name().unwrap_or(&self.ctx.cfg.hostname);
        let greeting = Reply::plain(220, vec![format!("{host} ESMTP Marque")]);
        self.reply(&mut io, greeting);
        loop {
            if !io.pending() && io.flush().await.is_err() {
                break;
            }
            let read = tokio::select! {
                biased;
                _ = stop.wait() => {
                    let r = Reply::new(421, "4.3.2", format!("{} shutting down", self.ctx.cfg.hostname));
                    self.reply(&mut io, r);
                    break;
                }
                r = timeout(self.ctx.cfg.command_timeout, io.read_line(self.ctx.cfg.max_command_line)) => r,
            };
            let line = match read {
                Err(_) => {
                    let r = Reply::new(
                        421,
                        "4.4.2",
                        format!("{} timeout, closing", self.ctx.cfg.hostname),
                    );
                    self.reply(&mut io, r);
                    break;
                }
                Ok(Err(e)) => {
                    debug!(error = %e, "read failed");
                    break;
                }
                Ok(Ok(Line::Eof)) => break,
                Ok(Ok(Line::TooLong { .. })) => {
                    self.ctx.note("C: (line too long)".into());
                    self.reply(&mut io, Reply::new(500, "5.5.2", "Line too long"));
                    Flow::Continue
                }
                Ok(Ok(Line::Complete(l))) => {
                    let text = strip_eol(&l).to_vec();
                    self.note_command(&text);
                    match cmd::parse(&text) {
                        Ok(cmd) => self.dispatch(cmd, &mut io).await,
                        Err(e) => {
                            let r = cmd::parse_error_reply(e);
                            self.reply(&mut io, r);
                            Flow::Continue
                        }
                    }
                }
            };
            let flow = line;
            if self.errors >= self.ctx.cfg.max_errors {
                let r = Reply::new(421, "4.7.0", "Too many errors, closing");
                self.reply(&mut io, r);
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
                            self.ctx.tls = true;
                            self.state = State::Start;
                            self.ctx.note("(TLS started)".into());
                        }
                        Err(e) => {
                            debug!(error = %e, "TLS handshake failed");
                            self.abandon().await;
                            return;
                        }
                    }
                }
            }
        }
        self.abandon().await;
        io.close().await;
    }

    /// Refuses a client that is banned for AUTH failures, or (MX) that talks before the
    /// greeting.
    async fn pre_greeting(&mut self, io: &mut LineIo) -> Option<Reply> {
        // The sign-in throttle is shared by every service: an address refused for failures
        // on IMAP or POP3 is refused here too.
        if self.ctx.service.is_submission()
            && matches!(
                self.ctx.core.sign_in_ban(self.ctx.peer.ip()).await,
                Ok(Some(_))
            )
        {
            return Some(Reply::new(
                421,
                "4.7.0",
                "Too many authentication failures, try later",
            ));
        }
        let delay = self.ctx.cfg.greeting_delay;
        if self.ctx.service == Service::Mx && !delay.is_zero() {
            match timeout(delay, io.fill()).await {
                Err(_) => {}
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return Some(Reply::new(421, "4.4.0", "Closed before the greeting"));
                }
                Ok(Ok(_)) => {
                    self.ctx.note("C: (data before the greeting)".into());
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
    fn note_command(&mut self, text: &[u8]) {
        let s = String::from_utf8_lossy(text);
        let upper = s.to_ascii_uppercase();
        if upper.starts_with("AUTH ") {
            let mut parts = s.split(' ');
            let verb = parts.next().unwrap_or("");
            let mech = parts.next().unwrap_or("");
            let redacted = if parts.next().is_some() { " ****" } else { "" };
            self.ctx.note(format!("C: {verb} {mech}{redacted}"));
        } else {
            self.ctx.note(format!("C: {s}"));
        }
    }

    /// Runs `cmd`; each command's file checks that the state allows it.
    async fn dispatch(&mut self, cmd: Command, io: &mut LineIo) -> Flow {
        match cmd {
            Command::Ehlo(name) => cmd::ehlo::run(self, io, name, true).await,
            Command::Helo(name) => cmd::ehlo::run(self, io, name, false).await,
            Command::Mail(m) => cmd::mail::run(self, io, m).await,
            Command::Rcpt(r) => cmd::rcpt::run(self, io, r).await,
            Command::Data => cmd::data::run(self, io).await,
            Command::Bdat(b) => cmd::bdat::run(self, io, b).await,
            Command::Rset => cmd::rset::run(self, io).await,
            Command::Noop => cmd::noop::run(self, io),
            Command::Quit => cmd::quit::run(self, io),
            Command::Vrfy => cmd::vrfy::run(self, io),
            Command::Expn => cmd::expn::run(self, io),
            Command::Help => cmd::help::run(self, io),
            Command::StartTls => cmd::starttls::run(self, io).await,
            Command::Auth(a) => cmd::auth::run(self, io, a).await,
        }
    }

    /// Ends the transaction with its content: delivery, the log record, the reply.
    pub async fn finish(&mut self, content: Collected) -> Reply {
        let State::Mail(helo, mut tx) = std::mem::replace(&mut self.state, State::Start) else {
            return Reply::new(503, "5.5.1", "No transaction");
        };
        self.state = State::Ready(helo.clone());
        let counted = tx.counted.take();
        let reply = tx.finish(&mut self.ctx, &helo, content).await;
        info!(code = reply.code, "transaction done");
        if reply.code != 250 {
            self.give_back(counted).await;
        }
        reply
    }

    /// Gives back the hourly count of a message that was not sent.
    async fn give_back(&self, counted: Option<Counted>) {
        if let Some(c) = counted
            && let Err(e) = self.ctx.limits.give_back(c).await
        {
            // The message stays counted: the limit errs on the strict side.
            warn!(error = %e, "could not give back an hourly message count");
        }
    }

    /// Writes the record of a transaction that ends without content (RSET, QUIT, a new EHLO,
    /// a dropped connection), if it got as far as a recipient.
    pub async fn abandon(&mut self) {
        // Outside a transaction the state (and its EHLO) stays as it is.
        if !matches!(self.state, State::Mail(..)) {
            return;
        }
        if let State::Mail(h, mut tx) = std::mem::replace(&mut self.state, State::Start) {
            self.state = State::Ready(h.clone());
            self.give_back(tx.counted.take()).await;
            tx.abandon(&mut self.ctx, &h).await;
        }
    }
}

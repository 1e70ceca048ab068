//! One SMTP session: the state machine (RFC 5321 §4.1.4 command order) and its I/O.
//!
//! Replies are queued and flushed only when no pipelined input is waiting (RFC 2920 §3.2).
//! After STARTTLS, anything buffered from the plain stream is dropped and the session starts
//! over, requiring a new EHLO (RFC 3207 §4.2).

use std::net::SocketAddr;
use std::sync::Arc;

use marque_core::authlog::Attempt;
use marque_core::{AccountId, Core, CoreError, Role, TenantId};
use marque_session::Connection;
use marque_session::sasl::{self, Credentials, Mechanism, SaslError};
use tokio::time::timeout;
use tracing::{debug, info, instrument, warn};

use super::Config;
use super::auth::AuthStart;
use super::command::{self, Command, ParseError};
use super::data::{self, Collector};
use super::ehlo::{self, Offer};
use super::io::{Line, LineIo};
use super::mail::MailFrom;
use super::rcpt::RcptTo;
use super::reply::Reply;
use super::transaction::Transaction;

/// Which listener the client came in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Port 25: mail from other servers; no AUTH.
    Mx,
    /// Port 587: STARTTLS, then AUTH, then mail.
    Submission,
    /// Port 465: implicit TLS, then AUTH.
    Submissions,
}

impl Service {
    fn of(name: &str) -> Service {
        match name {
            "submission" => Service::Submission,
            "submissions" => Service::Submissions,
            _ => Service::Mx,
        }
    }

    fn is_submission(self) -> bool {
        self != Service::Mx
    }
}

/// The client's EHLO or HELO.
#[derive(Debug, Clone)]
pub struct Helo {
    pub name: String,
    pub esmtp: bool,
}

/// Where the session is in RFC 5321's command order.
pub enum State {
    /// Greeted, waiting for EHLO or HELO.
    Start,
    /// After EHLO/HELO (or RSET): no transaction.
    Ready(Helo),
    /// After MAIL FROM: recipients and content.
    Mail(Helo, Box<Transaction>),
}

/// The signed-in user (submission).
#[derive(Debug, Clone)]
pub struct User {
    pub login: String,
    pub account: AccountId,
    /// The user's tenant chain, root first.
    pub path: Vec<TenantId>,
}

/// What the loop does after a command.
enum Flow {
    Continue,
    Close,
    StartTls,
}

pub struct Session {
    pub(super) core: Core,
    pub(super) cfg: Arc<Config>,
    pub(super) service: Service,
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
    pub(super) id: u64,
    pub(super) tls: bool,
    state: State,
    pub(super) user: Option<User>,
    errors: u32,
    /// The conversation since the last transaction record.
    pub(super) talk: Vec<String>,
    pub(super) transactions: u32,
    pub(super) authn: Arc<crate::authn::Authn>,
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Session {
    pub fn new(
        core: Core,
        cfg: Arc<Config>,
        authn: Arc<crate::authn::Authn>,
        conn: &Connection,
    ) -> Self {
        Session {
            core,
            cfg,
            service: Service::of(conn.service()),
            peer: conn.peer(),
            local: conn.local(),
            id: conn.session_id(),
            tls: conn.is_tls(),
            state: State::Start,
            user: None,
            errors: 0,
            talk: Vec::new(),
            transactions: 0,
            authn,
        }
    }

    pub(super) fn note(&mut self, line: String) {
        if self.talk.len() < self.cfg.max_conversation {
            let mut line = line;
            if line.len() > 512 {
                let mut end = 512;
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                line.truncate(end);
            }
            self.talk.push(line);
        }
    }

    fn reply(&mut self, io: &mut LineIo, r: Reply) {
        if matches!(r.code, 500..=504) || r.code == 535 {
            self.errors += 1;
        }
        for l in r.to_wire().lines() {
            self.note(format!("S: {l}"));
        }
        io.queue(r.to_wire().as_bytes());
    }

    /// The whole session.
    pub async fn run(mut self, conn: Connection) {
        let mut stop = conn.shutdown_signal();
        let mut io = LineIo::new(conn);
        if let Some(r) = self.pre_greeting(&mut io).await {
            self.reply(&mut io, r);
            io.shutdown().await;
            return;
        }
        // The name the client asked for by SNI, when the platform serves it (white label).
        let host = io.conn().server_name().unwrap_or(&self.cfg.hostname);
        let greeting = Reply::plain(220, vec![format!("{host} ESMTP Marque")]);
        self.reply(&mut io, greeting);
        loop {
            if !io.pending() && io.flush().await.is_err() {
                break;
            }
            let read = tokio::select! {
                biased;
                _ = stop.wait() => {
                    let r = Reply::new(421, "4.3.2", format!("{} shutting down", self.cfg.hostname));
                    self.reply(&mut io, r);
                    break;
                }
                r = timeout(self.cfg.command_timeout, io.read_line(self.cfg.max_command_line)) => r,
            };
            let line = match read {
                Err(_) => {
                    let r = Reply::new(
                        421,
                        "4.4.2",
                        format!("{} timeout, closing", self.cfg.hostname),
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
                    self.note("C: (line too long)".into());
                    self.reply(&mut io, Reply::new(500, "5.5.2", "Line too long"));
                    Flow::Continue
                }
                Ok(Ok(Line::Complete(l))) => {
                    let text = strip_eol(&l).to_vec();
                    self.note_command(&text);
                    match command::parse(&text) {
                        Ok(cmd) => self.command(cmd, &mut io).await,
                        Err(e) => {
                            let r = parse_error_reply(e);
                            self.reply(&mut io, r);
                            Flow::Continue
                        }
                    }
                }
            };
            let flow = line;
            if self.errors >= self.cfg.max_errors {
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
                    match io.into_conn().starttls().await {
                        Ok(conn) => {
                            io = LineIo::new(conn);
                            self.tls = true;
                            self.state = State::Start;
                            self.note("(TLS started)".into());
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
        io.shutdown().await;
    }

    /// Refuses a client that is banned for AUTH failures, or (MX) that talks before the
    /// greeting.
    async fn pre_greeting(&mut self, io: &mut LineIo) -> Option<Reply> {
        // The sign-in throttle is shared by every service: an address refused for failures
        // on IMAP or POP3 is refused here too.
        if self.service.is_submission()
            && matches!(self.core.sign_in_ban(self.peer.ip()).await, Ok(Some(_)))
        {
            return Some(Reply::new(
                421,
                "4.7.0",
                "Too many authentication failures, try later",
            ));
        }
        let delay = self.cfg.greeting_delay;
        if self.service == Service::Mx && !delay.is_zero() {
            match timeout(delay, io.fill()).await {
                Err(_) => {}
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return Some(Reply::new(421, "4.4.0", "Closed before the greeting"));
                }
                Ok(Ok(_)) => {
                    self.note("C: (data before the greeting)".into());
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
            self.note(format!("C: {verb} {mech}{redacted}"));
        } else {
            self.note(format!("C: {s}"));
        }
    }

    async fn command(&mut self, cmd: Command, io: &mut LineIo) -> Flow {
        match cmd {
            Command::Ehlo(name) => {
                self.abandon().await;
                let offer = Offer {
                    max_size: self.cfg.max_message_size,
                    starttls: io.conn().can_starttls(),
                    auth: self.service.is_submission() && self.tls && self.user.is_none(),
                };
                let host = io.conn().server_name().unwrap_or(&self.cfg.hostname);
                let r = ehlo::ehlo_reply(host, &name, offer);
                self.state = State::Ready(Helo { name, esmtp: true });
                self.reply(io, r);
                Flow::Continue
            }
            Command::Helo(name) => {
                self.abandon().await;
                let r = ehlo::helo_reply(io.conn().server_name().unwrap_or(&self.cfg.hostname));
                self.state = State::Ready(Helo { name, esmtp: false });
                self.reply(io, r);
                Flow::Continue
            }
            Command::Mail(m) => {
                let r = self.mail(m).await;
                self.reply(io, r);
                Flow::Continue
            }
            Command::Rcpt(r) => {
                let reply = match &mut self.state {
                    State::Mail(_, tx) if tx.recipient_commands >= self.cfg.max_recipients => {
                        // RFC 5321 §4.5.3.1.10.
                        Reply::new(452, "4.5.3", "Too many recipients")
                    }
                    State::Mail(_, tx) if !tx.mail.smtputf8 && !r.to.is_ascii() => {
                        // RFC 6531 §3.4.
                        Reply::new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8")
                    }
                    State::Mail(..) => self.rcpt(&r).await,
                    _ => Reply::new(503, "5.5.1", "MAIL first"),
                };
                self.reply(io, reply);
                Flow::Continue
            }
            Command::Data => self.data(io).await,
            Command::Bdat(b) => self.bdat(b, io).await,
            Command::Rset => {
                // RFC 5321 §4.1.1.5: the transaction goes, the EHLO stays.
                self.abandon().await;
                self.reply(io, Reply::new(250, "2.0.0", "OK"));
                Flow::Continue
            }
            Command::Noop => {
                self.reply(io, Reply::new(250, "2.0.0", "OK"));
                Flow::Continue
            }
            Command::Quit => {
                let r = Reply::new(221, "2.0.0", format!("{} closing", self.cfg.hostname));
                self.reply(io, r);
                Flow::Close
            }
            // RFC 5321 §3.5.3: 252 when we will not say whether an address exists.
            Command::Vrfy => {
                let r = Reply::new(252, "2.5.0", "Cannot VRFY user, but will accept message");
                self.reply(io, r);
                Flow::Continue
            }
            Command::Expn => {
                self.reply(io, Reply::new(252, "2.5.0", "Cannot EXPN"));
                Flow::Continue
            }
            Command::Help => {
                let r = Reply::new(
                    214,
                    "2.0.0",
                    "See RFC 5321 (https://www.rfc-editor.org/rfc/rfc5321)",
                );
                self.reply(io, r);
                Flow::Continue
            }
            Command::StartTls => {
                if self.tls {
                    self.reply(io, Reply::new(503, "5.5.1", "TLS already active"));
                    Flow::Continue
                } else if !io.conn().can_starttls() {
                    self.reply(io, Reply::new(454, "4.7.0", "TLS not available"));
                    Flow::Continue
                } else {
                    self.abandon().await;
                    self.reply(io, Reply::new(220, "2.0.0", "Ready to start TLS"));
                    Flow::StartTls
                }
            }
            Command::Auth(a) => self.auth(a, io).await,
        }
    }

    #[instrument(skip_all, fields(from = %m.from))]
    async fn mail(&mut self, m: MailFrom) -> Reply {
        let helo = match &self.state {
            State::Start => return Reply::new(503, "5.5.1", "EHLO or HELO first"),
            State::Mail(..) => return Reply::new(503, "5.5.1", "Nested MAIL command"),
            State::Ready(h) => h.clone(),
        };
        if self.service.is_submission() && self.user.is_none() {
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
        if m.size.is_some_and(|s| s > self.cfg.max_message_size) {
            // RFC 1870 §6.
            return Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        }
        if let Some(user) = &self.user
            && !self.sender_belongs_to(user, &m.from).await
        {
            return Reply::new(
                553,
                "5.7.1",
                format!("Sender address not owned by {}", user.login),
            );
        }
        if let Some(user) = &self.user
            && !self
                .authn
                .rate
                .may_send(&user.login, std::time::Instant::now())
        {
            warn!(user = %user.login, "hourly message limit reached");
            return Reply::new(451, "4.7.1", "Hourly message limit reached, try later");
        }
        self.transactions += 1;
        let tx = Transaction::new(m);
        self.state = State::Mail(helo, Box::new(tx));
        Reply::new(250, "2.1.0", "OK")
    }

    /// The sender is the user's own address, or an alias that delivers to it.
    async fn sender_belongs_to(&self, user: &User, from: &str) -> bool {
        self.core
            .address_belongs_to(from, user.account, &user.login)
            .await
            .unwrap_or(false)
    }

    #[instrument(skip(self))]
    async fn rcpt(&mut self, to: &RcptTo) -> Reply {
        let State::Mail(_, tx) = &mut self.state else {
            return Reply::new(503, "5.5.1", "MAIL first");
        };
        if let Some(user) = &self.user
            && !self
                .authn
                .rate
                .take_recipient(&user.login, std::time::Instant::now())
        {
            warn!(user = %user.login, "hourly recipient limit reached");
            return Reply::new(451, "4.7.1", "Hourly recipient limit reached, try later");
        }
        let mut tx = std::mem::replace(tx, Box::new(Transaction::new(MailFrom::default())));
        let reply = tx.rcpt(&self.core, to, self.user.is_some()).await;
        if reply.code == 550 {
            // Unknown recipients count towards the error limit (address harvesting).
            self.errors += 1;
        }
        if let State::Mail(_, slot) = &mut self.state {
            *slot = tx;
        }
        reply
    }

    #[instrument(skip_all)]
    async fn data(&mut self, io: &mut LineIo) -> Flow {
        let ready = match &self.state {
            State::Mail(_, tx) if tx.bdat.is_some() => {
                Err(Reply::new(503, "5.5.1", "BDAT in progress"))
            }
            State::Mail(_, tx) if !tx.has_recipients() => {
                // RFC 5321 §3.3: no valid recipients.
                Err(Reply::new(554, "5.5.1", "No valid recipients"))
            }
            State::Mail(..) => Ok(()),
            _ => Err(Reply::new(503, "5.5.1", "MAIL and RCPT first")),
        };
        if let Err(r) = ready {
            self.reply(io, r);
            return Flow::Continue;
        }
        self.reply(
            io,
            Reply::plain(354, vec!["Start mail input; end with <CRLF>.<CRLF>".into()]),
        );
        if io.flush().await.is_err() {
            return Flow::Close;
        }
        let mut c = Collector::spooled_in(self.cfg.max_message_size, self.cfg.spool_dir.clone());
        loop {
            // A line of up to MAX_LINE bytes is kept; longer ones are read through and dropped.
            match timeout(self.cfg.data_timeout, io.read_line(data::MAX_LINE)).await {
                Err(_) => {
                    let r = Reply::new(421, "4.4.2", "Timeout during DATA, closing");
                    self.reply(io, r);
                    return Flow::Close;
                }
                Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Flow::Close,
                Ok(Ok(Line::TooLong { crlf })) => c.data_line_too_long(crlf),
                Ok(Ok(Line::Complete(l))) => {
                    if c.data_line(&l) {
                        break;
                    }
                }
            }
        }
        self.note("C: (message content)".into());
        let r = self.finish(c.finish()).await;
        self.reply(io, r);
        Flow::Continue
    }

    #[instrument(skip(self, io))]
    async fn bdat(&mut self, b: super::bdat::Bdat, io: &mut LineIo) -> Flow {
        let max = self.cfg.max_message_size;
        let spool = &self.cfg.spool_dir;
        let collector = match &mut self.state {
            State::Mail(_, tx) if tx.has_recipients() => Some(
                tx.bdat
                    .get_or_insert_with(|| Collector::spooled_in(max, spool.clone())),
            ),
            _ => None,
        };
        // RFC 3030 §2: the chunk is read whatever the reply will be.
        let read = match collector {
            Some(c) => {
                timeout(
                    self.cfg.data_timeout,
                    io.read_chunk(b.size, |bytes| c.chunk(bytes)),
                )
                .await
            }
            None => timeout(self.cfg.data_timeout, io.read_chunk(b.size, |_| {})).await,
        };
        match read {
            Err(_) => {
                let r = Reply::new(421, "4.4.2", "Timeout during BDAT, closing");
                self.reply(io, r);
                return Flow::Close;
            }
            Ok(Err(_)) | Ok(Ok(false)) => return Flow::Close,
            Ok(Ok(true)) => {}
        }
        self.note(format!("C: ({} octets)", b.size));
        let r = match &mut self.state {
            State::Mail(_, tx) if !tx.has_recipients() => {
                Reply::new(554, "5.5.1", "No valid recipients")
            }
            State::Mail(_, tx) => {
                if b.last {
                    let c = tx.bdat.take().unwrap_or_else(|| Collector::new(max));
                    self.finish(c.finish()).await
                } else {
                    Reply::new(250, "2.0.0", format!("{} octets received", b.size))
                }
            }
            _ => Reply::new(503, "5.5.1", "MAIL and RCPT first"),
        };
        self.reply(io, r);
        Flow::Continue
    }

    /// Ends the transaction with its content: delivery, the log record, the reply.
    async fn finish(&mut self, content: data::Collected) -> Reply {
        let State::Mail(helo, tx) = std::mem::replace(&mut self.state, State::Start) else {
            return Reply::new(503, "5.5.1", "No transaction");
        };
        self.state = State::Ready(helo.clone());
        let reply = tx.finish(self, &helo, content).await;
        info!(code = reply.code, "transaction done");
        reply
    }

    /// Writes the record of a transaction that ends without content (RSET, QUIT, a new EHLO,
    /// a dropped connection), if it got as far as a recipient.
    async fn abandon(&mut self) {
        // Outside a transaction the state (and its EHLO) stays as it is.
        if !matches!(self.state, State::Mail(..)) {
            return;
        }
        if let State::Mail(h, tx) = std::mem::replace(&mut self.state, State::Start) {
            self.state = State::Ready(h.clone());
            tx.abandon(self, &h).await;
        }
    }

    // Never the credentials in the span: only the mechanism.
    #[instrument(skip_all, fields(mechanism = ?a.mechanism))]
    async fn auth(&mut self, a: AuthStart, io: &mut LineIo) -> Flow {
        let refusal = if !self.service.is_submission() {
            Some(Reply::new(503, "5.5.1", "AUTH not available on this port"))
        } else if !self.tls {
            // RFC 3207 §4 / RFC 4954 §4: no plaintext credentials.
            Some(Reply::new(
                530,
                "5.7.0",
                "Must issue a STARTTLS command first",
            ))
        } else if self.user.is_some() {
            Some(Reply::new(503, "5.5.1", "Already authenticated"))
        } else if !matches!(self.state, State::Ready(_)) {
            Some(Reply::new(
                503,
                "5.5.1",
                "AUTH needs EHLO and no transaction",
            ))
        } else {
            None
        };
        if let Some(r) = refusal {
            self.reply(io, r);
            return Flow::Continue;
        }
        let Some(mech) = a.mechanism else {
            self.reply(io, Reply::new(504, "5.5.4", "Mechanism not supported"));
            return Flow::Continue;
        };
        let creds = match mech {
            Mechanism::Plain => {
                let resp = match a.initial {
                    Some(i) => Some(i),
                    None => match self.challenge(io, "").await {
                        Ok(r) => r,
                        Err(flow) => return flow,
                    },
                };
                resp.map(|r| sasl::plain(r.as_bytes()))
            }
            Mechanism::Login => {
                let user = match a.initial {
                    Some(i) => Some(i),
                    None => match self.challenge(io, sasl::LOGIN_USER).await {
                        Ok(r) => r,
                        Err(flow) => return flow,
                    },
                };
                match user {
                    None => None,
                    Some(u) => match self.challenge(io, sasl::LOGIN_PASS).await {
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
                self.reply(io, Reply::new(501, "5.0.0", "Authentication cancelled"));
                return Flow::Continue;
            }
            Some(Err(_)) => {
                self.reply(io, Reply::new(501, "5.5.2", "Cannot decode the response"));
                return Flow::Continue;
            }
        };
        let remote = self.peer.ip().to_string();
        let attempt = Attempt {
            protocol: "smtp",
            login: &login,
            remote: &remote,
            mechanism: mech.name(),
        };
        let ip = self.peer.ip();
        // Core::sign_in applies the shared throttle: it waits out the delay of recent
        // failures, refuses a banned address, and answers a failure only after its delay.
        let user = match self.core.sign_in(attempt, &password).await {
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
                self.user = Some(u);
                self.reply(io, Reply::new(235, "2.7.0", "Authentication successful"));
                Flow::Continue
            }
            Err(CoreError::SignInRefused { .. }) => {
                let r = Reply::new(421, "4.7.0", "Too many authentication failures, try later");
                self.reply(io, r);
                Flow::Close
            }
            Err(CoreError::AuthFailed) => {
                // The same reply whatever was wrong (no user enumeration).
                let r = Reply::new(535, "5.7.8", "Authentication credentials invalid");
                self.reply(io, r);
                if matches!(self.core.sign_in_ban(ip).await, Ok(Some(_))) {
                    let r = Reply::new(421, "4.7.0", "Too many authentication failures, try later");
                    self.reply(io, r);
                    return Flow::Close;
                }
                Flow::Continue
            }
            Err(e) => {
                tracing::warn!(error = %e, "AUTH could not complete");
                // RFC 4954 §6: a temporary failure of the server, not of the credentials.
                self.reply(
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
    async fn challenge(&mut self, io: &mut LineIo, prompt: &str) -> Result<Option<String>, Flow> {
        self.reply(io, Reply::plain(334, vec![prompt.to_string()]));
        io.flush().await.map_err(|_| Flow::Close)?;
        let read = timeout(
            self.cfg.command_timeout,
            io.read_line(self.cfg.max_command_line),
        )
        .await;
        let line = match read {
            Err(_) => {
                let r = Reply::new(
                    421,
                    "4.4.2",
                    format!("{} timeout, closing", self.cfg.hostname),
                );
                self.reply(io, r);
                return Err(Flow::Close);
            }
            Ok(Err(_)) | Ok(Ok(Line::Eof)) => return Err(Flow::Close),
            Ok(Ok(Line::TooLong { .. })) => return Ok(None),
            Ok(Ok(Line::Complete(l))) => l,
        };
        self.note("C: ****".into());
        let Ok(s) = String::from_utf8(strip_eol(&line).to_vec()) else {
            return Ok(None);
        };
        Ok((s != "*").then_some(s))
    }
}

fn parse_error_reply(e: ParseError) -> Reply {
    match e {
        ParseError::Unknown => Reply::new(500, "5.5.1", "Command unrecognized"),
        ParseError::Syntax(why) => Reply::new(501, "5.5.4", format!("Syntax error: {why}")),
        ParseError::UnknownParameter(why) => Reply::new(555, "5.5.4", why),
        ParseError::BadBytes => Reply::new(500, "5.5.2", "Invalid characters in command"),
    }
}

//! One IMAP connection: the greeting, reading whole commands with their literals (refusing an
//! oversized literal before reading or reserving anything), dispatch by state, the tagged
//! answer and the untagged updates that follow it.

use std::io;
use std::sync::Arc;

use marque_session::lines::{self, Codec, LineIo};
use marque_session::{Connection, Held};
use tracing::{Instrument, debug, info_span, warn};

use super::Context;
use super::cmd;
use super::compress::Deflate;
use super::limits::{self, CommandRate};
use super::parse::command::{self, Op};
use super::parse::frame::{self, MAX_LINE};
use super::parse::search::Key;
use super::state::State;
use super::view;
use super::{keywords, recent};

/// How a command ended: the tagged status and its text (which may start with a response code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(String),
    No(String),
    Bad(String),
    /// The command wrote its own tagged answer (STARTTLS must, before the handshake).
    Sent,
}

/// Capabilities of the protocol, besides the ones that depend on the state.
const CAPABILITIES: &str = "IMAP4rev1 IMAP4rev2 BINARY LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE \
     UNSELECT CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE \
     QRESYNC ESEARCH SEARCHRES STATUS=SIZE QUOTA QUOTA=RES-STORAGE COMPRESS=DEFLATE SORT \
     THREAD=ORDEREDSUBJECT THREAD=REFERENCES";

/// The socket and its buffers: the shared line reader ([`marque_session::lines`]) under the
/// answers the commands write.
#[derive(Debug)]
pub struct Io {
    lines: Option<LineIo>,
    /// Answers waiting to be written.
    pub out: Vec<u8>,
}

/// One line read from the client.
#[derive(Debug)]
pub enum Line {
    /// The line without its CRLF (or bare LF).
    Data(Vec<u8>),
    /// Longer than [`MAX_LINE`]: discarded up to its end.
    TooLong,
    Eof,
}

/// The limit of the shared reader: [`MAX_LINE`] and a CRLF.
const LINE_LIMIT: usize = MAX_LINE + 2;

/// COMPRESS=DEFLATE (RFC 4978) on both directions of the line reader.
impl Codec for Deflate {
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>> {
        self.compress(data)
    }
    fn push(&mut self, data: &[u8]) {
        Deflate::push(self, data);
    }
    fn has_pending(&self) -> bool {
        Deflate::has_pending(self)
    }
    fn decode(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        self.inflate(out)
    }
}

impl Io {
    fn new(conn: Connection) -> Self {
        Io {
            lines: Some(LineIo::new(conn)),
            out: Vec::new(),
        }
    }

    fn lines(&mut self) -> io::Result<&mut LineIo> {
        self.lines
            .as_mut()
            .ok_or_else(|| io::Error::other("connection gone"))
    }

    /// The server's shutdown signal.
    pub fn shutdown_signal(&mut self) -> io::Result<marque_session::ShutdownSignal> {
        Ok(self.lines()?.shutdown_signal())
    }

    /// Writes what is buffered.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let lines = self
            .lines
            .as_mut()
            .ok_or_else(|| io::Error::other("connection gone"))?;
        lines.queue_all(&mut self.out);
        lines.flush().await?;
        // Keep a small buffer between commands (bounded memory per idle connection).
        self.out.shrink_to(16 * 1024);
        Ok(())
    }

    /// Gives back the buffers' memory while the session waits for a long time (IDLE): an idle
    /// connection then costs its socket and its state, not its last answer.
    pub fn shrink(&mut self) {
        if self.out.is_empty() {
            self.out = Vec::new();
        }
        if let Some(lines) = self.lines.as_mut() {
            lines.shrink();
        }
    }

    /// Appends one line (CRLF added).
    pub fn line(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Reads more bytes into the read buffer; 0 at end of stream. Cancel-safe.
    pub async fn fill(&mut self) -> io::Result<usize> {
        self.lines()?.fill().await
    }

    /// The next complete line in the read buffer, if there is one, without its line end; a
    /// line longer than [`MAX_LINE`] comes back empty.
    pub fn take_line(&mut self) -> Option<Vec<u8>> {
        match self.lines.as_mut()?.take_line(LINE_LIMIT)? {
            lines::Line::Complete(l) => Some(without_eol(l)),
            lines::Line::TooLong { .. } | lines::Line::Eof => Some(Vec::new()),
        }
    }

    /// Reads one line, at most [`MAX_LINE`] long.
    pub async fn read_line(&mut self) -> io::Result<Line> {
        Ok(match self.lines()?.read_line(LINE_LIMIT).await? {
            lines::Line::Complete(l) => {
                let l = without_eol(l);
                // A bare LF leaves room for one byte more than CRLF does.
                if l.len() > MAX_LINE {
                    Line::TooLong
                } else {
                    Line::Data(l)
                }
            }
            lines::Line::TooLong { .. } => Line::TooLong,
            lines::Line::Eof => Line::Eof,
        })
    }

    /// Reads a literal of `need` bytes onto `buf`; false if the client closed first.
    async fn read_exact_into(&mut self, buf: &mut Vec<u8>, need: usize) -> io::Result<bool> {
        self.lines()?
            .read_exact(need as u64, |piece| buf.extend_from_slice(piece))
            .await
    }
}

/// `line` without its LF or CRLF.
fn without_eol(mut line: Vec<u8>) -> Vec<u8> {
    let n = lines::strip_eol(&line).len();
    line.truncate(n);
    line
}

/// What reading a command gave.
enum Read {
    /// A whole command, and the input budget its APPEND literals hold until it is done.
    Command(Vec<u8>, Vec<Held>),
    /// Already answered (too long, literal refused); go on with the next command.
    Refused,
    /// Answered and the connection must close (a refused non-synchronising literal).
    Close,
    Eof,
}

/// One session.
#[derive(Debug)]
pub struct Session {
    pub ctx: Arc<Context>,
    pub io: Io,
    pub state: State,
    /// RFC 7162 §3.1: CONDSTORE was enabled (by ENABLE or a CONDSTORE-aware command).
    pub condstore: bool,
    /// RFC 7162 §3.2.3: QRESYNC was enabled (expunges are reported as VANISHED).
    pub qresync: bool,
    /// RFC 9051: `ENABLE IMAP4rev2` was given (UTF-8 names, ESEARCH, no `\\Recent`).
    pub rev2: bool,
    /// The client's IP address, for the authentication log.
    pub remote: String,
    pub tls: bool,
    pub can_starttls: bool,
    /// The client may send a password before TLS (loopback, or a network the operator
    /// allows: `[signin] cleartext_networks`).
    pub cleartext_ok: bool,
}

/// Serves one connection to the end; its logs go in the connection's span
/// (`session{id, service, remote}`).
pub async fn run(ctx: Arc<Context>, conn: Connection) {
    let mut s = Session {
        remote: conn.peer().ip().to_string(),
        tls: conn.is_tls(),
        can_starttls: conn.can_starttls(),
        cleartext_ok: ctx.core.cleartext_sign_in(conn.peer().ip()),
        ctx,
        io: Io::new(conn),
        state: State::NotAuthenticated { failures: 0 },
        condstore: false,
        qresync: false,
        rev2: false,
    };
    if let Err(e) = s.serve().await {
        debug!(error = %e, "connection ended");
    }
}

impl Session {
    /// Whether a password may be sent now: over TLS, or from a client allowed to sign in in
    /// clear (RFC 9051 §6.2.3, RFC 8314 §3).
    pub fn may_send_password(&self) -> bool {
        self.tls || self.cleartext_ok
    }

    /// The capability list for the current state.
    pub fn capabilities(&self) -> String {
        let mut c = CAPABILITIES.to_string();
        c.push_str(&format!(" APPENDLIMIT={}", frame::MAX_APPEND));
        c.push_str(super::cmd::EXTENSIONS);
        if matches!(self.state, State::NotAuthenticated { .. }) {
            if self.can_starttls {
                c.push_str(" STARTTLS");
            }
            if self.may_send_password() {
                c.push_str(" AUTH=PLAIN");
            } else {
                // RFC 9051 §6.2.3 and §7.2.2 (RFC 3501 §6.2.3, §7.2.1): LOGIN is disabled and
                // no AUTH= mechanism is offered until STARTTLS.
                c.push_str(" LOGINDISABLED");
            }
        }
        c
    }

    async fn serve(&mut self) -> io::Result<()> {
        let mut shutdown = self.io.shutdown_signal()?;
        // RFC 3501 §7.1.1: the greeting, with the capabilities (RFC 3501 §7.2.1 allows the code).
        // The name the client asked for by SNI, when the platform serves it (white label).
        let conn = self.io.lines()?.stream();
        let host = conn.server_name().unwrap_or(&self.ctx.hostname).to_string();
        let greeting = format!(
            "* OK [CAPABILITY {}] {host} IMAP4rev1 ready",
            self.capabilities(),
        );
        self.io.line(&greeting);
        self.io.flush().await?;
        let mut rate = CommandRate::new(
            tokio::time::Instant::now(),
            self.ctx.commands_per_second,
            self.ctx.command_burst,
        );
        loop {
            let wait = rate.take(tokio::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let idle_limit = if self.state.user().is_some() {
                limits::AUTOLOGOUT
            } else {
                limits::LOGIN_TIMEOUT
            };
            let read = tokio::select! {
                r = self.read_command() => r?,
                _ = tokio::time::sleep(idle_limit) => {
                    // RFC 3501 §5.4: the autologout timer.
                    self.io.line("* BYE autologout; idle for too long");
                    self.io.flush().await?;
                    return Ok(());
                }
                _ = shutdown.wait() => {
                    self.io.line("* BYE [UNAVAILABLE] server shutting down");
                    self.io.flush().await?;
                    return Ok(());
                }
            };
            let (buf, _held) = match read {
                Read::Command(buf, held) => (buf, held),
                Read::Refused => {
                    self.io.flush().await?;
                    continue;
                }
                Read::Close => {
                    self.io.line("* BYE closing after a refused literal");
                    self.io.flush().await?;
                    return Ok(());
                }
                Read::Eof => return Ok(()),
            };
            match command::parse_with(&buf, self.rev2) {
                Err((tag, e)) => {
                    let tag = tag.unwrap_or_else(|| "*".into());
                    // RFC 5182 §2.1: a SEARCH with SAVE that fails empties the saved result.
                    if let State::Selected { view, .. } = &mut self.state
                        && super::parse::search::saves(&buf)
                    {
                        view.saved.clear();
                    }
                    self.io.line(&format!("{tag} BAD {e}"));
                }
                Ok(cmd) => {
                    let name = cmd.op.name();
                    let outcome = self
                        .execute(&cmd.tag, cmd.op, &buf)
                        .instrument(info_span!("command", name))
                        .await?;
                    let (status, text) = match outcome {
                        Outcome::Ok(t) => ("OK", t),
                        Outcome::No(t) => ("NO", t),
                        Outcome::Bad(t) => ("BAD", t),
                        Outcome::Sent => {
                            self.io.flush().await?;
                            continue;
                        }
                    };
                    if matches!(self.state, State::Logout) {
                        self.io.line("* BYE logging out");
                        self.io.line(&format!("{} {status} {text}", cmd.tag));
                        self.io.flush().await?;
                        self.io.lines()?.close().await;
                        return Ok(());
                    }
                    self.io.line(&format!("{} {status} {text}", cmd.tag));
                }
            }
            self.io.flush().await?;
        }
    }

    /// Reads one whole command: its line and, for each literal it announces, the literal and
    /// the line after it.
    async fn read_command(&mut self) -> io::Result<Read> {
        let mut buf = match self.io.read_line().await? {
            Line::Data(l) => l,
            Line::TooLong => {
                self.io.line("* BAD line too long");
                return Ok(Read::Refused);
            }
            Line::Eof => return Ok(Read::Eof),
        };
        let limit = frame::literal_limit(&buf);
        let mut last_start = 0;
        let mut held = Vec::new();
        loop {
            let (len, non_sync) = match frame::next(&buf, last_start, limit) {
                frame::Next::Complete => return Ok(Read::Command(buf, held)),
                frame::Next::Literal { len, non_sync } => (len, non_sync),
                frame::Next::TooLarge { non_sync, append } => {
                    let tag = frame::tag_of(&buf);
                    // RFC 7888 §4 and RFC 9051 §7.1: refuse before reading (or reserving) the data.
                    if non_sync {
                        self.io.line(&format!("{tag} BAD literal too large"));
                        return Ok(Read::Close);
                    }
                    if append {
                        self.io.line(&format!(
                            "{tag} NO [TOOBIG] message larger than APPENDLIMIT"
                        ));
                    } else {
                        self.io.line(&format!("{tag} BAD literal too large"));
                    }
                    return Ok(Read::Refused);
                }
            };
            // A message for APPEND takes its size from the process-wide input budget before
            // it is read; with no room, the client is told to come back later (RFC 5530 LIMIT).
            if limit == frame::MAX_APPEND {
                match self.ctx.input_budget.reserve(len as u64).await {
                    Some(h) => held.push(h),
                    None => {
                        let tag = frame::tag_of(&buf);
                        warn!(size = len, "input memory budget spent: APPEND refused");
                        self.io
                            .line(&format!("{tag} NO [LIMIT] server busy, try again later"));
                        // A non-synchronising literal is already on its way: it cannot be
                        // skipped, so the connection closes (as for one over the limit).
                        return Ok(if non_sync { Read::Close } else { Read::Refused });
                    }
                }
                // The literal and the line after it, without doubling the buffer on the way.
                buf.reserve_exact(len + 2 + MAX_LINE);
            }
            if !non_sync {
                self.io.line("+ Ready for literal data");
                self.io.flush().await?;
            }
            buf.extend_from_slice(b"\r\n");
            if !self.io.read_exact_into(&mut buf, len).await? {
                return Ok(Read::Eof);
            }
            last_start = buf.len();
            match self.io.read_line().await? {
                Line::Data(l) => buf.extend_from_slice(&l),
                Line::TooLong => {
                    self.io
                        .line(&format!("{} BAD line too long", frame::tag_of(&buf)));
                    return Ok(Read::Refused);
                }
                Line::Eof => return Ok(Read::Eof),
            }
        }
    }

    /// Runs a parsed command in the current state, then sends the updates the state allows.
    async fn execute(&mut self, tag: &str, mut op: Op, buf: &[u8]) -> io::Result<Outcome> {
        // RFC 3501 §7.4.1: no EXPUNGE during FETCH, STORE or SEARCH (or SORT and THREAD, RFC 5256)
        // by message number.
        let allow_expunge = !matches!(
            op,
            Op::Fetch { uid: false, .. }
                | Op::Store { uid: false, .. }
                | Op::Search { uid: false, .. }
                | Op::Sort { uid: false, .. }
                | Op::Thread { uid: false, .. }
        );
        let mut force_sync = matches!(op, Op::Noop | Op::Check | Op::Idle);
        let was_selected = matches!(self.state, State::Selected { .. });
        let condstore_before = self.condstore;
        let leaves = matches!(
            op,
            Op::Select { .. } | Op::Close | Op::Unselect | Op::Logout
        );
        if let State::Selected { user, view } = &mut self.state
            && !leaves
        {
            // RFC 3501 §6.4.4: RECENT, NEW and OLD depend on the session.
            if let Op::Search {
                search: crate::imap::parse::search::Search { key, .. },
                ..
            }
            | Op::Sort { key, .. }
            | Op::Thread { key, .. } = &mut op
                && recent::uses_recent(key)
            {
                *key = view.recent.resolve(std::mem::replace(key, Key::All));
            }
            // RFC 3501 §7.2.6: a keyword that another session or a delivery gave a message is
            // announced before this command's answers can show it.
            if view::pending(user, view.id) {
                force_sync = true;
                let (account, id) = (user.account, view.id);
                match self
                    .ctx
                    .core
                    .store()
                    .read(move |st| marque_store::mail::keywords(st, account, id))
                    .await
                {
                    Ok(k) => {
                        keywords::announce_new(
                            &mut self.io.out,
                            &mut view.keywords,
                            &k.unwrap_or_default(),
                            view.read_only,
                        );
                    }
                    Err(e) => debug!(error = %e, "reading the folder's keywords failed"),
                }
            }
        }
        let is_select = matches!(op, Op::Select { .. });
        let outcome = cmd::dispatch(self, tag, op, buf).await?;
        // RFC 7162 §3.1: the first CONDSTORE-enabling command while a mailbox is selected
        // gets the mailbox's HIGHESTMODSEQ (after the updates that bring the session to it).
        let announce_modseq = was_selected && !is_select && !condstore_before && self.condstore;
        let condstore = self.condstore;
        let qresync = self.qresync;
        if let State::Selected { user, view } = &mut self.state {
            if (view::pending(user, view.id) || force_sync || announce_modseq)
                && let Err(e) = view::sync(
                    self.ctx.core.store(),
                    &mut self.io.out,
                    user,
                    view,
                    allow_expunge,
                    condstore,
                    qresync,
                )
                .await
            {
                debug!(error = %e, "mailbox update failed");
            }
            if announce_modseq {
                self.io
                    .line(&format!("* OK [HIGHESTMODSEQ {}] highest", view.modseq));
            }
        }
        Ok(outcome)
    }

    /// Starts COMPRESS=DEFLATE (RFC 4978 §3), after the tagged OK was written uncompressed.
    pub async fn compress(&mut self) -> io::Result<()> {
        self.io.flush().await?;
        // Anything already read arrived after the OK: it is compressed.
        self.io.lines()?.set_codec(Box::new(Deflate::default()));
        Ok(())
    }

    /// True once COMPRESS is active.
    pub fn compressing(&self) -> bool {
        self.io.lines.as_ref().is_some_and(LineIo::has_codec)
    }

    /// Upgrades the connection to TLS (STARTTLS), after the tagged OK was written.
    pub async fn starttls(&mut self) -> io::Result<()> {
        self.io.flush().await?;
        // Anything pipelined after STARTTLS was sent in clear: the reader drops it (RFC 9051
        // §6.2.1).
        let lines = self
            .io
            .lines
            .take()
            .ok_or_else(|| io::Error::other("connection gone"))?;
        self.io.lines = Some(lines.starttls().await?);
        self.tls = true;
        self.can_starttls = false;
        Ok(())
    }
}

//! The one bounded line reader of every line protocol (SMTP, IMAP, POP3, ManageSieve), and
//! the queue of what the session answers.
//!
//! Input is cut on LF (a CR before it stays part of the line, so a protocol can tell CRLF from
//! a bare LF). A line is never held past its limit: an overlong line is read to its end and
//! dropped, and reported as [`Line::TooLong`] with whether it ended in CRLF. Bytes that belong
//! to no line (IMAP and ManageSieve literals, SMTP BDAT chunks) are counted out with
//! [`LineIo::read_exact`] and handed to a sink piece by piece, never gathered here.
//!
//! Answers are queued and sent by [`LineIo::flush`]; a session flushes when no pipelined input
//! waits ([`LineIo::pending`], [`LineIo::has_line`]), so that a pipelining client gets its
//! answers in one write (RFC 2920 §3.2, RFC 2449 §6.6, RFC 9051 §5.5).
//!
//! [`LineBuffer`] is the part without I/O (it is unit-tested and fuzzed with bytes alone);
//! [`LineIo`] puts it over a stream, with cancel-safe reads (a timeout may drop any read
//! future and lose nothing but the wait), timed reads that also wake on shutdown, timed
//! writes, STARTTLS, and an optional [`Codec`] on both directions (IMAP COMPRESS).

use std::fmt;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::conn::Connection;
use super::shutdown::ShutdownSignal;

/// Room made in the buffer for one read.
pub const READ_CHUNK: usize = 8192;
/// Room for one read after [`LineIo::shrink`] gave the buffer back (what ends an IMAP IDLE).
const READ_IDLE: usize = 256;
/// Buffers above this size are given back once they are empty again.
const KEEP: usize = 64 * 1024;
/// What an emptied buffer keeps.
const KEPT: usize = 16 * 1024;

/// One line as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The line with its terminator (LF, usually CRLF).
    Complete(Vec<u8>),
    /// Longer than its limit: read to its end and dropped. `crlf` tells whether it ended in
    /// CRLF.
    TooLong { crlf: bool },
    /// The client closed the connection; a partial line is dropped.
    Eof,
}

/// The line without its LF or CRLF.
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What a timed read got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timed<T> {
    /// The read finished.
    Ready(T),
    /// Nothing finished within the idle time (the session says goodbye and closes).
    Idle,
    /// The server is shutting down (the session says goodbye and closes).
    Shutdown,
}

/// The client's input, cut into bounded lines; no I/O.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buf: Vec<u8>,
    /// Where unread input starts in `buf`.
    start: usize,
    /// Unread bytes already known to hold no LF.
    seen: usize,
    /// Inside an overlong line: its bytes are dropped up to the next LF. Holds the last byte
    /// dropped (a CR there and an LF first in the next read make a CRLF).
    discarding: Option<u8>,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unread bytes.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// True if unread input is waiting (a partial line counts).
    pub fn pending(&self) -> bool {
        self.start < self.buf.len()
    }

    /// True if a whole line is waiting (an overlong one counts: its end has arrived).
    pub fn has_line(&self) -> bool {
        self.buffered()[self.seen..].contains(&b'\n')
    }

    /// Marks `n` unread bytes as used (a protocol that frames its own input).
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        self.seen = 0;
    }

    /// Adds bytes as they arrived, and drops an overlong partial line at once, so that what is
    /// held without a complete line never passes `max`.
    pub fn push(&mut self, data: &[u8], max: usize) {
        self.compact();
        self.buf.extend_from_slice(data);
        self.bound(max);
    }

    /// Forgets everything buffered (after STARTTLS, RFC 3207 §4.2: nothing sent before the
    /// TLS handshake may be read after it).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.seen = 0;
        self.discarding = None;
    }

    /// Drops the used bytes from the front, and gives back a large buffer once it is empty.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > KEEP {
            self.buf.shrink_to(KEPT);
        }
    }

    /// Without a whole line waiting: starts (or goes on) dropping a partial line past `max`.
    fn bound(&mut self, max: usize) {
        if self.has_line() {
            return;
        }
        let avail = self.buffered();
        if self.discarding.is_some() || avail.len() > max {
            if let Some(&last) = avail.last() {
                self.discarding = Some(last);
            }
            self.buf.clear();
            self.start = 0;
            self.seen = 0;
        } else {
            self.seen = avail.len();
        }
    }

    /// The next line of at most `max` bytes (terminator included), if its end has arrived.
    /// Never [`Line::Eof`].
    pub fn take_line(&mut self, max: usize) -> Option<Line> {
        let avail = &self.buf[self.start..];
        let Some(pos) = avail[self.seen..].iter().position(|&b| b == b'\n') else {
            self.bound(max);
            return None;
        };
        let end = self.seen + pos + 1;
        let line = &avail[..end];
        let crlf = if end >= 2 {
            line[end - 2] == b'\r'
        } else {
            self.discarding == Some(b'\r')
        };
        let dropped = self.discarding.take().is_some();
        let out = if dropped || line.len() > max {
            Line::TooLong { crlf }
        } else {
            Line::Complete(line.to_vec())
        };
        self.start += end;
        self.seen = 0;
        Some(out)
    }

    /// Hands up to `n` unread bytes to `sink`; returns how many it took.
    pub fn take_exact(&mut self, n: u64, sink: &mut impl FnMut(&[u8])) -> usize {
        let avail = self.buffered();
        let take = usize::try_from(n).unwrap_or(usize::MAX).min(avail.len());
        if take > 0 {
            sink(&avail[..take]);
            self.start += take;
            self.seen = 0;
        }
        take
    }

    /// Makes room for one read at the end of the buffer.
    fn room(&mut self) -> &mut Vec<u8> {
        self.compact();
        let room = if self.buf.capacity() == 0 {
            READ_IDLE
        } else {
            READ_CHUNK
        };
        self.buf.reserve(room);
        &mut self.buf
    }

    /// Takes everything unread out (to hand it to a [`Codec`] that starts now).
    fn take_all(&mut self) -> Vec<u8> {
        let rest = self.buffered().to_vec();
        self.clear();
        rest
    }

    /// Gives back the memory of an empty buffer.
    fn shrink(&mut self) {
        self.compact();
        self.buf.shrink_to_fit();
    }
}

/// A transform of both directions that a session switches on part way (IMAP
/// COMPRESS=DEFLATE, RFC 4978).
pub trait Codec: Send + Sync + fmt::Debug {
    /// Transforms queued output before it is written.
    fn encode(&mut self, data: &[u8]) -> io::Result<Vec<u8>>;
    /// Keeps bytes as they arrived, for [`Codec::decode`].
    fn push(&mut self, data: &[u8]);
    /// True if bytes given to [`Codec::push`] may still decode to more input.
    fn has_pending(&self) -> bool;
    /// Decodes a bounded step of pending input onto `out`; returns how many bytes it added.
    fn decode(&mut self, out: &mut Vec<u8>) -> io::Result<usize>;
}

/// A session's side of its connection: bounded lines in, queued answers out.
#[derive(Debug)]
pub struct LineIo<S = Connection> {
    stream: S,
    input: LineBuffer,
    out: Vec<u8>,
    shutdown: ShutdownSignal,
    codec: Option<Box<dyn Codec>>,
}

impl LineIo<Connection> {
    /// Line I/O over an accepted connection, woken by its shutdown signal.
    pub fn new(conn: Connection) -> Self {
        let shutdown = conn.shutdown_signal();
        LineIo::over(conn, shutdown)
    }

    /// Upgrades to TLS (STARTTLS, [`Connection::starttls`]): sends what is queued, then drops
    /// everything read in clear and not used yet (RFC 3207 §4.2, RFC 2595 §4, RFC 9051
    /// §6.2.1, RFC 5804 §2.2), then gives the client the listener's handshake timeout.
    pub async fn starttls(mut self) -> io::Result<Self> {
        self.flush().await?;
        let LineIo {
            stream,
            shutdown,
            out,
            ..
        } = self;
        Ok(LineIo {
            stream: stream.starttls().await?,
            input: LineBuffer::new(),
            out,
            shutdown,
            codec: None,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> LineIo<S> {
    /// Line I/O over any stream, with the shutdown signal its timed reads wake on.
    pub fn over(stream: S, shutdown: ShutdownSignal) -> Self {
        LineIo {
            stream,
            input: LineBuffer::new(),
            out: Vec::new(),
            shutdown,
            codec: None,
        }
    }

    /// The stream.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The shutdown signal of the session.
    pub fn shutdown_signal(&self) -> ShutdownSignal {
        self.shutdown.clone()
    }

    /// True if unread input is buffered: the client pipelined more.
    pub fn pending(&self) -> bool {
        self.input.pending()
    }

    /// True if a whole line is buffered.
    pub fn has_line(&self) -> bool {
        self.input.has_line()
    }

    /// Unread input, for a protocol that frames it itself (ManageSieve).
    pub fn buffered(&self) -> &[u8] {
        self.input.buffered()
    }

    /// Marks `n` bytes of [`LineIo::buffered`] as used.
    pub fn consume(&mut self, n: usize) {
        self.input.consume(n);
    }

    /// Reads once more into the buffer; 0 at end of stream. Cancel-safe: only bytes actually
    /// read are added, so a timeout may drop this future.
    pub async fn fill(&mut self) -> io::Result<usize> {
        let Some(codec) = self.codec.as_mut() else {
            return self.stream.read_buf(self.input.room()).await;
        };
        let mut chunk = Vec::new();
        loop {
            if codec.has_pending() {
                let n = codec.decode(self.input.room())?;
                if n > 0 {
                    return Ok(n);
                }
            }
            chunk.clear();
            chunk.reserve(READ_CHUNK);
            if self.stream.read_buf(&mut chunk).await? == 0 {
                return Ok(0);
            }
            codec.push(&chunk);
        }
    }

    /// The next buffered line of at most `max` bytes, without reading (see
    /// [`LineBuffer::take_line`]).
    pub fn take_line(&mut self, max: usize) -> Option<Line> {
        self.input.take_line(max)
    }

    /// Reads one line of at most `max` bytes, terminator included. Cancel-safe.
    pub async fn read_line(&mut self, max: usize) -> io::Result<Line> {
        loop {
            if let Some(line) = self.input.take_line(max) {
                return Ok(line);
            }
            if self.fill().await? == 0 {
                return Ok(Line::Eof);
            }
        }
    }

    /// [`LineIo::read_line`] for at most `idle`, and no longer than the server runs.
    pub async fn read_line_within(
        &mut self,
        max: usize,
        idle: Duration,
    ) -> io::Result<Timed<Line>> {
        let mut stop = self.shutdown.clone();
        tokio::select! {
            biased;
            _ = stop.wait() => Ok(Timed::Shutdown),
            read = tokio::time::timeout(idle, self.read_line(max)) => match read {
                Err(_) => Ok(Timed::Idle),
                Ok(line) => line.map(Timed::Ready),
            },
        }
    }

    /// [`LineIo::fill`] for at most `idle`, and no longer than the server runs.
    pub async fn fill_within(&mut self, idle: Duration) -> io::Result<Timed<usize>> {
        let mut stop = self.shutdown.clone();
        tokio::select! {
            biased;
            _ = stop.wait() => Ok(Timed::Shutdown),
            read = tokio::time::timeout(idle, self.fill()) => match read {
                Err(_) => Ok(Timed::Idle),
                Ok(n) => n.map(Timed::Ready),
            },
        }
    }

    /// Reads exactly `n` bytes that are not lines (a literal, a BDAT chunk), handing them to
    /// `sink` piece by piece as they arrive; false if the client closed first. A session that
    /// drops this future part way (a timeout) must close: the count is lost.
    pub async fn read_exact(
        &mut self,
        mut n: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<bool> {
        while n > 0 {
            if !self.input.pending() && self.fill().await? == 0 {
                return Ok(false);
            }
            n -= self.input.take_exact(n, &mut sink) as u64;
        }
        Ok(true)
    }

    /// Queues bytes to send.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Queues a whole buffer, leaving it empty (no copy when nothing else is queued).
    pub fn queue_all(&mut self, bytes: &mut Vec<u8>) {
        if self.out.is_empty() {
            std::mem::swap(&mut self.out, bytes);
        } else {
            self.out.append(bytes);
        }
    }

    /// Bytes queued and not sent yet.
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            match self.codec.as_mut() {
                Some(c) => {
                    let encoded = c.encode(&self.out)?;
                    self.stream.write_all(&encoded).await?;
                }
                None => self.stream.write_all(&self.out).await?,
            }
            self.out.clear();
            if self.out.capacity() > KEEP {
                self.out.shrink_to(KEPT);
            }
        }
        self.stream.flush().await
    }

    /// [`LineIo::flush`] within `limit`, so that a client that does not read its answers
    /// cannot hold the session; a timeout is an error of kind [`io::ErrorKind::TimedOut`].
    pub async fn flush_within(&mut self, limit: Duration) -> io::Result<()> {
        match tokio::time::timeout(limit, self.flush()).await {
            Ok(sent) => sent,
            Err(_) => {
                self.out.clear();
                Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out"))
            }
        }
    }

    /// Sends what is queued and closes the write side; errors are of no more use here.
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }

    /// Transforms both directions from now on (after the answer that announced it was sent):
    /// input already buffered arrived after that answer, so it goes through `codec` too.
    pub fn set_codec(&mut self, mut codec: Box<dyn Codec>) {
        codec.push(&self.input.take_all());
        self.codec = Some(codec);
    }

    /// True once a [`Codec`] is on.
    pub fn has_codec(&self) -> bool {
        self.codec.is_some()
    }

    /// Gives back the buffers' memory while the session waits a long time (IMAP IDLE): an idle
    /// connection then costs its socket and its state, not its last answer.
    pub fn shrink(&mut self) {
        if self.out.is_empty() {
            self.out = Vec::new();
        }
        self.input.shrink();
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;

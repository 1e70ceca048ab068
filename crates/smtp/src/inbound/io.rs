//! Bounded line I/O over a connection: lines are split on LF and never buffered past a limit
//! (an overlong line is read to its end and discarded), replies are queued and flushed when no
//! more pipelined input is waiting (RFC 2920 §3.2).

use std::io;

use marque_session::Connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const READ_CHUNK: usize = 8192;

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line with its terminator (LF, usually CRLF).
    Complete(Vec<u8>),
    /// Longer than allowed: read to its end and dropped. `crlf` tells whether it ended in CRLF.
    TooLong { crlf: bool },
    /// The client closed the connection (any partial line is dropped).
    Eof,
}

/// The session's side of the connection.
pub struct LineIo {
    conn: Connection,
    buf: Vec<u8>,
    start: usize,
    out: Vec<u8>,
}

impl LineIo {
    pub fn new(conn: Connection) -> Self {
        LineIo {
            conn,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            out: Vec::new(),
        }
    }

    /// True if input is buffered: the client pipelined more commands.
    pub fn pending(&self) -> bool {
        self.start < self.buf.len()
    }

    /// Reads once more from the connection into the buffer; 0 at end of stream. Cancel-safe:
    /// only bytes actually read are added (a timeout may drop this future).
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(READ_CHUNK);
        self.conn.read_buf(&mut self.buf).await
    }

    /// Reads one line of at most `max` bytes, terminator included.
    pub async fn read_line(&mut self, max: usize) -> io::Result<Line> {
        let mut scanned = 0;
        loop {
            let avail = &self.buf[self.start..];
            if let Some(pos) = avail[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + pos + 1;
                let line = avail[..end].to_vec();
                self.start += end;
                if line.len() > max {
                    let crlf = line.len() >= 2 && line[line.len() - 2] == b'\r';
                    return Ok(Line::TooLong { crlf });
                }
                return Ok(Line::Complete(line));
            }
            scanned = avail.len();
            if scanned > max {
                return self.discard_line().await;
            }
            if self.fill().await? == 0 {
                return Ok(Line::Eof);
            }
        }
    }

    /// Drops input up to and including the next LF.
    async fn discard_line(&mut self) -> io::Result<Line> {
        let mut last = self.buf.last().copied().unwrap_or(0);
        self.buf.clear();
        self.start = 0;
        loop {
            if self.fill().await? == 0 {
                return Ok(Line::Eof);
            }
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let crlf = if pos > 0 {
                    self.buf[pos - 1] == b'\r'
                } else {
                    last == b'\r'
                };
                self.start = pos + 1;
                return Ok(Line::TooLong { crlf });
            }
            last = self.buf.last().copied().unwrap_or(0);
            self.buf.clear();
        }
    }

    /// Reads exactly `n` bytes (a BDAT chunk), handing them to `sink` piece by piece; false if
    /// the client closed first.
    pub async fn read_chunk(
        &mut self,
        mut n: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<bool> {
        while n > 0 {
            if !self.pending() && self.fill().await? == 0 {
                return Ok(false);
            }
            let avail = (self.buf.len() - self.start) as u64;
            let take = avail.min(n) as usize;
            sink(&self.buf[self.start..self.start + take]);
            self.start += take;
            n -= take as u64;
        }
        Ok(true)
    }

    /// Queues bytes to send.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.conn.write_all(&self.out).await?;
            self.out.clear();
        }
        self.conn.flush().await
    }

    /// The connection back, dropping anything buffered from it (RFC 3207 §4.2: nothing the
    /// client sent before the TLS handshake may be used after it).
    pub fn into_conn(self) -> Connection {
        self.conn
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Closes the write side.
    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.conn.shutdown().await;
    }
}

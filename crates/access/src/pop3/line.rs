//! POP3's command lines, as the shared line reader ([`marque_session::lines`]) cuts them:
//! what a line is to POP3 (its text without CRLF, or too long), and [`LineReader`], the same
//! cutting over bytes alone, for property tests and fuzzing without a socket.
//!
//! RFC 2449 §4 allows commands of up to 255 octets; we accept up to [`MAX_LINE`] so that long
//! SASL initial responses fit, and answer a longer line with `-ERR` after skipping it, without
//! ever holding more than the limit.

use marque_session::lines::{self, LineBuffer};

/// The longest line accepted, CRLF included.
pub const MAX_LINE: usize = 1024;

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its CRLF (or bare LF).
    Complete(Vec<u8>),
    /// A line longer than the limit ended; its bytes were dropped.
    TooLong,
}

impl Line {
    /// POP3's view of a line of the shared reader; `None` at the end of the stream.
    pub fn from_read(line: lines::Line) -> Option<Line> {
        match line {
            lines::Line::Complete(mut l) => {
                let n = lines::strip_eol(&l).len();
                l.truncate(n);
                Some(Line::Complete(l))
            }
            lines::Line::TooLong { .. } => Some(Line::TooLong),
            lines::Line::Eof => None,
        }
    }
}

/// Accumulates bytes and cuts them into lines, as a session's reader does.
#[derive(Debug)]
pub struct LineReader {
    buf: LineBuffer,
    max: usize,
}

impl LineReader {
    /// A reader that accepts lines of at most `max` bytes, CRLF included.
    pub fn new(max: usize) -> Self {
        LineReader {
            buf: LineBuffer::new(),
            max,
        }
    }

    /// Adds bytes read from the client. The buffer stays bounded: an overlong partial line is
    /// dropped as soon as it passes the limit.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.push(data, self.max);
    }

    /// The next complete line, if one is buffered.
    pub fn next_line(&mut self) -> Option<Line> {
        self.buf.take_line(self.max).and_then(Line::from_read)
    }

    /// Bytes held.
    pub fn buffered(&self) -> usize {
        self.buf.buffered().len()
    }
}

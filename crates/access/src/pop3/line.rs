//! Command-line framing, apart from I/O: bytes in, complete lines out, with a bound on what a
//! line may cost in memory.
//!
//! RFC 2449 §4 allows commands of up to 255 octets; we accept up to [`MAX_LINE`] so that long
//! SASL initial responses fit, and answer a longer line with `-ERR` after skipping it, without
//! ever holding more than the limit.

/// The longest line accepted, CRLF included.
pub const MAX_LINE: usize = 1024;

/// What [`LineReader::next_line`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its CRLF (or bare LF).
    Complete(Vec<u8>),
    /// A line longer than the limit ended; its bytes were dropped.
    TooLong,
}

/// Accumulates what the client sends and cuts it into lines.
#[derive(Debug)]
pub struct LineReader {
    buf: Vec<u8>,
    max: usize,
    /// Inside an overlong line: drop everything up to the next LF.
    discarding: bool,
}

impl LineReader {
    /// A reader that accepts lines of at most `max` bytes, CRLF included.
    pub fn new(max: usize) -> Self {
        LineReader {
            buf: Vec::new(),
            max,
            discarding: false,
        }
    }

    /// Adds bytes read from the client. The buffer stays bounded: an overlong partial line is
    /// dropped as soon as it passes the limit.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.bound();
    }

    fn bound(&mut self) {
        if self.buf.contains(&b'\n') {
            return;
        }
        if self.discarding {
            self.buf.clear();
        } else if self.buf.len() > self.max {
            self.buf.clear();
            self.discarding = true;
        }
    }

    /// The next complete line, if one is buffered.
    pub fn next_line(&mut self) -> Option<Line> {
        let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
            self.bound();
            return None;
        };
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        let too_long = std::mem::take(&mut self.discarding) || line.len() > self.max;
        self.bound();
        if too_long {
            return Some(Line::TooLong);
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(Line::Complete(line))
    }

    /// Whether bytes are waiting (a partial line or further lines).
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty() || self.discarding
    }

    /// Forgets everything buffered (RFC 2595 §4: nothing sent before the TLS handshake may be
    /// read after it).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }

    /// Bytes held.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(s: &str) -> Option<Line> {
        Some(Line::Complete(s.as_bytes().to_vec()))
    }

    #[test]
    fn cuts_pipelined_commands_in_order() {
        let mut r = LineReader::new(MAX_LINE);
        r.push(b"STAT\r\nLIST 1\r\nUID");
        assert_eq!(r.next_line(), complete("STAT"));
        assert_eq!(r.next_line(), complete("LIST 1"));
        assert_eq!(r.next_line(), None);
        assert!(r.has_pending());
        r.push(b"L\nQUIT\r\n");
        assert_eq!(r.next_line(), complete("UIDL"));
        assert_eq!(r.next_line(), complete("QUIT"));
        assert_eq!(r.next_line(), None);
        assert!(!r.has_pending());
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_held() {
        let mut r = LineReader::new(16);
        r.push(&[b'A'; 10]);
        r.push(&[b'A'; 10]);
        assert_eq!(r.next_line(), None);
        assert!(r.buffered() <= 16);
        for _ in 0..1000 {
            r.push(&[b'B'; 100]);
            assert!(r.buffered() <= 100);
        }
        r.push(b"BB\r\nNOOP\r\n");
        assert_eq!(r.next_line(), Some(Line::TooLong));
        assert_eq!(r.next_line(), complete("NOOP"));
    }

    #[test]
    fn a_complete_line_over_the_limit_is_refused() {
        let mut r = LineReader::new(8);
        r.push(b"123456789\r\nSTAT\r\n");
        assert_eq!(r.next_line(), Some(Line::TooLong));
        assert_eq!(r.next_line(), complete("STAT"));
    }

    #[test]
    fn clear_drops_injected_bytes() {
        let mut r = LineReader::new(MAX_LINE);
        r.push(b"STLS\r\nUSER evil\r\n");
        assert_eq!(r.next_line(), complete("STLS"));
        r.clear();
        assert_eq!(r.next_line(), None);
    }
}

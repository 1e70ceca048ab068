//! The message content: DATA's dot-transparency and end-of-data (RFC 5321 §4.5.2, §4.1.1.4),
//! line length (§4.5.3.1.6) and the size limit (RFC 1870), with bounded memory; BDAT chunks
//! (RFC 3030) go into the same collector without unstuffing.
//!
//! Only CRLF `.` CRLF ends DATA: a bare LF, a bare CR, `\n.\n`, `\r\n.\n`, `\n.\r\n` never do
//! (RFC 5321 §2.3.8 and the SMTP smuggling class of bugs).

/// Longest text line, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_LINE: usize = 1000;

/// What a collected message turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    Ok(Vec<u8>),
    /// Bigger than the limit: `552 5.3.4`.
    TooBig,
    /// A line longer than [`MAX_LINE`]: `500 5.5.2`.
    LineTooLong,
}

/// Collects the message, keeping at most `max_size` bytes in memory.
#[derive(Debug)]
pub struct Collector {
    buf: Vec<u8>,
    max_size: u64,
    seen: u64,
    line_too_long: bool,
    /// Whether the previous line ended with CRLF (the DATA command itself did).
    at_line_start: bool,
}

impl Collector {
    pub fn new(max_size: u64) -> Self {
        Collector {
            buf: Vec::new(),
            max_size,
            seen: 0,
            line_too_long: false,
            at_line_start: true,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.seen += bytes.len() as u64;
        if self.seen <= self.max_size {
            self.buf.extend_from_slice(bytes);
        } else if !self.buf.is_empty() {
            // Past the limit: stop buffering; keep reading to the end.
            self.buf = Vec::new();
        }
    }

    /// One DATA line as split on LF (terminator included). Returns true at end-of-data.
    pub fn data_line(&mut self, line: &[u8]) -> bool {
        let crlf = line.ends_with(b"\r\n");
        if self.at_line_start && line == b".\r\n" {
            return true;
        }
        // RFC 5321 §4.5.2: a leading period on a line is removed.
        let body = if self.at_line_start && line.first() == Some(&b'.') {
            &line[1..]
        } else {
            line
        };
        self.keep(body);
        self.at_line_start = crlf;
        false
    }

    /// A DATA line that was too long and dropped.
    pub fn data_line_too_long(&mut self, crlf: bool) {
        self.line_too_long = true;
        self.seen += MAX_LINE as u64;
        self.at_line_start = crlf;
    }

    /// Part of a BDAT chunk.
    pub fn chunk(&mut self, bytes: &[u8]) {
        self.keep(bytes);
    }

    /// True once the limit is passed.
    pub fn too_big(&self) -> bool {
        self.seen > self.max_size
    }

    pub fn finish(self) -> Collected {
        if self.too_big() {
            Collected::TooBig
        } else if self.line_too_long {
            Collected::LineTooLong
        } else {
            Collected::Ok(self.buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` split on LF as the session does; returns the content and what is left.
    fn run(input: &[u8], max: u64) -> (Option<Collected>, usize) {
        let mut c = Collector::new(max);
        let mut pos = 0;
        while let Some(i) = input[pos..].iter().position(|&b| b == b'\n') {
            let line = &input[pos..pos + i + 1];
            pos += i + 1;
            if line.len() > MAX_LINE {
                c.data_line_too_long(line.ends_with(b"\r\n"));
            } else if c.data_line(line) {
                return (Some(c.finish()), input.len() - pos);
            }
        }
        (None, input.len() - pos)
    }

    #[test]
    fn unstuffs_and_ends_at_crlf_dot_crlf() {
        let (c, rest) = run(b"a\r\n..b\r\n.\r\nQUIT\r\n", 100);
        assert_eq!(c, Some(Collected::Ok(b"a\r\n.b\r\n".to_vec())));
        assert_eq!(rest, 6);
    }

    #[test]
    fn smuggling_variants_never_end_data() {
        for input in [
            &b"a\n.\nMAIL FROM:<x@y.z>\r\n"[..],
            b"a\r\n.\nRCPT\r\n",
            b"a\n.\r\nRCPT\r\n",
            b"a\r.\rRCPT\r\n",
            b"a\r\n\0.\r\nRCPT\r\n",
        ] {
            assert_eq!(run(input, 100).0, None, "{input:?}");
        }
    }

    #[test]
    fn size_limit_keeps_reading_with_bounded_memory() {
        let mut c = Collector::new(10);
        for _ in 0..100 {
            assert!(!c.data_line(b"0123456789\r\n"));
        }
        assert!(c.buf.is_empty());
        assert!(c.data_line(b".\r\n"));
        assert_eq!(c.finish(), Collected::TooBig);
    }

    #[test]
    fn overlong_line_is_refused() {
        let mut input = vec![b'x'; 1200];
        input.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(run(&input, 10_000).0, Some(Collected::LineTooLong));
        // 998 characters and CRLF is the longest line allowed.
        let mut input = vec![b'x'; 998];
        input.extend_from_slice(b"\r\n.\r\n");
        assert!(matches!(run(&input, 10_000).0, Some(Collected::Ok(_))));
    }
}

//! The content of a message as it arrives (RFC 5321 §4.1.1.4, RFC 3030 §2): DATA's
//! dot-transparency and end-of-data (§4.5.2), line length (§4.5.3.1.6) and the size limit
//! (RFC 1870), with bounded memory; BDAT chunks go into the same collector without
//! unstuffing.
//!
//! Only CRLF `.` CRLF ends DATA: a bare LF, a bare CR, `\n.\n`, `\r\n.\n`, `\n.\r\n` never do
//! (RFC 5321 §2.3.8 and the SMTP smuggling class of bugs).

use std::path::PathBuf;

pub use super::spool::Content;
use super::spool::Spool;

/// Longest text line, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_LINE: usize = 1000;

/// What a collected message turned out to be.
#[derive(Debug)]
pub enum Collected {
    Ok(Content),
    /// Bigger than the limit: `552 5.3.4`.
    TooBig,
    /// A line longer than [`MAX_LINE`]: `500 5.5.2`.
    LineTooLong,
    /// The spool could not take it (a full or broken disk): `451 4.3.0`.
    Unavailable(String),
}

impl Collected {
    /// The content's bytes, when it was collected whole.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Collected::Ok(c) => c.load_blocking().ok(),
            _ => None,
        }
    }
}

/// Collects the message: a little in memory, the rest spooled to a file ([`Spool`]); past
/// `max_size` it keeps nothing and reads on to the end.
#[derive(Debug)]
pub struct Collector {
    spool: Spool,
    max_size: u64,
    seen: u64,
    line_too_long: bool,
    /// Whether the previous line ended with CRLF (the DATA command itself did).
    at_line_start: bool,
}

impl Collector {
    /// A collector that spools into the system's temporary directory.
    pub fn new(max_size: u64) -> Self {
        Collector::spooled_in(max_size, None)
    }

    /// A collector that spools into `dir` (the system's temporary directory when `None`).
    pub fn spooled_in(max_size: u64, dir: Option<PathBuf>) -> Self {
        Collector {
            spool: Spool::new(dir),
            max_size,
            seen: 0,
            line_too_long: false,
            at_line_start: true,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let before = self.seen;
        self.seen += bytes.len() as u64;
        if self.seen <= self.max_size {
            self.spool.push(bytes);
        } else if before <= self.max_size {
            // Past the limit: stop keeping; keep reading to the end.
            self.spool.discard();
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
            match self.spool.finish() {
                Ok(c) => Collected::Ok(c),
                Err(e) => Collected::Unavailable(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The content's bytes, `TooBig` and `LineTooLong` as themselves.
    #[derive(Debug, PartialEq)]
    enum Got {
        Ok(Vec<u8>),
        TooBig,
        LineTooLong,
    }

    fn got(c: Collected) -> Got {
        match c {
            Collected::Ok(c) => Got::Ok(c.load_blocking().expect("load")),
            Collected::TooBig => Got::TooBig,
            Collected::LineTooLong => Got::LineTooLong,
            Collected::Unavailable(e) => panic!("spool: {e}"),
        }
    }

    /// Feeds `input` split on LF as the session does; returns the content and what is left.
    fn run(input: &[u8], max: u64) -> (Option<Got>, usize) {
        let mut c = Collector::new(max);
        let mut pos = 0;
        while let Some(i) = input[pos..].iter().position(|&b| b == b'\n') {
            let line = &input[pos..pos + i + 1];
            pos += i + 1;
            if line.len() > MAX_LINE {
                c.data_line_too_long(line.ends_with(b"\r\n"));
            } else if c.data_line(line) {
                return (Some(got(c.finish())), input.len() - pos);
            }
        }
        (None, input.len() - pos)
    }

    #[test]
    fn unstuffs_and_ends_at_crlf_dot_crlf() {
        let (c, rest) = run(b"a\r\n..b\r\n.\r\nQUIT\r\n", 100);
        assert_eq!(c, Some(Got::Ok(b"a\r\n.b\r\n".to_vec())));
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
        assert_eq!(c.spool.held_in_memory(), 0);
        assert!(c.data_line(b".\r\n"));
        assert_eq!(got(c.finish()), Got::TooBig);
    }

    #[test]
    fn overlong_line_is_refused() {
        let mut input = vec![b'x'; 1200];
        input.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(run(&input, 10_000).0, Some(Got::LineTooLong));
        // 998 characters and CRLF is the longest line allowed.
        let mut input = vec![b'x'; 998];
        input.extend_from_slice(b"\r\n.\r\n");
        assert!(matches!(run(&input, 10_000).0, Some(Got::Ok(_))));
    }
}

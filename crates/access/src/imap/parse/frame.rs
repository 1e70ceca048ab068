//! Framing of one command: a line that ends with a literal marker (`{N}` or `{N+}`, RFC 3501
//! §4.3 and RFC 7888) continues after N bytes. The session checks the announced size here,
//! before it reserves or reads anything.

/// Longest line (without literals) accepted: longer ones are discarded and answered `BAD`.
pub const MAX_LINE: usize = 64 * 1024;
/// Largest message APPEND takes (advertised as `APPENDLIMIT`, RFC 7889).
pub const MAX_APPEND: u64 = 64 * 1024 * 1024;
/// Largest literal in any other command (a password, a search string, a mailbox name).
pub const MAX_OTHER_LITERAL: u64 = 64 * 1024;
/// Largest whole command other than APPEND, its literals included: a SEARCH of a thousand
/// literals of [`MAX_OTHER_LITERAL`] would otherwise pin 64 MiB per session.
pub const MAX_OTHER_COMMAND: u64 = 1024 * 1024;
/// Largest APPEND command, its literals included: several messages of a MULTIAPPEND (RFC 3502),
/// or the parts of a CATENATE (RFC 4469), each of them within [`MAX_APPEND`]. Each literal
/// also takes its size from the process-wide input budget before it is read.
pub const MAX_COMMAND: u64 = 4 * MAX_APPEND;

/// A literal marker at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    pub len: u64,
    /// `{N+}`: the client does not wait for a continuation.
    pub non_sync: bool,
}

/// The literal announced at the end of `line` (CRLF already removed), if any.
pub fn literal_at_end(line: &[u8]) -> Option<Literal> {
    let body = line.strip_suffix(b"}")?;
    let (body, non_sync) = match body.strip_suffix(b"+") {
        Some(b) => (b, true),
        None => (body, false),
    };
    let open = body.iter().rposition(|&c| c == b'{')?;
    let digits = &body[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let len = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(Literal { len, non_sync })
}

/// The most a literal may hold in the command that starts with `first_line`.
pub fn literal_limit(first_line: &[u8]) -> u64 {
    let mut words = first_line.split(|&c| c == b' ');
    let _tag = words.next();
    match words.next() {
        Some(w) if w.eq_ignore_ascii_case(b"APPEND") => MAX_APPEND,
        _ => MAX_OTHER_LITERAL,
    }
}

/// What reading a command needs next, once a line of it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The line ends without a literal: the command is whole.
    Complete,
    /// The line announces a literal that fits: read `len` bytes (after a continuation unless
    /// `non_sync`), then the line after them.
    Literal { len: usize, non_sync: bool },
    /// The literal is over the command's limit; it is refused before anything is read or
    /// reserved (RFC 7888 §4, RFC 9051 §7.1). APPEND answers `NO [TOOBIG]` (`append`), others
    /// `BAD`; a non-synchronising literal cannot be skipped, so the connection closes.
    TooLarge { non_sync: bool, append: bool },
}

/// The next step for the command read so far in `buf`, whose last line starts at `last_start`;
/// `limit` is [`literal_limit`] of its first line.
pub fn next(buf: &[u8], last_start: usize, limit: u64) -> Next {
    let Some(lit) = buf.get(last_start..).and_then(literal_at_end) else {
        return Next::Complete;
    };
    let total = (buf.len() as u64).saturating_add(lit.len);
    let append = limit == MAX_APPEND;
    let too_large = Next::TooLarge {
        non_sync: lit.non_sync,
        append,
    };
    let max_total = if append {
        MAX_COMMAND
    } else {
        MAX_OTHER_COMMAND
    };
    if lit.len > limit || total > max_total {
        return too_large;
    }
    match usize::try_from(lit.len) {
        Ok(len) => Next::Literal {
            len,
            non_sync: lit.non_sync,
        },
        Err(_) => too_large,
    }
}

/// The tag of a line, for answering a command that could not be read whole.
pub fn tag_of(line: &[u8]) -> String {
    let t: Vec<u8> = line
        .iter()
        .take_while(|&&c| c > 0x20 && c < 0x7f && !b"(){%*\"\\+".contains(&c))
        .copied()
        .collect();
    match String::from_utf8(t) {
        Ok(t) if !t.is_empty() => t,
        _ => "*".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literals() {
        assert_eq!(
            literal_at_end(b"a APPEND INBOX {12}"),
            Some(Literal {
                len: 12,
                non_sync: false
            })
        );
        assert_eq!(
            literal_at_end(b"a LOGIN {3+}"),
            Some(Literal {
                len: 3,
                non_sync: true
            })
        );
        assert_eq!(literal_at_end(b"a LOGIN {}"), None);
        assert_eq!(literal_at_end(b"a LOGIN {x}"), None);
        assert_eq!(literal_at_end(b"a NOOP"), None);
        assert_eq!(literal_at_end(b"a X {99999999999999999999}"), None);
    }

    #[test]
    fn limits_depend_on_the_command() {
        assert_eq!(literal_limit(b"a append INBOX {5}"), MAX_APPEND);
        assert_eq!(literal_limit(b"a LOGIN {5}"), MAX_OTHER_LITERAL);
        assert_eq!(tag_of(b"A1 FOO"), "A1");
        assert_eq!(tag_of(b"+x"), "*");
    }

    #[test]
    fn next_steps() {
        let line = b"a LOGIN {3}";
        let limit = literal_limit(line);
        assert_eq!(
            next(line, 0, limit),
            Next::Literal {
                len: 3,
                non_sync: false
            }
        );
        // After the literal, only the new line is looked at.
        assert_eq!(next(b"a LOGIN {3}\r\n{3} x", 16, limit), Next::Complete);
        assert_eq!(
            next(b"a LOGIN {65537+}", 0, limit),
            Next::TooLarge {
                non_sync: true,
                append: false
            }
        );
        // Many literals that each fit: the command as a whole may not pass its limit.
        let mut search = b"a SEARCH".to_vec();
        for _ in 0..15 {
            search.extend_from_slice(b" TEXT {65536}\r\n");
            search.resize(search.len() + 65536, b'x');
        }
        let last = search.len();
        search.extend_from_slice(b" TEXT {65536}");
        let limit = literal_limit(&search);
        assert_eq!(
            next(&search, last, limit),
            Next::TooLarge {
                non_sync: false,
                append: false
            }
        );
        search.truncate(last);
        search.extend_from_slice(b" TEXT {60000}");
        assert!(matches!(
            next(&search, last, limit),
            Next::Literal { len: 60000, .. }
        ));
        let append = b"a APPEND INBOX {67108865}";
        assert_eq!(
            next(append, 0, literal_limit(append)),
            Next::TooLarge {
                non_sync: false,
                append: true
            }
        );
    }
}

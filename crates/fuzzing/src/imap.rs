//! IMAP commands as a client sends them: lines, literals and all.
//!
//! The input is what a client writes on the connection. It is cut into commands the way the
//! session reads them (lines cut at LF, a literal announced at the end of a line read whole,
//! [`frame::next`] deciding each step), and every command is parsed both as IMAP4rev1 and as
//! IMAP4rev2. Each command that parses is written again ([`super::imap_render`]), once with
//! upper-case keywords and the server's own string rendering, once with mixed-case keywords
//! and every string a literal: both must frame as one command and parse back to the same one.

use marque_access::imap::parse::command::{self, AppendData, CatPart, Command, Op};
use marque_access::imap::parse::frame::{self, MAX_LINE, Next};
use marque_access::imap::parse::search;

use crate::imap_render::{self, Style};

/// One command read from the stream, or why there was none.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Command(Vec<u8>),
    /// A line over [`MAX_LINE`] or a refused literal: the session answers and goes on.
    Refused,
    /// A refused non-synchronising literal: the session closes the connection.
    Close,
    Eof,
}

/// Cuts `stream` into lines and literals as the session's reader does.
struct Reader<'a> {
    stream: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next line without its LF (and CR before it); `None` at the end of the stream.
    fn line(&mut self) -> Option<&'a [u8]> {
        let i = self.stream.iter().position(|&c| c == b'\n')?;
        let mut line = &self.stream[..i];
        self.stream = &self.stream[i + 1..];
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        Some(line)
    }

    fn command(&mut self) -> Read {
        let Some(first) = self.line() else {
            return Read::Eof;
        };
        if first.len() > MAX_LINE {
            return Read::Refused;
        }
        let mut buf = first.to_vec();
        let limit = frame::literal_limit(&buf);
        let mut last_start = 0;
        loop {
            match frame::next(&buf, last_start, limit) {
                Next::Complete => return Read::Command(buf),
                Next::TooLarge { non_sync: true, .. } => return Read::Close,
                Next::TooLarge { .. } => return Read::Refused,
                Next::Literal { len, .. } => {
                    buf.extend_from_slice(b"\r\n");
                    if self.stream.len() < len {
                        return Read::Eof;
                    }
                    buf.extend_from_slice(&self.stream[..len]);
                    self.stream = &self.stream[len..];
                    last_start = buf.len();
                    match self.line() {
                        Some(l) if l.len() <= MAX_LINE => buf.extend_from_slice(l),
                        Some(_) => return Read::Refused,
                        None => return Read::Eof,
                    }
                }
            }
        }
    }
}

/// The fuzz target `imap_command`: a client's byte stream.
pub fn imap_command(data: &[u8]) {
    let mut reader = Reader { stream: data };
    loop {
        match reader.command() {
            Read::Command(buf) => check_command(&buf),
            Read::Refused => {}
            Read::Close | Read::Eof => return,
        }
    }
}

fn check_command(buf: &[u8]) {
    for utf8_names in [false, true] {
        let parsed = command::parse_with(buf, utf8_names);
        match &parsed {
            Ok(cmd) => {
                // The tag the session answers a refused literal with is the parsed one.
                assert_eq!(frame::tag_of(buf), cmd.tag, "tag of {buf:?}");
                check_saves(buf, cmd);
                for style in [Style::Plain, Style::Literals] {
                    round_trip(buf, cmd, utf8_names, style);
                }
            }
            Err((Some(tag), _)) => assert!(buf.starts_with(tag.as_bytes())),
            Err((None, _)) => {}
        }
    }
}

/// `search::saves` (used when a command fails to parse) agrees with the parser on commands
/// that do parse.
fn check_saves(buf: &[u8], cmd: &Command) {
    let saves = match &cmd.op {
        Op::Search { search, .. } => search.ret.as_ref().is_some_and(|r| r.save),
        Op::Sort { ret, .. } => ret.as_ref().is_some_and(|r| r.save),
        _ => false,
    };
    assert_eq!(search::saves(buf), saves, "saves() on {buf:?}");
}

/// The command's own bytes for APPEND's literals, so that commands compare by content.
fn normalised(buf: &[u8], cmd: &Command) -> (Command, Vec<Vec<u8>>) {
    let mut cmd = cmd.clone();
    let mut literals = Vec::new();
    if let Op::Append { messages, .. } = &mut cmd.op {
        for m in messages {
            let ranges: Vec<&mut std::ops::Range<usize>> = match &mut m.data {
                AppendData::Literal(r) => vec![r],
                AppendData::Catenate(parts) => parts
                    .iter_mut()
                    .filter_map(|p| match p {
                        CatPart::Text(r) => Some(r),
                        CatPart::Url(_) => None,
                    })
                    .collect(),
            };
            for range in ranges {
                literals.push(buf[range.clone()].to_vec());
                *range = 0..0;
            }
        }
    }
    (cmd, literals)
}

fn round_trip(buf: &[u8], cmd: &Command, utf8_names: bool, style: Style) {
    let wire = imap_render::command(cmd, buf, utf8_names, style);
    let mut reader = Reader { stream: &wire };
    let Read::Command(framed) = reader.command() else {
        panic!("{wire:?} (from {buf:?}) was not read as one command");
    };
    assert!(
        reader.stream.is_empty(),
        "{wire:?} (from {buf:?}) was read as more than one command"
    );
    let again = command::parse_with(&framed, utf8_names).unwrap_or_else(|e| {
        panic!("{framed:?} (written from {buf:?}) does not parse: {e:?}");
    });
    assert_eq!(
        normalised(&framed, &again),
        normalised(buf, cmd),
        "{buf:?} written as {framed:?} ({style:?}, utf8 names: {utf8_names})"
    );
}

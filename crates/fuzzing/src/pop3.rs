//! POP3 as a client sends it: the line reader and the command parser.
//!
//! The first byte of the input picks how the rest is cut into the reads the server sees and
//! the line limit; the rest is the stream. Checked:
//! - the reader yields the same lines however the stream is cut, and the lines a plain
//!   reading of the stream gives (LF ends a line, one CR before it is dropped, a line over the
//!   limit is refused whole);
//! - the reader never holds more than the limit while it has no complete line;
//! - every line that parses is written back and parses to the same command, and the password
//!   never shows in the command's debug form;
//! - a PLAIN response (AUTH's initial response) decodes or is refused, never panics.

use marque_access::pop3::cmd::{self, Command};
use marque_access::pop3::line::{Line, LineReader, MAX_LINE};

/// The fuzz target `pop3_command`.
pub fn pop3_command(data: &[u8]) {
    let Some((&shape, stream)) = data.split_first() else {
        return;
    };
    // Small limits reach the overlong-line paths with short inputs; MAX_LINE is the real one.
    let max = match shape >> 6 {
        0 => MAX_LINE,
        n => usize::from(n) * 8,
    };
    let chunk = usize::from(shape & 0x3f) + 1;

    let expected = plain_lines(stream, max);
    let whole = read(stream, stream.len().max(1), max);
    let pieces = read(stream, chunk, max);
    assert_eq!(whole, expected, "one read");
    assert_eq!(pieces, expected, "reads of {chunk} bytes");

    for line in &whole {
        if let Line::Complete(l) = line {
            check_line(l);
        }
    }
}

/// Lines read through [`LineReader`] from reads of `chunk` bytes.
fn read(stream: &[u8], chunk: usize, max: usize) -> Vec<Line> {
    let mut r = LineReader::new(max);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        r.push(piece);
        while let Some(l) = r.next_line() {
            out.push(l);
        }
        // Without a complete line, what is held stays bounded.
        assert!(r.buffered() <= max, "{} bytes held", r.buffered());
    }
    out
}

/// The lines of `stream`, as the reader is specified to cut them.
fn plain_lines(stream: &[u8], max: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let mut rest = stream;
    while let Some(i) = rest.iter().position(|&c| c == b'\n') {
        let line = &rest[..i];
        rest = &rest[i + 1..];
        out.push(if line.len() + 1 > max {
            Line::TooLong
        } else {
            Line::Complete(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        });
    }
    out
}

fn check_line(line: &[u8]) {
    let Ok(c) = cmd::parse(line) else {
        return;
    };
    let wire = render(&c);
    assert_eq!(
        cmd::parse(wire.as_bytes()).as_ref(),
        Ok(&c),
        "{line:?} written as {wire:?}"
    );
    match &c {
        // Longer than the debug form itself (`Pass(..)`), so it cannot appear in it by chance.
        Command::Pass(p) if p.len() > 8 => {
            assert!(!format!("{c:?}").contains(p.as_str()), "password shown");
        }
        Command::Auth(Some(r)) => {
            if let Some(i) = &r.initial {
                let _ = marque_session::sasl::plain(i.as_bytes());
            }
        }
        _ => {}
    }
}

fn render(c: &Command) -> String {
    let n = |n: &Option<u32>| n.map(|n| format!(" {n}")).unwrap_or_default();
    match c {
        Command::User(u) => format!("USER {u}"),
        Command::Pass(p) => format!("PASS {p}"),
        Command::Auth(None) => "AUTH".into(),
        Command::Auth(Some(r)) => match &r.initial {
            Some(i) => format!("AUTH {} {i}", r.mechanism),
            None => format!("AUTH {}", r.mechanism),
        },
        Command::List(m) => format!("LIST{}", n(m)),
        Command::Uidl(m) => format!("UIDL{}", n(m)),
        Command::Retr(m) => format!("RETR {m}"),
        Command::Dele(m) => format!("DELE {m}"),
        Command::Top(m, l) => format!("TOP {m} {l}"),
        _ => c.name().to_string(),
    }
}

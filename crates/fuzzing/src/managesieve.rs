//! ManageSieve (RFC 5804) input as the session frames and parses it.
//!
//! The first byte of the input picks the limits (the server's own, or small ones that reach
//! the limit paths with short inputs); the rest is the stream. Checked:
//! - the session's loop over the stream always moves forward (every command and every skipped
//!   line takes at least one byte, never more than there is);
//! - a result [`frame`] gives on part of the stream is final: the whole stream gives the same
//!   one, up to the wording of a syntax error (the session acts on whatever has arrived, in
//!   pieces of any size);
//! - every command that parses is written back (with quoted strings, then with literals) and
//!   frames and parses to the same command.

use marque_access::managesieve::parse::{Command, FrameError, FrameLimits, MAX_LINE, Token, frame};

/// The fuzz target `managesieve_command`.
pub fn managesieve_command(data: &[u8]) {
    let Some((&shape, stream)) = data.split_first() else {
        return;
    };
    let limits = if shape & 1 == 0 {
        FrameLimits {
            max_line: MAX_LINE,
            max_literal: 1024 * 1024,
        }
    } else {
        FrameLimits {
            max_line: 64,
            max_literal: 64,
        }
    };
    let mut pos = 0;
    while pos < stream.len() {
        let rest = &stream[pos..];
        let whole = frame(rest, limits);
        check_prefixes(rest, &whole, limits);
        match whole {
            Ok(Some((tokens, used))) => {
                assert!(
                    used > 0 && used <= rest.len(),
                    "used {used} of {}",
                    rest.len()
                );
                if let Ok(c) = Command::parse(tokens) {
                    round_trip(&c, limits);
                }
                pos += used;
            }
            Err(FrameError::Syntax { skip, .. }) => {
                assert!(
                    skip > 0 && skip <= rest.len(),
                    "skip {skip} of {}",
                    rest.len()
                );
                pos += skip;
            }
            Ok(None) | Err(_) => return,
        }
    }
}

/// A frame result on a prefix of `rest` is the one `rest` gives (up to a syntax error's wording).
fn check_prefixes(
    rest: &[u8],
    whole: &Result<Option<(Vec<Token>, usize)>, FrameError>,
    limits: FrameLimits,
) {
    // The reason of a syntax error is only the text of the answer: what must agree is what
    // the session does (the command, the bytes skipped, closing).
    let outcome = |r: &Result<Option<(Vec<Token>, usize)>, FrameError>| match r {
        Err(FrameError::Syntax { skip, .. }) => Err(FrameError::Syntax {
            reason: String::new(),
            skip: *skip,
        }),
        other => other.clone(),
    };
    let step = (rest.len() / 24).max(1);
    for end in (0..rest.len()).step_by(step) {
        let part = frame(&rest[..end], limits);
        if part != Ok(None) {
            assert_eq!(
                outcome(&part),
                outcome(whole),
                "{:?} then {:?}",
                &rest[..end],
                &rest[end..]
            );
        }
    }
}

fn string(out: &mut Vec<u8>, s: &[u8], literal: bool) {
    let quotable = !s.iter().any(|&c| matches!(c, b'\r' | b'\n' | 0));
    if literal || !quotable {
        out.extend_from_slice(format!("{{{}+}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    } else {
        out.push(b'"');
        for &c in s {
            if c == b'"' || c == b'\\' {
                out.push(b'\\');
            }
            out.push(c);
        }
        out.push(b'"');
    }
}

fn render(c: &Command, literal: bool) -> Vec<u8> {
    let mut out = c.name().as_bytes().to_vec();
    let mut args: Vec<&[u8]> = Vec::new();
    match c {
        Command::Authenticate { mechanism, initial } => {
            args.push(mechanism.as_bytes());
            if let Some(i) = initial {
                args.push(i);
            }
        }
        Command::HaveSpace { name, size: n } => {
            string_arg(&mut out, name.as_bytes(), literal);
            out.extend_from_slice(format!(" {n}").as_bytes());
        }
        Command::PutScript { name, script } => {
            args.push(name.as_bytes());
            args.push(script);
        }
        Command::SetActive { name }
        | Command::GetScript { name }
        | Command::DeleteScript { name } => args.push(name.as_bytes()),
        Command::RenameScript { old, new } => {
            args.push(old.as_bytes());
            args.push(new.as_bytes());
        }
        Command::CheckScript { script } => args.push(script),
        Command::Noop { tag: Some(t) } => args.push(t),
        _ => {}
    }
    for a in args {
        string_arg(&mut out, a, literal);
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn string_arg(out: &mut Vec<u8>, s: &[u8], literal: bool) {
    out.push(b' ');
    string(out, s, literal);
}

fn round_trip(c: &Command, limits: FrameLimits) {
    for literal in [false, true] {
        let wire = render(c, literal);
        match frame(&wire, limits) {
            Ok(Some((tokens, used))) => {
                assert_eq!(used, wire.len(), "{wire:?} framed as more than one command");
                assert_eq!(
                    Command::parse(tokens).as_ref(),
                    Ok(c),
                    "written as {wire:?}"
                );
            }
            // Quoted strings count towards the line; a literal may pass the limit.
            Err(FrameError::LineTooLong | FrameError::LiteralTooLarge { .. }) => {}
            other => panic!("{c:?} written as {wire:?} framed as {other:?}"),
        }
    }
}

//! The ManageSieve command grammar (RFC 5804 §4), apart from any I/O: cutting the input into
//! one command's tokens ([`frame`]) and reading a [`Command`] from them ([`Command::parse`]).
//!
//! A command is atoms, quoted strings and literals up to CRLF. Literals come as `{N+}`
//! (non-synchronising, RFC 5804 §4 `literal-c2s`) or `{N}`, which is accepted the same way: the
//! protocol has no continuation for it. Every size is checked before the bytes are waited for:
//! the line without its literals, each literal's announced length, and the number of tokens.

/// Longest command line, literals not counted.
pub const MAX_LINE: usize = 8 * 1024;
/// Most tokens in one command (the longest command has three).
pub const MAX_TOKENS: usize = 8;
/// Longest atom (command names and numbers).
const MAX_ATOM: usize = 64;

/// One token of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Atom(String),
    /// A quoted string or a literal.
    String(Vec<u8>),
}

/// Why input could not be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A malformed command; `skip` bytes (through the end of its line) are to be dropped.
    Syntax { reason: String, skip: usize },
    /// The line is longer than [`MAX_LINE`]: the connection cannot be resynchronised.
    LineTooLong,
    /// A literal announces more than the limit: it is not read, the connection is closed.
    LiteralTooLarge { size: u64, max: u64 },
}

/// The limits [`frame`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    pub max_line: usize,
    pub max_literal: u64,
}

fn syntax(
    limits: FrameLimits,
    buf: &[u8],
    at: usize,
    reason: impl Into<String>,
) -> Result<Option<Frame>, FrameError> {
    // Drop through the end of the offending line, if it has arrived. A line that is over the
    // limit before its end is refused the same way whether its end has arrived or not, so the
    // answer does not depend on how the input was split into reads.
    match buf[at.min(buf.len())..].iter().position(|&b| b == b'\n') {
        Some(n) if at + n > limits.max_line => Err(FrameError::LineTooLong),
        Some(n) => Err(FrameError::Syntax {
            reason: reason.into(),
            skip: at + n + 1,
        }),
        None if buf.len() > limits.max_line => Err(FrameError::LineTooLong),
        None => Ok(None),
    }
}

/// One command's tokens and the number of input bytes they took.
pub type Frame = (Vec<Token>, usize);

/// Takes one command from the front of `buf`: `Ok(None)` if more input is needed.
pub fn frame(buf: &[u8], limits: FrameLimits) -> Result<Option<Frame>, FrameError> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    // Bytes of the line outside literals.
    let mut plain = 0usize;
    loop {
        while pos < buf.len() && buf[pos] == b' ' {
            pos += 1;
            plain += 1;
        }
        if plain > limits.max_line {
            return Err(FrameError::LineTooLong);
        }
        let Some(&b) = buf.get(pos) else {
            return Ok(None);
        };
        match b {
            b'\r' => {
                let Some(&next) = buf.get(pos + 1) else {
                    return Ok(None);
                };
                if next != b'\n' {
                    return syntax(limits, buf, pos, "CR without LF");
                }
                return Ok(Some((tokens, pos + 2)));
            }
            // Bare LF ends a line too: lenient towards hand-typed sessions.
            b'\n' => return Ok(Some((tokens, pos + 1))),
            _ => {}
        }
        if tokens.len() >= MAX_TOKENS {
            return syntax(limits, buf, pos, "too many arguments");
        }
        if pos > 0 && !tokens.is_empty() && buf[pos - 1] != b' ' {
            return syntax(limits, buf, pos, "arguments must be separated by a space");
        }
        match b {
            b'"' => {
                let mut out = Vec::new();
                let mut i = pos + 1;
                loop {
                    let Some(&c) = buf.get(i) else {
                        return if plain + (i - pos) > limits.max_line {
                            Err(FrameError::LineTooLong)
                        } else {
                            Ok(None)
                        };
                    };
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let Some(&e) = buf.get(i + 1) else {
                                return Ok(None);
                            };
                            if e != b'"' && e != b'\\' {
                                return syntax(limits, buf, i, "only \\\" and \\\\ may be escaped");
                            }
                            out.push(e);
                            i += 2;
                        }
                        b'\r' | b'\n' | 0 => {
                            return syntax(limits, buf, i, "line break or NUL in a quoted string");
                        }
                        _ => {
                            out.push(c);
                            i += 1;
                        }
                    }
                }
                plain += i + 1 - pos;
                pos = i + 1;
                tokens.push(Token::String(out));
            }
            b'{' => {
                let Some(close) = buf[pos..].iter().position(|&c| c == b'}') else {
                    if buf.len() - pos > 32 {
                        return syntax(limits, buf, pos, "malformed literal");
                    }
                    return Ok(None);
                };
                let inner = &buf[pos + 1..pos + close];
                let digits = inner.strip_suffix(b"+").unwrap_or(inner);
                if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit)
                {
                    return syntax(limits, buf, pos, "malformed literal length");
                }
                let size: u64 = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(u64::MAX);
                if size > limits.max_literal {
                    return Err(FrameError::LiteralTooLarge {
                        size,
                        max: limits.max_literal,
                    });
                }
                let mut start = pos + close + 1;
                match buf.get(start..start + 2) {
                    Some(b"\r\n") => start += 2,
                    Some([b'\n', _]) => start += 1,
                    Some(_) => {
                        return syntax(limits, buf, start, "a literal's length ends its line");
                    }
                    None if buf.get(start) == Some(&b'\n') => start += 1,
                    None => return Ok(None),
                }
                plain += start - pos;
                // Checked against max_literal above, which fits in memory.
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                let Some(data) = buf.get(start..start + size) else {
                    return Ok(None);
                };
                tokens.push(Token::String(data.to_vec()));
                pos = start + size;
            }
            _ => {
                let end = buf[pos..]
                    .iter()
                    .position(|&c| c == b' ' || c == b'\r' || c == b'\n')
                    .map(|n| pos + n);
                let Some(end) = end else {
                    if buf.len() - pos > MAX_ATOM {
                        return syntax(limits, buf, pos, "word too long");
                    }
                    return Ok(None);
                };
                let atom = &buf[pos..end];
                if atom.len() > MAX_ATOM {
                    return syntax(limits, buf, pos, "word too long");
                }
                if !atom
                    .iter()
                    .all(|&c| c.is_ascii_graphic() && !b"(){}\"\\%*".contains(&c))
                {
                    return syntax(limits, buf, pos, "unexpected character");
                }
                tokens.push(Token::Atom(String::from_utf8_lossy(atom).into_owned()));
                plain += end - pos;
                pos = end;
            }
        }
    }
}

/// A ManageSieve command (RFC 5804 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// §2.1; the initial response is the SASL-IR string (still base64).
    Authenticate {
        mechanism: String,
        initial: Option<Vec<u8>>,
    },
    /// §2.2
    StartTls,
    /// §2.3
    Logout,
    /// §2.4
    Capability,
    /// §2.5
    HaveSpace { name: String, size: u64 },
    /// §2.6
    PutScript { name: String, script: Vec<u8> },
    /// §2.7
    ListScripts,
    /// §2.8; an empty name deactivates.
    SetActive { name: String },
    /// §2.9
    GetScript { name: String },
    /// §2.10
    DeleteScript { name: String },
    /// §2.11.1
    RenameScript { old: String, new: String },
    /// §2.12
    CheckScript { script: Vec<u8> },
    /// §2.13; the tag is echoed back.
    Noop { tag: Option<Vec<u8>> },
    /// §2.14
    Unauthenticate,
}

impl Command {
    /// The command's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Authenticate { .. } => "AUTHENTICATE",
            Command::StartTls => "STARTTLS",
            Command::Logout => "LOGOUT",
            Command::Capability => "CAPABILITY",
            Command::HaveSpace { .. } => "HAVESPACE",
            Command::PutScript { .. } => "PUTSCRIPT",
            Command::ListScripts => "LISTSCRIPTS",
            Command::SetActive { .. } => "SETACTIVE",
            Command::GetScript { .. } => "GETSCRIPT",
            Command::DeleteScript { .. } => "DELETESCRIPT",
            Command::RenameScript { .. } => "RENAMESCRIPT",
            Command::CheckScript { .. } => "CHECKSCRIPT",
            Command::Noop { .. } => "NOOP",
            Command::Unauthenticate => "UNAUTHENTICATE",
        }
    }

    /// Reads a command from its tokens.
    pub fn parse(tokens: Vec<Token>) -> Result<Command, String> {
        let mut it = tokens.into_iter();
        let Some(Token::Atom(verb)) = it.next() else {
            return Err("a command starts with its name".into());
        };
        let args: Vec<Token> = it.collect();
        let verb = verb.to_ascii_uppercase();
        let arity = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("{verb} takes {n} argument(s)"))
            }
        };
        let string = |i: usize| -> Result<Vec<u8>, String> {
            match args.get(i) {
                Some(Token::String(s)) => Ok(s.clone()),
                _ => Err(format!("{verb}: argument {} must be a string", i + 1)),
            }
        };
        let name = |i: usize| -> Result<String, String> {
            String::from_utf8(string(i)?)
                .map_err(|_| format!("{verb}: a script name must be UTF-8"))
        };
        Ok(match verb.as_str() {
            "AUTHENTICATE" => {
                if args.is_empty() || args.len() > 2 {
                    return Err("AUTHENTICATE takes a mechanism and an optional response".into());
                }
                let mechanism = String::from_utf8_lossy(&string(0)?).to_ascii_uppercase();
                let initial = if args.len() == 2 {
                    Some(string(1)?)
                } else {
                    None
                };
                Command::Authenticate { mechanism, initial }
            }
            "STARTTLS" => arity(0).map(|_| Command::StartTls)?,
            "LOGOUT" => arity(0).map(|_| Command::Logout)?,
            "CAPABILITY" => arity(0).map(|_| Command::Capability)?,
            "LISTSCRIPTS" => arity(0).map(|_| Command::ListScripts)?,
            "UNAUTHENTICATE" => arity(0).map(|_| Command::Unauthenticate)?,
            "HAVESPACE" => {
                arity(2)?;
                let size = match &args[1] {
                    Token::Atom(n) if n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()) => {
                        n.parse().map_err(|_| "HAVESPACE: size out of range")?
                    }
                    _ => return Err("HAVESPACE: the size is a number".into()),
                };
                Command::HaveSpace {
                    name: name(0)?,
                    size,
                }
            }
            "PUTSCRIPT" => {
                arity(2)?;
                Command::PutScript {
                    name: name(0)?,
                    script: string(1)?,
                }
            }
            "SETACTIVE" => arity(1).and_then(|_| Ok(Command::SetActive { name: name(0)? }))?,
            "GETSCRIPT" => arity(1).and_then(|_| Ok(Command::GetScript { name: name(0)? }))?,
            "DELETESCRIPT" => {
                arity(1).and_then(|_| Ok(Command::DeleteScript { name: name(0)? }))?
            }
            "RENAMESCRIPT" => {
                arity(2)?;
                Command::RenameScript {
                    old: name(0)?,
                    new: name(1)?,
                }
            }
            "CHECKSCRIPT" => {
                arity(1).and_then(|_| Ok(Command::CheckScript { script: string(0)? }))?
            }
            "NOOP" => {
                if args.len() > 1 {
                    return Err("NOOP takes at most one argument".into());
                }
                Command::Noop {
                    tag: if args.is_empty() {
                        None
                    } else {
                        Some(string(0)?)
                    },
                }
            }
            _ => return Err(format!("unknown command {verb}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits {
        max_line: 100,
        max_literal: 50,
    };

    fn command(input: &[u8]) -> Command {
        let (tokens, used) = frame(input, LIMITS).unwrap().unwrap();
        assert_eq!(used, input.len());
        Command::parse(tokens).unwrap()
    }

    #[test]
    fn reads_every_command() {
        assert_eq!(command(b"capability\r\n"), Command::Capability);
        assert_eq!(
            command(b"PUTSCRIPT \"a b\" {5+}\r\nkeep;\r\n"),
            Command::PutScript {
                name: "a b".into(),
                script: b"keep;".to_vec()
            }
        );
        assert_eq!(
            command(b"PUTSCRIPT {1}\r\nx {2}\r\nab\r\n"),
            Command::PutScript {
                name: "x".into(),
                script: b"ab".to_vec()
            }
        );
        assert_eq!(
            command(b"HAVESPACE \"s\" 1000\r\n"),
            Command::HaveSpace {
                name: "s".into(),
                size: 1000
            }
        );
        assert_eq!(
            command(b"RENAMESCRIPT \"a\\\"\" \"b\\\\\"\r\n"),
            Command::RenameScript {
                old: "a\"".into(),
                new: "b\\".into()
            }
        );
        assert_eq!(
            command(b"SETACTIVE \"\"\r\n"),
            Command::SetActive { name: "".into() }
        );
        assert_eq!(
            command(b"AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n"),
            Command::Authenticate {
                mechanism: "PLAIN".into(),
                initial: Some(b"AGEAYg==".to_vec())
            }
        );
        assert_eq!(command(b"NOOP\r\n"), Command::Noop { tag: None });
    }

    #[test]
    fn waits_for_the_rest() {
        for partial in [
            &b"PUTSCRIPT \"a\" {5+}\r\nkee"[..],
            b"PUTSCRIPT \"a\" {5+",
            b"CAPABILITY",
            b"CAPABILITY\r",
            b"GETSCRIPT \"unterminated",
        ] {
            assert_eq!(frame(partial, LIMITS), Ok(None), "{partial:?}");
        }
    }

    #[test]
    fn refuses_oversized_input_before_reading_it() {
        assert_eq!(
            frame(b"PUTSCRIPT \"a\" {51+}\r\n", LIMITS),
            Err(FrameError::LiteralTooLarge { size: 51, max: 50 })
        );
        assert_eq!(
            frame(b"PUTSCRIPT \"a\" {99999999999999999999+}\r\n", LIMITS),
            Err(FrameError::Syntax {
                reason: "malformed literal length".into(),
                skip: 39
            })
        );
        let long = vec![b'A'; 200];
        assert!(frame(&long, LIMITS).is_err());
    }

    #[test]
    fn an_overlong_bad_line_is_refused_however_it_arrives() {
        // A word over the atom limit on a line over the line limit: without its end, and with
        // it, the line is too long (it once was a syntax error to skip when it came whole).
        let mut line = vec![b'x'; 120];
        assert_eq!(frame(&line, LIMITS), Err(FrameError::LineTooLong));
        line.extend_from_slice(b"\r\nNOOP\r\n");
        assert_eq!(frame(&line, LIMITS), Err(FrameError::LineTooLong));
        // Within the limit it is a syntax error, and the line is skipped.
        let short = [vec![b'x'; 70], b"\r\nNOOP\r\n".to_vec()].concat();
        assert!(matches!(
            frame(&short, LIMITS),
            Err(FrameError::Syntax { skip: 72, .. })
        ));
    }

    #[test]
    fn syntax_errors_skip_their_line() {
        let input = b"GETSCRIPT \"a\nb\"\r\nNOOP\r\n";
        let Err(FrameError::Syntax { skip, .. }) = frame(input, LIMITS) else {
            panic!("expected a syntax error");
        };
        assert_eq!(&input[skip..], b"b\"\r\nNOOP\r\n");
        assert!(Command::parse(vec![Token::Atom("FOO".into())]).is_err());
        assert!(Command::parse(vec![Token::String(b"NOOP".to_vec())]).is_err());
        assert!(
            Command::parse(vec![
                Token::Atom("GETSCRIPT".into()),
                Token::Atom("x".into())
            ])
            .is_err()
        );
    }
}

//! A reader for IMAP response data as the server writes it in FETCH (ENVELOPE, BODYSTRUCTURE):
//! `NIL`, numbers, quoted strings, literals and parenthesised lists (items separated by a space,
//! or by nothing between two lists). It checks that what the server writes is one well-formed
//! item that a client can read back.

/// Reads one item from `data`; panics with the offset if it is malformed or followed by more.
pub fn check_one(data: &[u8]) {
    let end = item(data, 0).unwrap_or_else(|at| panic!("malformed at {at}: {data:?}"));
    assert_eq!(end, data.len(), "trailing bytes after the item: {data:?}");
}

/// One item starting at `at`; the offset after it.
fn item(d: &[u8], at: usize) -> Result<usize, usize> {
    match d.get(at) {
        Some(b'(') => {
            let mut i = at + 1;
            if d.get(i) == Some(&b')') {
                return Ok(i + 1);
            }
            loop {
                let start = i;
                i = item(d, i)?;
                match d.get(i) {
                    Some(b')') => return Ok(i + 1),
                    Some(b' ') => i += 1,
                    // RFC 3501 §9: lists follow each other with no space (`1*address`,
                    // `1*body` of a multipart).
                    Some(b'(') if d[start] == b'(' => {}
                    _ => return Err(i),
                }
            }
        }
        Some(b'"') => {
            let mut i = at + 1;
            loop {
                match d.get(i) {
                    Some(b'"') => return Ok(i + 1),
                    Some(b'\\') if matches!(d.get(i + 1), Some(b'"' | b'\\')) => i += 2,
                    // RFC 3501 §9: a quoted string holds no CR, LF or backslash of its own.
                    Some(b'\r' | b'\n' | b'\\') | None => return Err(i),
                    Some(_) => i += 1,
                }
            }
        }
        Some(b'{') => {
            let close = d[at..].iter().position(|&c| c == b'}').ok_or(at)? + at;
            let n: usize = std::str::from_utf8(&d[at + 1..close])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(at)?;
            if d.get(close + 1..close + 3) != Some(b"\r\n") {
                return Err(close);
            }
            let end = close + 3 + n;
            if end > d.len() {
                return Err(close);
            }
            Ok(end)
        }
        Some(c) if c.is_ascii_digit() => {
            let n = d[at..].iter().take_while(|c| c.is_ascii_digit()).count();
            Ok(at + n)
        }
        _ if d[at..].starts_with(b"NIL") => Ok(at + 3),
        _ => Err(at),
    }
}

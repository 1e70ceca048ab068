//! What the client receives of a message: CRLF line ends, dot-stuffing, the terminating dot.
//!
//! RFC 1939 §3: a multi-line response is made of CRLF-terminated lines; a line that begins with
//! `.` is sent with one more `.` before it, and the response ends with `.` CRLF. The size
//! announced by STAT and LIST is the size of the message with CRLF line ends, before stuffing.

/// The message split into lines without their ends (a final line end is implied).
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    let mut empty = raw.is_empty();
    body.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(move |_| !std::mem::take(&mut empty))
}

/// Size in octets of the message as sent: every line end a CRLF, the last line ended.
pub fn wire_size(raw: &[u8]) -> u64 {
    lines(raw).map(|l| l.len() as u64 + 2).sum()
}

/// The body of a RETR (`top: None`) or TOP (`top: Some(n)`: the header, the blank line and `n`
/// lines of the body) answer, dot-stuffed and ended with `.` CRLF (RFC 1939 §7, TOP).
pub fn multiline(raw: &[u8], top: Option<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32 + 8);
    let mut in_header = true;
    let mut body_lines = 0u64;
    for line in lines(raw) {
        if !in_header {
            if top.is_some_and(|n| body_lines >= n) {
                break;
            }
            body_lines += 1;
        } else if line.is_empty() {
            in_header = false;
        }
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_crlf_line_ends() {
        assert_eq!(wire_size(b"a\r\nb\r\n"), 6);
        assert_eq!(wire_size(b"a\nb\n"), 6);
        assert_eq!(wire_size(b"a\nb"), 6);
        assert_eq!(wire_size(b""), 0);
        assert_eq!(wire_size(b"\r\n"), 2);
    }

    #[test]
    fn retr_normalises_and_stuffs() {
        let raw = b"Subject: x\n\n.hidden\r\n..two\nend";
        assert_eq!(
            multiline(raw, None),
            b"Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n".to_vec()
        );
        assert_eq!(multiline(b"", None), b".\r\n".to_vec());
    }

    #[test]
    fn top_sends_the_header_and_n_body_lines() {
        let raw = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        assert_eq!(
            multiline(raw, Some(0)),
            b"A: 1\r\nB: 2\r\n\r\n.\r\n".to_vec()
        );
        assert_eq!(
            multiline(raw, Some(2)),
            b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n.\r\n".to_vec()
        );
        assert_eq!(multiline(raw, Some(99)), multiline(raw, None));
        // A message without a body: the header only.
        assert_eq!(multiline(b"A: 1\r\n", Some(5)), b"A: 1\r\n.\r\n".to_vec());
    }
}

//! SMTP replies: a code, an enhanced status code (RFC 3463, advertised by
//! ENHANCEDSTATUSCODES, RFC 2034) and text, on one or more lines (RFC 5321 §4.2.1).

/// One reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// Enhanced status code, e.g. `2.1.0`; none on the greeting and EHLO/HELO (RFC 2034 §3).
    pub status: Option<&'static str>,
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Reply {
            code,
            status: Some(status),
            lines: vec![text.into()],
        }
    }

    /// A reply without an enhanced status code.
    pub fn plain(code: u16, lines: Vec<String>) -> Self {
        Reply {
            code,
            status: None,
            lines,
        }
    }

    /// True for 4xx and 5xx.
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// The reply on the wire: every line but the last is `code-`, the last `code ` (RFC 5321
    /// §4.2.1).
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            let sep = if i + 1 == n { ' ' } else { '-' };
            out.push_str(&self.code.to_string());
            out.push(sep);
            if let Some(s) = self.status {
                out.push_str(s);
                out.push(' ');
            }
            out.push_str(text);
            out.push_str("\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_many() {
        assert_eq!(Reply::new(250, "2.0.0", "OK").to_wire(), "250 2.0.0 OK\r\n");
        assert_eq!(
            Reply::plain(250, vec!["mx".into(), "SIZE 10".into()]).to_wire(),
            "250-mx\r\n250 SIZE 10\r\n"
        );
    }
}

//! What the server writes (RFC 5804 §4 `response`): strings as quoted strings or literals,
//! and the final `OK`, `NO` or `BYE` with an optional response code (§1.3).

/// A reply being built: data lines, then one status line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reply(pub Vec<u8>);

/// The response codes of RFC 5804 §1.3 (and RFC 5804 §2.13's `TAG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AuthTooWeak,
    EncryptNeeded,
    QuotaMaxScripts,
    QuotaMaxSize,
    Referral,
    Sasl,
    TransitionNeeded,
    TryLater,
    Active,
    Nonexistent,
    AlreadyExists,
    Warnings,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::AuthTooWeak => "AUTH-TOO-WEAK",
            Code::EncryptNeeded => "ENCRYPT-NEEDED",
            Code::QuotaMaxScripts => "QUOTA/MAXSCRIPTS",
            Code::QuotaMaxSize => "QUOTA/MAXSIZE",
            Code::Referral => "REFERRAL",
            Code::Sasl => "SASL",
            Code::TransitionNeeded => "TRANSITION-NEEDED",
            Code::TryLater => "TRYLATER",
            Code::Active => "ACTIVE",
            Code::Nonexistent => "NONEXISTENT",
            Code::AlreadyExists => "ALREADYEXISTS",
            Code::Warnings => "WARNINGS",
        }
    }
}

/// Writes `s` as a quoted string if it can be one, else as a literal (`{N}` CRLF data).
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    let quotable = s.len() <= 1024 && !s.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0);
    if quotable {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

impl Reply {
    /// A reply with only a status line.
    pub fn status(kind: &str, code: Option<Code>, text: &str) -> Reply {
        let mut r = Reply::default();
        r.push_status(kind, code, text);
        r
    }

    pub fn ok(text: &str) -> Reply {
        Reply::status("OK", None, text)
    }

    pub fn no(code: Option<Code>, text: &str) -> Reply {
        Reply::status("NO", code, text)
    }

    pub fn bye(code: Option<Code>, text: &str) -> Reply {
        Reply::status("BYE", code, text)
    }

    /// Appends a status line: `OK (CODE) "text"`.
    pub fn push_status(&mut self, kind: &str, code: Option<Code>, text: &str) {
        self.0.extend_from_slice(kind.as_bytes());
        if let Some(c) = code {
            self.0
                .extend_from_slice(format!(" ({})", c.as_str()).as_bytes());
        }
        if !text.is_empty() {
            self.0.push(b' ');
            string(&mut self.0, text.as_bytes());
        }
        self.0.extend_from_slice(b"\r\n");
    }

    /// Appends a data line of strings and atoms, as the caller formatted them.
    pub fn push_line(&mut self, line: &[u8]) {
        self.0.extend_from_slice(line);
        self.0.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        string(&mut out, b"a \"b\" \\");
        assert_eq!(out, b"\"a \\\"b\\\" \\\\\"");
        let mut out = Vec::new();
        string(&mut out, b"keep;\r\n");
        assert_eq!(out, b"{7}\r\nkeep;\r\n");
    }

    #[test]
    fn status_lines_carry_codes() {
        assert_eq!(
            Reply::no(Some(Code::QuotaMaxSize), "too big").0,
            b"NO (QUOTA/MAXSIZE) \"too big\"\r\n"
        );
        assert_eq!(Reply::ok("").0, b"OK\r\n");
    }
}

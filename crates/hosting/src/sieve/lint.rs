//! Checks on what a script's `vacation` will send, where the script's text alone tells
//! (literal arguments): a `:subject` must be one line, a `:from` one of the user's own
//! addresses (RFC 5230 §4.4 lets an implementation restrict it), and a `:mime` reason may
//! carry only MIME header fields (RFC 5230 §4.5). Values built from variables are checked
//! again at delivery, where the reply is rebuilt whatever the script wrote.

/// One token of a script (RFC 5228 §2.4 and §8.1), as much as the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Tag(String),
    Str(String),
    Punct(char),
}

/// The tokens of `text`; comments are skipped, strings decoded (escapes, dot-stuffing).
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            i = text[i + 2..]
                .find("*/")
                .map(|e| i + 2 + e + 2)
                .unwrap_or(b.len());
        } else if c == b'"' {
            let mut s = String::new();
            let mut chars = text[i + 1..].char_indices();
            let mut end = b.len();
            while let Some((k, ch)) = chars.next() {
                match ch {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            s.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1 + k + 1;
                        break;
                    }
                    _ => s.push(ch),
                }
            }
            out.push(Token::Str(s));
            i = end;
        } else if b.len() - i >= 5 && b[i..i + 5].eq_ignore_ascii_case(b"text:") {
            // RFC 5228 §2.4.2: to the end of the line, then lines up to a lone dot.
            let start = text[i..].find('\n').map(|e| i + e + 1).unwrap_or(b.len());
            let mut s = String::new();
            let mut pos = start;
            while pos < b.len() {
                let line_end = text[pos..]
                    .find('\n')
                    .map(|e| pos + e + 1)
                    .unwrap_or(b.len());
                let line = &text[pos..line_end];
                pos = line_end;
                if line.trim_end_matches(['\r', '\n']) == "." {
                    break;
                }
                s.push_str(line.strip_prefix('.').unwrap_or(line));
            }
            out.push(Token::Str(s));
            i = pos;
        } else if c == b':' || c.is_ascii_alphabetic() || c == b'_' {
            let start = if c == b':' { i + 1 } else { i };
            let mut e = start;
            while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
                e += 1;
            }
            let word = text[start..e].to_ascii_lowercase();
            out.push(if c == b':' {
                Token::Tag(word)
            } else {
                Token::Word(word)
            });
            i = e.max(i + 1);
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(Token::Punct(ch));
            i += ch.len_utf8();
        }
    }
    out
}

/// `value` with its `${hex:...}` and `${unicode:...}` encoded characters (RFC 5228 §2.4.2.4)
/// decoded, so that a line break written that way is seen.
fn decode_encoded(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let lower = inner.to_ascii_lowercase();
        let decoded = if let Some(hex) = lower.strip_prefix("hex:") {
            let bytes: Option<Vec<u8>> = hex
                .split_whitespace()
                .map(|h| u8::from_str_radix(h, 16).ok())
                .collect();
            bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
        } else if let Some(cps) = lower.strip_prefix("unicode:") {
            cps.split_whitespace()
                .map(|h| u32::from_str_radix(h, 16).ok().and_then(char::from_u32))
                .collect::<Option<String>>()
        } else {
            None
        };
        match decoded {
            Some(d) => out.push_str(&d),
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The address of a `:from` value: `Name <addr>`, `<addr>` or `addr`.
fn address_of(value: &str) -> &str {
    let v = value.trim();
    match (v.rfind('<'), v.rfind('>')) {
        (Some(o), Some(c)) if o < c => v[o + 1..c].trim(),
        _ => v,
    }
}

/// Why the script's `vacation` actions cannot send what they say, or `None`. `owns` tells
/// whether the user may send as an address; `None` skips the `:from` check (no user known).
pub fn vacation_problem(text: &str, owns: Option<&dyn Fn(&str) -> bool>) -> Option<String> {
    let toks = tokens(text);
    let mut i = 0;
    while i < toks.len() {
        if toks[i] != Token::Word("vacation".into()) {
            i += 1;
            continue;
        }
        let mut mime = false;
        let mut reason = None;
        i += 1;
        while i < toks.len() && !matches!(toks[i], Token::Punct(';' | '{' | '}')) {
            match (&toks[i], toks.get(i + 1)) {
                (Token::Tag(t), Some(Token::Str(v))) if t == "subject" => {
                    let v = decode_encoded(v);
                    if v.chars().any(|c| c.is_control() && c != '\t') {
                        return Some(
                            "vacation :subject must be one line: it holds a line break or \
                             another control character"
                                .into(),
                        );
                    }
                    i += 1;
                }
                (Token::Tag(t), Some(Token::Str(v))) if t == "from" => {
                    let v = decode_encoded(v);
                    if v.chars().any(|c| c.is_control() && c != '\t') {
                        return Some(
                            "vacation :from must be one address: it holds a line break or \
                             another control character"
                                .into(),
                        );
                    }
                    if let Some(owns) = owns
                        && !v.contains("${")
                        && !owns(address_of(&v))
                    {
                        return Some(format!(
                            "vacation :from {:?} is not one of your addresses (your mailbox \
                             address or an alias of it)",
                            address_of(&v)
                        ));
                    }
                    i += 1;
                }
                (Token::Tag(t), _) if t == "mime" => mime = true,
                (Token::Tag(_), Some(Token::Str(_) | Token::Word(_))) => i += 1,
                (Token::Str(v), _) => reason = Some(v.clone()),
                _ => {}
            }
            i += 1;
        }
        if mime && let Some(reason) = reason {
            for line in reason.split('\n') {
                let line = line.trim_end_matches('\r');
                if line.is_empty() {
                    break;
                }
                if line.starts_with([' ', '\t']) {
                    continue;
                }
                let name = line
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                if !name.starts_with("content-") && name != "mime-version" {
                    return Some(format!(
                        "vacation :mime reason may carry only MIME header fields (Content-*), \
                         not {name:?}"
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(a: &str) -> bool {
        a.eq_ignore_ascii_case("ann@c.example")
    }

    fn problem(script: &str) -> Option<String> {
        vacation_problem(script, Some(&ann))
    }

    #[test]
    fn plain_vacations_pass() {
        for s in [
            r#"require "vacation"; vacation "Away.";"#,
            r#"require "vacation"; vacation :from "Ann <ann@c.example>" :subject "Away" "x";"#,
            r#"require ["vacation", "variables"]; vacation :from "${from}" "x";"#,
            "require \"vacation\";\r\nvacation :mime text:\r\nContent-Type: text/plain\r\n\r\nAway\r\n.\r\n;",
            r#"# vacation :from "x@evil.example"
               keep;"#,
        ] {
            assert_eq!(problem(s), None, "{s}");
        }
    }

    #[test]
    fn literal_injections_and_foreign_senders_are_refused() {
        for s in [
            r#"require "vacation"; vacation :from "security@bank.example" "x";"#,
            r#"require "vacation"; vacation :from "Bob <bob@c.example>" "x";"#,
            "require \"vacation\"; vacation :from \"Me <ann@c.example>\r\nBcc: x@y\" \"x\";",
            "require \"vacation\"; vacation :subject \"Away\r\nBcc: x@y\" \"x\";",
            r#"require ["vacation", "encoded-character"]; vacation :subject "A${hex:0D 0A}Bcc: x@y" "x";"#,
            r#"require ["vacation", "encoded-character"]; vacation :subject "A${unicode:d a}Bcc: x" "x";"#,
            "require \"vacation\"; vacation :mime text:\r\nContent-Type: text/plain\r\nBcc: x@y\r\n\r\nAway\r\n.\r\n;",
        ] {
            assert!(problem(s).is_some(), "{s}");
        }
        // Without a user, only what is wrong for anyone.
        let foreign = r#"require "vacation"; vacation :from "security@bank.example" "x";"#;
        assert_eq!(vacation_problem(foreign, None), None);
    }
}

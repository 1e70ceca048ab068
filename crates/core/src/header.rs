//! The one writer of header fields for the messages the platform composes itself (vacation
//! replies, delivery status notifications and whatever else it sends on a user's behalf).
//!
//! Every value is checked before it is written: a value that carries CR, LF, NUL or any other
//! control character is refused, never passed on, so that no value can end its field early and
//! start another (header injection). Line breaks in the output are only the ones this writer
//! puts there itself when it folds a long field (RFC 5322 §2.2.3). Unstructured text and
//! display names that are not ASCII are written as RFC 2047 encoded-words.

use base64::Engine as _;

/// Longest line the writer aims for, CRLF excluded (RFC 5322 §2.1.1 "SHOULD be no more than
/// 78 characters").
const FOLD_AT: usize = 78;
/// Longest line allowed at all, CRLF excluded (RFC 5322 §2.1.1 "MUST be no more than 998").
const MAX_LINE: usize = 998;
/// UTF-8 bytes per encoded-word: 39 bytes are 52 base64 characters, 64 with `=?utf-8?B?` and
/// `?=`: under the 75 of RFC 2047 §2, and a line with one word stays within its 76 (§2).
const WORD_BYTES: usize = 39;

/// Why a field was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("{0:?} is not a valid header field name")]
    Name(String),
    #[error("the value of {field} contains a control character (CR, LF, NUL or another)")]
    Control { field: String },
    #[error("the value of {field} is not a valid address: {value:?}")]
    Address { field: String, value: String },
    #[error("the value of {field} has a word longer than a line may be")]
    TooLong { field: String },
}

/// A header section being written, field by field.
#[derive(Debug, Clone, Default)]
pub struct HeaderWriter {
    out: Vec<u8>,
}

impl HeaderWriter {
    pub fn new() -> Self {
        HeaderWriter::default()
    }

    /// An unstructured field (`Subject`, `Comments`...: RFC 5322 §3.2.5): any text without
    /// control characters (a tab counts as a space); non-ASCII text is encoded (RFC 2047 §5(1)).
    pub fn text(&mut self, name: &str, value: &str) -> Result<&mut Self, HeaderError> {
        check_name(name)?;
        let value = check_text(name, value)?;
        let words = if value.is_ascii() && !value.contains("=?") {
            value.split(' ').map(str::to_string).collect()
        } else {
            encoded_words(&value)
        };
        self.fold(name, &words)?;
        Ok(self)
    }

    /// A structured field written as given (`Date`, `Message-ID`, `Content-Type`...): printable
    /// ASCII and spaces only; folded at its spaces.
    pub fn structured(&mut self, name: &str, value: &str) -> Result<&mut Self, HeaderError> {
        check_name(name)?;
        let value = check_text(name, value)?;
        if !value.is_ascii() {
            return Err(HeaderError::Control {
                field: name.to_string(),
            });
        }
        let words: Vec<String> = value.split(' ').map(str::to_string).collect();
        self.fold(name, &words)?;
        Ok(self)
    }

    /// An address field with one mailbox (RFC 5322 §3.4): `Name <local@domain>`, the display
    /// name quoted or encoded as it needs, or only `local@domain` without one.
    pub fn mailbox(
        &mut self,
        name: &str,
        display: Option<&str>,
        address: &str,
    ) -> Result<&mut Self, HeaderError> {
        check_name(name)?;
        check_address(name, address)?;
        let mut words = Vec::new();
        if let Some(display) = display.map(str::trim).filter(|d| !d.is_empty()) {
            let display = check_text(name, display)?;
            words.extend(phrase(&display));
        }
        // RFC 5322 §3.4: a display name needs the angle brackets; a bare address is an addr-spec.
        if words.is_empty() {
            words.push(address.to_string());
        } else {
            words.push(format!("<{address}>"));
        }
        self.fold(name, &words)?;
        Ok(self)
    }

    /// The header section written so far, each field ending in CRLF (no blank line after it).
    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    /// Writes `name: ` and the words separated by spaces, breaking the line before a word that
    /// would pass [`FOLD_AT`].
    fn fold(&mut self, name: &str, words: &[String]) -> Result<(), HeaderError> {
        // Written to `out` only once the whole field is good.
        let mut field = Vec::new();
        let mut line = format!("{name}:");
        let mut first = true;
        for w in words {
            if w.len() + 1 > MAX_LINE {
                return Err(HeaderError::TooLong {
                    field: name.to_string(),
                });
            }
            if !first
                && !w.is_empty()
                && line.len() + 1 + w.len() > FOLD_AT
                && line.trim() != format!("{name}:")
            {
                field.extend_from_slice(line.as_bytes());
                field.extend_from_slice(b"\r\n");
                line = String::new();
            }
            first = false;
            line.push(' ');
            line.push_str(w);
        }
        if line.len() > MAX_LINE {
            return Err(HeaderError::TooLong {
                field: name.to_string(),
            });
        }
        field.extend_from_slice(line.as_bytes());
        field.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(&field);
        Ok(())
    }
}

/// RFC 5322 §3.6.8: printable ASCII except the colon.
fn check_name(name: &str) -> Result<(), HeaderError> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(HeaderError::Name(name.to_string()));
    }
    Ok(())
}

/// The value with tabs as spaces, refused if it holds any other control character.
fn check_text(field: &str, value: &str) -> Result<String, HeaderError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(HeaderError::Control {
            field: field.to_string(),
        });
    }
    Ok(value.replace('\t', " "))
}

/// Whether `value` is one addr-spec that can stand between angle brackets as it is.
pub fn is_plain_address(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let bad = |c: char| c.is_control() || c.is_whitespace() || "<>()[],;:\\\"@".contains(c);
    !local.is_empty()
        && !domain.is_empty()
        && !local.chars().any(bad)
        && !domain.chars().any(bad)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && value.len() <= 254
}

fn check_address(field: &str, address: &str) -> Result<(), HeaderError> {
    if is_plain_address(address) {
        Ok(())
    } else {
        Err(HeaderError::Address {
            field: field.to_string(),
            value: address.chars().filter(|c| !c.is_control()).collect(),
        })
    }
}

/// A display name as words: as it is when it is only atoms, quoted when it holds specials,
/// encoded-words when it is not ASCII (RFC 2047 §5(3)).
fn phrase(display: &str) -> Vec<String> {
    if !display.is_ascii() || display.contains("=?") {
        return encoded_words(display);
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~ ".contains(c);
    if display.chars().all(atext) {
        return display.split(' ').map(str::to_string).collect();
    }
    let quoted = display.replace('\\', "\\\\").replace('"', "\\\"");
    vec![format!("\"{quoted}\"")]
}

/// `text` as base64 encoded-words of at most [`WORD_BYTES`] bytes each, cut between
/// characters (RFC 2047 §5: each word must hold whole characters).
fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + WORD_BYTES).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let chunk = &text.as_bytes()[start..end];
        words.push(format!(
            "=?utf-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(chunk)
        ));
        start = end;
    }
    words
}

/// The lines of a header section (each field unfolded: RFC 5322 §2.2.3) as (name, value),
/// or `None` if a line is not a field, or holds a NUL or a bare CR or LF. `raw` is the header
/// section alone, fields separated by CRLF.
pub fn parse_fields(raw: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n") {
        if line.is_empty() {
            continue;
        }
        if line.contains(['\r', '\n', '\0']) {
            return None;
        }
        if line.starts_with([' ', '\t']) {
            let (_, v) = out.last_mut()?;
            v.push_str(line);
            continue;
        }
        let (name, value) = line.split_once(':')?;
        check_name(name).ok()?;
        out.push((name.to_string(), value.trim_start().to_string()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut HeaderWriter) -> Result<(), HeaderError>) -> String {
        let mut w = HeaderWriter::new();
        f(&mut w).expect("written");
        String::from_utf8(w.finish()).expect("ascii")
    }

    #[test]
    fn control_characters_are_refused_in_every_kind_of_value() {
        let mut w = HeaderWriter::new();
        for bad in [
            "a\r\nBcc: x@y",
            "a\nBcc: x@y",
            "a\rb",
            "a\0b",
            "a\x1bb",
            "a\u{85}b",
        ] {
            assert!(w.text("Subject", bad).is_err(), "{bad:?}");
            assert!(w.structured("Message-ID", bad).is_err(), "{bad:?}");
            assert!(w.mailbox("From", Some(bad), "a@b.example").is_err());
        }
        for bad in [
            "a@b\r\n.example",
            "a b@c.example",
            "<a@b.example>",
            "ab.example",
            "a@",
        ] {
            assert!(w.mailbox("From", None, bad).is_err(), "{bad:?}");
        }
        assert!(w.text("Bad Name", "x").is_err());
        assert!(w.text("Bad:Name", "x").is_err());
        assert!(w.finish().is_empty(), "nothing was written");
    }

    #[test]
    fn non_ascii_is_encoded_and_long_values_are_folded() {
        let s = written(|w| w.text("Subject", "Café ☕").map(|_| ()));
        assert_eq!(s, "Subject: =?utf-8?B?Q2Fmw6kg4piV?=\r\n");
        let long = "word ".repeat(40);
        let s = written(|w| w.text("Subject", long.trim()).map(|_| ()));
        assert!(s.lines().all(|l| l.len() <= FOLD_AT), "{s}");
        assert!(s.lines().skip(1).all(|l| l.starts_with(' ')), "{s}");
        let unfolded = s.replace("\r\n", "");
        assert_eq!(unfolded, format!("Subject: {}", long.trim()));
        let long = "é".repeat(100);
        let s = written(|w| w.text("Subject", &long).map(|_| ()));
        assert!(s.lines().all(|l| l.len() <= FOLD_AT), "{s}");
    }

    #[test]
    fn mailboxes_quote_or_encode_the_display_name() {
        let s = written(|w| {
            w.mailbox("From", Some("Ann Example"), "ann@c.example")
                .map(|_| ())
        });
        assert_eq!(s, "From: Ann Example <ann@c.example>\r\n");
        let s = written(|w| {
            w.mailbox("From", Some("Doe, \"J\""), "j@c.example")
                .map(|_| ())
        });
        assert_eq!(s, "From: \"Doe, \\\"J\\\"\" <j@c.example>\r\n");
        let s = written(|w| w.mailbox("From", None, "j@c.example").map(|_| ()));
        assert_eq!(s, "From: j@c.example\r\n");
        let s = written(|w| w.mailbox("To", Some("Zoë"), "z@c.example").map(|_| ()));
        assert!(s.starts_with("To: =?utf-8?B?"), "{s}");
    }

    #[test]
    fn parsing_refuses_bare_line_ends_and_unfolds() {
        let f = parse_fields(b"A: 1\r\nB: x\r\n y\r\n").expect("fields");
        assert_eq!(f[1], ("B".into(), "x y".into()));
        assert!(parse_fields(b"A: 1\nB: 2\r\n").is_none());
        assert!(parse_fields(b"A: 1\rB: 2\r\n").is_none());
        assert!(parse_fields(b"A: \0\r\n").is_none());
        assert!(parse_fields(b"not a field\r\n").is_none());
    }
}

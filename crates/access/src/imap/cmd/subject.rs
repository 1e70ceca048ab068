//! The base subject of RFC 5256 §2.1, which SORT (SUBJECT) orders by and THREAD groups by:
//! the subject without the `Re:`, `Fwd:`, `[list]` and `(fwd)` that replies and forwards add,
//! compared case-insensitively (lower case here). Whether any of those were removed tells
//! REFERENCES threading which of two messages is the reply.

/// A subject reduced to its base.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BaseSubject {
    pub text: String,
    /// Something marking a reply or forward was removed (RFC 5256 §2.1 steps 2, 3 and 6).
    pub reply: bool,
}

/// The base subject of `raw`, a Subject header value as stored (encoded words are decoded).
pub fn base_subject(raw: &str) -> BaseSubject {
    // (1) Decoded, lower case, every run of white space one space.
    let mut s = decode(raw)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut reply = false;
    loop {
        // (2) Trailing "(fwd)" and white space.
        while let Some(rest) = s.trim_end().strip_suffix("(fwd)") {
            s = rest.to_string();
            reply = true;
        }
        s = s.trim_end().to_string();
        // (3)-(5) Leading white space and reply markers, then a lone leading blob, until
        // nothing changes.
        loop {
            let t = s.trim_start();
            if let Some(rest) = strip_refwd(t) {
                s = rest.to_string();
                reply = true;
                continue;
            }
            if let Some(rest) = strip_blob(t)
                && !rest.trim().is_empty()
            {
                s = rest.to_string();
                continue;
            }
            s = t.to_string();
            break;
        }
        // (6) "[fwd: ...]" around the whole subject.
        if let Some(inner) = s.strip_prefix("[fwd:").and_then(|r| r.strip_suffix(']')) {
            s = inner.to_string();
            reply = true;
            continue;
        }
        return BaseSubject { text: s, reply };
    }
}

/// Encoded words (RFC 2047) decoded; the value as-is when there are none.
fn decode(raw: &str) -> String {
    if !raw.contains("=?") {
        return raw.to_string();
    }
    let header = format!("Subject: {raw}\r\n\r\n");
    mail_parser::MessageParser::default()
        .parse(header.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| raw.to_string())
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`: the rest after one at the start.
fn strip_blob(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(['[', ']'])?;
    inner[end..]
        .strip_prefix(']')
        .map(|rest| rest.trim_start_matches(' '))
}

/// `*subj-blob subj-refwd` with `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`:
/// the rest after one at the start.
fn strip_refwd(s: &str) -> Option<&str> {
    let mut t = s;
    while let Some(rest) = strip_blob(t) {
        t = rest;
    }
    let t = ["re", "fwd", "fw"]
        .iter()
        .find_map(|w| t.strip_prefix(w))?
        .trim_start_matches(' ');
    let t = strip_blob(t).unwrap_or(t);
    t.strip_prefix(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> (String, bool) {
        let b = base_subject(s);
        (b.text, b.reply)
    }

    #[test]
    fn reply_and_forward_markers() {
        assert_eq!(
            base("Re: RE: [list] Fwd:  Hello   World (fwd)"),
            ("hello world".into(), true)
        );
        assert_eq!(base("Re[2]: [list] Re : hi"), ("hi".into(), true));
        assert_eq!(base("[Fwd: Re: party]"), ("party".into(), true));
        assert_eq!(base("FW: x (fwd) (FWD)"), ("x".into(), true));
        assert_eq!(base("Re:"), (String::new(), true));
    }

    #[test]
    fn plain_subjects() {
        assert_eq!(base("plain"), ("plain".into(), false));
        // A blob is removed only when something is left.
        assert_eq!(base("[only]"), ("[only]".into(), false));
        assert_eq!(base("[list] news"), ("news".into(), false));
        assert_eq!(
            base("  Tabs\tand  spaces "),
            ("tabs and spaces".into(), false)
        );
        // Words that start like a marker are not one.
        assert_eq!(base("Rebate offer"), ("rebate offer".into(), false));
        assert_eq!(base(""), (String::new(), false));
    }

    #[test]
    fn encoded_words() {
        assert_eq!(
            base("Re: =?utf-8?q?caf=C3=A9?= plans"),
            ("café plans".into(), true)
        );
    }
}

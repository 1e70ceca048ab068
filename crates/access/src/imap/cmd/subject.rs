//! The base subject of RFC 5256 §2.1, which SORT (SUBJECT) orders by and THREAD
//! (ORDEREDSUBJECT and REFERENCES) groups by: the subject without the `Re:`, `Fwd:`, `[list]`
//! and `(fwd)` that replies and forwards add. Base subjects are compared with the
//! `i;ascii-casemap` collation (RFC 5256 §3, RFC 4790 §9.2), which maps `a`-`z` to `A`-`Z` and
//! leaves every other octet alone, so the text kept here is mapped that way: `_` and `[`
//! sort after the letters, as they do in that collation. Whether any reply or forward marker
//! was removed tells REFERENCES threading which of two messages is the reply.

/// A subject reduced to its base.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BaseSubject {
    /// The base subject under `i;ascii-casemap`: ASCII letters in upper case.
    pub text: String,
    /// Something marking a reply or forward was removed (RFC 5256 §2.1 steps 2, 3 and 6).
    pub reply: bool,
}

/// The base subject of `raw`, a Subject header value as stored (encoded words are decoded).
pub fn base_subject(raw: &str) -> BaseSubject {
    // (1) Encoded words decoded; tabs and line breaks (continuations) made spaces, and every
    // run of spaces one space.
    let mut s = String::with_capacity(raw.len());
    for c in decode(raw).chars() {
        let c = match c {
            '\t' | '\r' | '\n' => ' ',
            c => c.to_ascii_uppercase(),
        };
        if !(c == ' ' && s.ends_with(' ')) {
            s.push(c);
        }
    }
    let mut reply = false;
    loop {
        // (2) subj-trailer: "(fwd)" and white space at the end, as long as there are some.
        loop {
            let t = s.trim_end_matches(' ');
            match t.strip_suffix("(FWD)") {
                Some(rest) => {
                    s = rest.to_string();
                    reply = true;
                }
                None => {
                    s = t.to_string();
                    break;
                }
            }
        }
        // (3) subj-leader (white space, or blobs and a reply marker), then (4) one leading
        // blob if what remains is not empty; (5) until neither applies.
        loop {
            let t = s.trim_start_matches(' ');
            if let Some(rest) = strip_refwd(t) {
                s = rest.to_string();
                reply = true;
                continue;
            }
            if let Some(rest) = strip_blob(t)
                && !rest.is_empty()
            {
                s = rest.to_string();
                continue;
            }
            s = t.to_string();
            break;
        }
        // (6) subj-fwd-hdr "[fwd:" and subj-fwd-trl "]" around the whole: removed, and again
        // from step 2.
        if let Some(inner) = s.strip_prefix("[FWD:").and_then(|r| r.strip_suffix(']')) {
            s = inner.to_string();
            reply = true;
            continue;
        }
        // (7) What is left is the base subject.
        return BaseSubject { text: s, reply };
    }
}

/// Encoded words (RFC 2047) decoded; the value as-is when there are none.
pub fn decode(raw: &str) -> String {
    if !raw.contains("=?") {
        return raw.to_string();
    }
    let header = format!("Subject: {raw}\r\n\r\n");
    mail_parser::MessageParser::default()
        .parse(header.as_bytes())
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_else(|| raw.to_string())
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP` (BLOBCHAR: anything but `[` and `]`): the rest after
/// one at the start.
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
    let t = ["RE", "FWD", "FW"]
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
        // (3) subj-refwd in every spelling, after blobs; (2) trailers.
        assert_eq!(
            base("Re: RE: [list] Fwd:  Hello   World (fwd)"),
            ("HELLO WORLD".into(), true)
        );
        assert_eq!(base("Re[2]: [list] Re : hi"), ("HI".into(), true));
        assert_eq!(base("fw: x (fwd) (FWD)  "), ("X".into(), true));
        assert_eq!(base("[a] [b] fWd:x"), ("X".into(), true));
        assert_eq!(base("Re:"), (String::new(), true));
        // (6) "[fwd:" ... "]" around the whole, then again from (2).
        assert_eq!(base("[Fwd: Re: party]"), ("PARTY".into(), true));
        assert_eq!(base("Re: [FWD: c]"), ("C".into(), true));
        assert_eq!(base("[fwd: [fwd: deep] (fwd)]"), ("DEEP".into(), true));
        // Not around the whole: kept.
        assert_eq!(base("[fwd: a] b"), ("B".into(), false));
    }

    #[test]
    fn blobs() {
        // (4) A blob goes only if something is left: a subject that is only a blob keeps it.
        assert_eq!(base("[xyz]"), ("[XYZ]".into(), false));
        assert_eq!(base("  [xyz]  "), ("[XYZ]".into(), false));
        assert_eq!(base("[list] news"), ("NEWS".into(), false));
        // The last of several blobs is the base when nothing follows it.
        assert_eq!(base("[a][b]"), ("[B]".into(), false));
        assert_eq!(base("[a] [b] "), ("[B]".into(), false));
        // A reply marker after blobs takes the blobs with it (subj-leader).
        assert_eq!(base("[a] Re: [b]"), ("[B]".into(), true));
        // An unclosed bracket is no blob.
        assert_eq!(base("[open subject"), ("[OPEN SUBJECT".into(), false));
    }

    #[test]
    fn plain_subjects() {
        assert_eq!(base("plain"), ("PLAIN".into(), false));
        assert_eq!(base("_"), ("_".into(), false));
        assert_eq!(
            base("  Tabs\tand \r\n spaces "),
            ("TABS AND SPACES".into(), false)
        );
        // Words that start like a marker are not one.
        assert_eq!(base("Rebate offer"), ("REBATE OFFER".into(), false));
        assert_eq!(base("Fwded"), ("FWDED".into(), false));
        assert_eq!(base(""), (String::new(), false));
    }

    #[test]
    fn ascii_casemap_orders_punctuation_after_letters() {
        // i;ascii-casemap compares upper-cased ASCII: "[" (0x5B) and "_" (0x5F) come after
        // every letter, "a" and "A" are equal, and non-ASCII letters keep their case.
        let mut v: Vec<String> = ["_", "b", "[xyz]", "A", "C"]
            .iter()
            .map(|s| base_subject(s).text)
            .collect();
        v.sort();
        assert_eq!(v, ["A", "B", "C", "[XYZ]", "_"]);
        assert_eq!(base_subject("a").text, base_subject("A").text);
        assert_ne!(base_subject("é").text, base_subject("É").text);
    }

    #[test]
    fn encoded_words() {
        assert_eq!(
            base("Re: =?utf-8?q?caf=C3=A9?= plans"),
            ("CAFé PLANS".into(), true)
        );
        // `_` is a space inside an encoded word only.
        assert_eq!(base("=?utf-8?q?a_b?="), ("A B".into(), false));
    }
}

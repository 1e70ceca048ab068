//! Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): IMAP4rev1 clients send and expect
//! non-ASCII names as `&...-` runs of modified base64 over UTF-16.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encodes a UTF-8 name.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a name; `None` if it is not valid modified UTF-7 (the caller then keeps it as is,
/// which is what an IMAP4rev2 client sending UTF-8 means).
///
/// Only the one form [`encode`] writes is valid (RFC 3501 §5.1.3): printable ASCII stands for
/// itself, never in base64; `&` is `&-`; one base64 run per stretch of other characters; the
/// bits after the last UTF-16 unit are zero. So two different names on the wire never name the
/// same mailbox.
pub fn decode(s: &str) -> Option<String> {
    if !s.contains('&') {
        return Some(s.to_string());
    }
    let mut out = String::new();
    let mut rest = s;
    // The previous piece was a base64 run that ended right where `rest` starts.
    let mut after_run = false;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find('-')?;
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
            after_run = false;
        } else {
            if i == 0 && after_run {
                return None;
            }
            out.push_str(&decode_run(run)?);
            after_run = true;
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// One base64 run (between `&` and `-`) in its canonical form.
fn decode_run(run: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in run.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    // Whole UTF-16 units, and no leftover character or non-zero padding bits.
    if bytes.is_empty() || bytes.len() % 2 != 0 || nbits >= 6 || bits != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect();
    let text = String::from_utf16(&units).ok()?;
    if text.chars().any(|c| (' '..='~').contains(&c)) {
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        // RFC 3501 §5.1.3's example.
        assert_eq!(
            encode("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(
            decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(),
            "~peter/mail/台北/日本語"
        );
        assert_eq!(encode("a&b"), "a&-b");
        assert_eq!(decode("a&-b").unwrap(), "a&b");
        assert_eq!(decode("Entwürfe").unwrap(), "Entwürfe");
        assert_eq!(decode(&encode("Entwürfe")).unwrap(), "Entwürfe");
        assert!(decode("&Jjo").is_none());
    }

    #[test]
    fn only_the_canonical_form_decodes() {
        // Printable ASCII in base64 ("&AGE-" would be "a"), two runs in a row, padding bits
        // set, a lone character, an empty run's worth of bits: each names a mailbox the
        // encoder would write differently, so they are not modified UTF-7.
        for wire in ["&AGE-", "a&AGE-b&-c", "&AOQ-&AOQ-", "&AOR-", "&A-", "&AA-"] {
            assert_eq!(decode(wire), None, "{wire}");
        }
        assert_eq!(decode("&AOQA5A-").unwrap(), "ää");
        assert_eq!(decode("&AOQ-&-").unwrap(), "ä&");
        assert_eq!(decode("&AOQ-x&AOQ-").unwrap(), "äxä");
        // Control characters have no printable form: base64 is their only one.
        assert_eq!(encode("a\u{1}"), "a&AAE-");
        assert_eq!(decode("a&AAE-").unwrap(), "a\u{1}");
    }
}

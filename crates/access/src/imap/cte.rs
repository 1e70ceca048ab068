//! Content-transfer decoding for FETCH BINARY (RFC 3516): base64 and quoted-printable parts
//! are sent decoded; the other encodings already are.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Lenient base64: no padding required, non-zero trailing bits accepted.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes `raw` written in `encoding`; `None` for an encoding we do not know (RFC 3516 §4.3:
/// `UNKNOWN-CTE`).
pub fn decode(encoding: &str, raw: &[u8]) -> Option<Vec<u8>> {
    match encoding.to_ascii_lowercase().as_str() {
        "base64" => Some(base64(raw)),
        "quoted-printable" => Some(quoted_printable(raw)),
        "7bit" | "8bit" | "binary" | "" => Some(raw.to_vec()),
        _ => None,
    }
}

/// Base64, ignoring line breaks, padding and any character outside the alphabet (RFC 2045
/// §6.8 asks decoders to ignore them).
fn base64(raw: &[u8]) -> Vec<u8> {
    let clean: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    // A trailing lone sextet cannot be decoded: drop it rather than fail the whole part.
    let usable = if clean.len() % 4 == 1 {
        clean.len() - 1
    } else {
        clean.len()
    };
    LENIENT.decode(&clean[..usable]).unwrap_or_default()
}

/// Quoted-printable (RFC 2045 §6.7), line by line: white space at the end of a line is
/// dropped (rule 3: transport may have added it), a line that then ends in `=` is joined to
/// the next (rule 5, a soft line break), and `=XX` is the octet XX (rule 1; lower-case hex
/// digits are read too, and an `=` not followed by two hex digits is kept as it is).
fn quoted_printable(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        let (line, eol, next) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => {
                (&rest[..i - 1], &rest[i - 1..=i], &rest[i + 1..])
            }
            Some(i) => (&rest[..i], &rest[i..=i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..], &rest[rest.len()..]),
        };
        rest = next;
        let line = trim_wsp_end(line);
        match line.strip_suffix(b"=") {
            Some(soft) => decode_qp_line(soft, &mut out),
            None => {
                decode_qp_line(line, &mut out);
                out.extend_from_slice(eol);
            }
        }
    }
    out
}

/// A line without the spaces and tabs at its end.
fn trim_wsp_end(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// One line's `=XX` escapes.
fn decode_qp_line(line: &[u8], out: &mut Vec<u8>) {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if c == b'='
            && let (Some(h), Some(l)) = (
                line.get(i + 1).copied().and_then(hex),
                line.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(s: &str) -> String {
        String::from_utf8(decode("quoted-printable", s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn base64_and_identities() {
        assert_eq!(
            decode("BASE64", b"AAEC\r\nAw==\r\n").unwrap(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(decode("7bit", b"x").unwrap(), b"x");
        assert_eq!(decode("8BIT", b"\xe9").unwrap(), b"\xe9");
        assert_eq!(decode("binary", b"\0").unwrap(), b"\0");
        assert!(decode("x-uuencode", b"x").is_none());
        assert_eq!(decode("base64", b"AAECAw").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(decode("base64", b"AAECA").unwrap(), vec![0, 1, 2]);
        // RFC 2045 §6.8: characters outside the alphabet are ignored.
        assert_eq!(decode("base64", b"aGVs\r\n bG8=!").unwrap(), b"hello");
    }

    /// RFC 2045 §6.7, rule by rule.
    #[test]
    fn quoted_printable_rules() {
        // Rule 1: `=XX` is the octet; upper case is the rule, lower case is read too.
        assert_eq!(qp("caf=C3=A9 =3D =3d"), "café = =");
        // Rule 2: other characters are themselves (tabs and spaces inside a line too).
        assert_eq!(qp("a\tb c_d\r\n"), "a\tb c_d\r\n");
        // Rule 3: white space at the end of a line was added in transport: dropped. Encoded
        // white space stays.
        assert_eq!(qp("trailing   \r\nnext\t\r\n"), "trailing\r\nnext\r\n");
        assert_eq!(qp("kept=20\r\nkept=09\r\n"), "kept \r\nkept\t\r\n");
        // Rule 4: a line break is a line break.
        assert_eq!(qp("one\r\ntwo\r\n"), "one\r\ntwo\r\n");
        // Rule 5: `=` at the end of a line is a soft break, white space after it too; the
        // example of the RFC.
        assert_eq!(
            qp("Now's the time =\r\nfor all folk to come=\r\n to the aid of their country."),
            "Now's the time for all folk to come to the aid of their country."
        );
        assert_eq!(qp("soft= \t\r\nbreak\r\n"), "softbreak\r\n");
        assert_eq!(qp("last line="), "last line");
        // Not an escape: kept as written.
        assert_eq!(qp("a=G1 b= c=4"), "a=G1 b= c=4");
    }
}

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

/// Quoted-printable (RFC 2045 §6.7): `=XX` escapes and `=` soft line breaks.
fn quoted_printable(raw: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'=' {
            out.push(c);
            i += 1;
            continue;
        }
        match (raw.get(i + 1), raw.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(&a), Some(&b)) => match (hex(a), hex(b)) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(
            decode("BASE64", b"AAEC\r\nAw==\r\n").unwrap(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            decode("quoted-printable", b"caf=C3=A9 =\r\nlong=3D\r\n").unwrap(),
            "café long=\r\n".as_bytes()
        );
        assert_eq!(decode("7bit", b"x").unwrap(), b"x");
        assert!(decode("x-uuencode", b"x").is_none());
        assert_eq!(decode("base64", b"AAECAw").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(decode("base64", b"AAECA").unwrap(), vec![0, 1, 2]);
    }
}

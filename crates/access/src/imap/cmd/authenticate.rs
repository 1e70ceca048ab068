//! AUTHENTICATE (RFC 3501 §6.2.2) with the PLAIN mechanism (RFC 4616), and its initial
//! response on the command line (SASL-IR, RFC 4959).

use std::io;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::login;
use crate::imap::session::{Line, Outcome, Session};

/// Longest SASL response accepted.
const MAX_RESPONSE: usize = 8 * 1024;

/// Splits a PLAIN message `authzid NUL authcid NUL password`.
pub fn parse_plain(decoded: &[u8]) -> Option<(String, String, String)> {
    let mut parts = decoded.split(|&c| c == 0);
    let authz = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let authc = String::from_utf8(parts.next()?.to_vec()).ok()?;
    let pass = String::from_utf8(parts.next()?.to_vec()).ok()?;
    if parts.next().is_some() || authc.is_empty() {
        return None;
    }
    Some((authz, authc, pass))
}

/// Applies AUTHENTICATE.
pub async fn run(s: &mut Session, mechanism: &str, initial: Option<String>) -> io::Result<Outcome> {
    if mechanism != "PLAIN" {
        return Ok(Outcome::No("[CANNOT] unsupported mechanism".into()));
    }
    // RFC 9051 §6.2.2 and §11.1: PLAIN sends the password as it is; refused before TLS
    // (before the continuation, so that the client does not send it).
    if !s.may_send_password() {
        return Ok(login::privacy_required());
    }
    let response = match initial {
        // RFC 4959 §3: "=" is an empty initial response.
        Some(r) if r == "=" => String::new(),
        Some(r) => r,
        None => {
            s.io.line("+ ");
            s.io.flush().await?;
            match s.io.read_line().await? {
                Line::Data(l) if l.len() <= MAX_RESPONSE => {
                    String::from_utf8_lossy(&l).into_owned()
                }
                Line::Data(_) | Line::TooLong => {
                    return Ok(Outcome::Bad("response too long".into()));
                }
                Line::Eof => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    };
    // RFC 3501 §6.2.2: "*" cancels.
    if response.trim() == "*" {
        return Ok(Outcome::Bad("authentication cancelled".into()));
    }
    let Ok(decoded) = STANDARD.decode(response.trim()) else {
        return Ok(Outcome::Bad("response is not base64".into()));
    };
    let Some((authz, authc, password)) = parse_plain(&decoded) else {
        return Ok(Outcome::Bad("malformed PLAIN response".into()));
    };
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(&authc) {
        return Ok(Outcome::No(
            "[AUTHORIZATIONFAILED] cannot act as another user".into(),
        ));
    }
    login::sign_in(s, &authc, &password, "PLAIN").await
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_messages() {
        use super::parse_plain;
        assert_eq!(
            parse_plain(b"\0ann\0secret"),
            Some((String::new(), "ann".into(), "secret".into()))
        );
        assert_eq!(parse_plain(b"ann\0secret"), None);
        assert_eq!(parse_plain(b"\0\0secret"), None);
        assert_eq!(parse_plain(b"a\0b\0c\0d"), None);
    }
}

//! AUTHENTICATE (RFC 3501 §6.2.2) with the PLAIN mechanism (RFC 4616), and its initial
//! response on the command line (SASL-IR, RFC 4959).

use std::io;

use marque_session::sasl::{self, SaslError};

use super::login;
use crate::imap::session::{Line, Outcome, Session};

/// Longest SASL response accepted.
const MAX_RESPONSE: usize = 8 * 1024;

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
    // RFC 4959 §3: "=" is an empty initial response; RFC 3501 §6.2.2: "*" cancels.
    let response = match initial {
        Some(r) => r.into_bytes(),
        None => {
            s.io.line("+ ");
            s.io.flush().await?;
            match s.io.read_line().await? {
                Line::Data(l) if l.len() <= MAX_RESPONSE => l,
                Line::Data(_) | Line::TooLong => {
                    return Ok(Outcome::Bad("response too long".into()));
                }
                Line::Eof => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
    };
    match sasl::plain(&response) {
        Ok(creds) => login::sign_in(s, &creds.login, &creds.password, "PLAIN").await,
        Err(e @ SaslError::OtherIdentity) => Ok(Outcome::No(format!("[AUTHORIZATIONFAILED] {e}"))),
        Err(e) => Ok(Outcome::Bad(e.to_string())),
    }
}

//! STARTTLS (RFC 5804 §2.2): only before sign-in, on a plain connection with a certificate.
//! After the handshake the session sends its capabilities again.

use super::super::response::Reply;

/// `Ok` with the reply to send before the handshake, or the refusal.
pub fn answer(is_tls: bool, can_starttls: bool, signed_in: bool) -> Result<Reply, Reply> {
    if signed_in {
        return Err(Reply::no(
            None,
            "STARTTLS is only allowed before AUTHENTICATE",
        ));
    }
    if is_tls {
        return Err(Reply::no(None, "TLS is already active"));
    }
    if !can_starttls {
        return Err(Reply::no(None, "STARTTLS is not available"));
    }
    Ok(Reply::ok("begin TLS negotiation now"))
}

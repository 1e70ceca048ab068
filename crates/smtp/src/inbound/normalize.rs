//! Submitted content made well-formed before it is signed and queued, whatever the client
//! sent (RFC 5321 §2.3.8: CR and LF only together as a line end; RFC 5322 §2.3 and §3.5: no
//! bare CR or LF, no NUL in a message). One rule per character:
//!
//! - a bare LF or a bare CR ends the line: it becomes CRLF (what the client meant by it);
//! - NUL anywhere: the message is refused with `554 5.6.0`, nothing is queued (a NUL is no
//!   text, and dropping it silently would change what the user signed and sent).
//!
//! Mail from other servers (port 25) is stored as it came; what of it is sent on (forwards,
//! redirects) goes through the outbound writer, which applies the same line-end rule and drops
//! NUL ([`crate::outbound::client::dot_stuff`]).

use super::reply::Reply;

/// Normalises `body` in place, or the reply that refuses it.
pub fn submitted(body: &mut Vec<u8>) -> Result<(), Reply> {
    if body.contains(&0) {
        return Err(Reply::new(
            554,
            "5.6.0",
            "Message contains NUL characters (RFC 5322 section 3.5); not sent",
        ));
    }
    if let std::borrow::Cow::Owned(clean) = marque_store::mail::messages::crlf(body) {
        *body = clean;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_line_ends_become_crlf_and_nul_is_refused() {
        let mut b = b"Subject: x\r\n\r\na\nb\rc\r\n.\n..\r".to_vec();
        submitted(&mut b).unwrap();
        assert_eq!(b, b"Subject: x\r\n\r\na\r\nb\r\nc\r\n.\r\n..\r\n");
        let mut b = b"Subject: x\r\n\r\na\r\n\0.\r\n".to_vec();
        let r = submitted(&mut b).unwrap_err();
        assert_eq!(r.code, 554);
    }
}

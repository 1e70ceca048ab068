//! AUTHENTICATE (RFC 5804 §2.1) with SASL PLAIN (RFC 4616), with the initial response in the
//! command (SASL-IR) or after an empty server challenge; `"*"` cancels.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The only mechanism offered.
pub const PLAIN: &str = "PLAIN";

/// The credentials of a PLAIN response.
#[derive(PartialEq, Eq)]
pub struct Plain {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plain({:?}, ..)", self.login)
    }
}

/// Why a SASL response is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslError {
    /// The client sent `*` (RFC 5804 §2.1).
    Cancelled,
    /// Not base64, or not `authzid NUL authcid NUL passwd`.
    Malformed,
    /// An authorization identity other than the login: no proxy sign-in.
    OtherIdentity,
}

/// Decodes a PLAIN response (base64 of `authzid NUL authcid NUL passwd`).
pub fn decode_plain(response: &[u8]) -> Result<Plain, SaslError> {
    if response == b"*" {
        return Err(SaslError::Cancelled);
    }
    let raw = STANDARD
        .decode(response.trim_ascii())
        .map_err(|_| SaslError::Malformed)?;
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authz), Some(authc), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Malformed);
    let (authz, login, password) = (text(authz)?, text(authc)?, text(pass)?);
    if login.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(&login) {
        return Err(SaslError::OtherIdentity);
    }
    Ok(Plain { login, password })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> Vec<u8> {
        STANDARD.encode(s).into_bytes()
    }

    #[test]
    fn decodes_plain() {
        let ok = decode_plain(&b64(b"\0ann@c.example\0s3cret")).unwrap();
        assert_eq!(ok.login, "ann@c.example");
        assert_eq!(ok.password, "s3cret");
        assert_eq!(decode_plain(b"*"), Err(SaslError::Cancelled));
        assert_eq!(decode_plain(b"!!"), Err(SaslError::Malformed));
        assert_eq!(
            decode_plain(&b64(b"boss\0ann\0pw")),
            Err(SaslError::OtherIdentity)
        );
        assert_eq!(decode_plain(&b64(b"\0ann\0")), Err(SaslError::Malformed));
    }
}

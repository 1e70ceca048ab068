//! SASL (RFC 4422) as every line protocol carries it: the client's responses in base64, `*` to
//! cancel and `=` for an empty initial response, and the PLAIN (RFC 4616) and LOGIN mechanisms.
//!
//! SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959), POP3 AUTH
//! (RFC 5034) and ManageSieve AUTHENTICATE (RFC 5804 §2.1) differ only in how a response
//! travels (a line, a quoted string, a literal); each hands the response's bytes here and
//! answers [`SaslError`] in its own words. The credentials go to the core's sign-in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The base64 prompts of LOGIN: `Username:` and `Password:`.
pub const LOGIN_USER: &str = "VXNlcm5hbWU6";
/// See [`LOGIN_USER`].
pub const LOGIN_PASS: &str = "UGFzc3dvcmQ6";

/// A mechanism the platform knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 4616.
    Plain,
    /// The LOGIN mechanism of SMTP submission clients (draft-murchison-sasl-login).
    Login,
}

impl Mechanism {
    /// The mechanism of a name as a client sends it (any case); `None` for one we do not know.
    pub fn parse(name: &str) -> Option<Mechanism> {
        if name.eq_ignore_ascii_case("PLAIN") {
            Some(Mechanism::Plain)
        } else if name.eq_ignore_ascii_case("LOGIN") {
            Some(Mechanism::Login)
        } else {
            None
        }
    }

    /// The registered name, upper-case.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// Why a SASL response is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The client sent `*` (RFC 4422 §3.5).
    #[error("authentication cancelled")]
    Cancelled,
    /// The response is not base64.
    #[error("response is not base64")]
    NotBase64,
    /// Not `[authzid] NUL authcid NUL passwd` with a login and a password, or not UTF-8.
    #[error("malformed PLAIN response")]
    Malformed,
    /// An authorization identity other than the login: no proxy sign-in.
    #[error("cannot act as another user")]
    OtherIdentity,
}

/// A login and its password, as the client sent them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The authentication identity (an address or a staff login).
    pub login: String,
    /// The password; never logged.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({:?}, ..)", self.login)
    }
}

/// Decodes one client response: `*` cancels, `=` is the empty response (RFC 4954 §4,
/// RFC 4959 §3, RFC 5034 §4), anything else is base64. Surrounding whitespace is ignored.
pub fn decode(response: &[u8]) -> Result<Vec<u8>, SaslError> {
    match response.trim_ascii() {
        b"*" => Err(SaslError::Cancelled),
        b"=" => Ok(Vec::new()),
        r => STANDARD.decode(r).map_err(|_| SaslError::NotBase64),
    }
}

/// A PLAIN response (RFC 4616 §2), base64 of `[authzid] NUL authcid NUL passwd`.
pub fn plain(response: &[u8]) -> Result<Credentials, SaslError> {
    plain_message(&decode(response)?)
}

/// The decoded PLAIN message. The login and the password must not be empty (RFC 4616 §2:
/// `1*SAFE`); an authzid other than the login (any case) is refused.
pub fn plain_message(message: &[u8]) -> Result<Credentials, SaslError> {
    let mut parts = message.split(|&b| b == 0);
    let (Some(authz), Some(authc), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    let (authz, login, password) = (text(authz)?, text(authc)?, text(pass)?);
    if login.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed);
    }
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(&login) {
        return Err(SaslError::OtherIdentity);
    }
    Ok(Credentials { login, password })
}

/// The two responses of LOGIN, each the base64 of one UTF-8 field.
pub fn login(user: &[u8], password: &[u8]) -> Result<Credentials, SaslError> {
    Ok(Credentials {
        login: text(&decode(user)?)?,
        password: text(&decode(password)?)?,
    })
}

fn text(bytes: &[u8]) -> Result<String, SaslError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| SaslError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> Vec<u8> {
        STANDARD.encode(s).into_bytes()
    }

    fn creds(login: &str, password: &str) -> Credentials {
        Credentials {
            login: login.into(),
            password: password.into(),
        }
    }

    #[test]
    fn mechanisms_by_name() {
        assert_eq!(Mechanism::parse("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::parse("LOGIN"), Some(Mechanism::Login));
        assert_eq!(Mechanism::parse("CRAM-MD5"), None);
        assert_eq!(Mechanism::Plain.name(), "PLAIN");
    }

    #[test]
    fn responses() {
        assert_eq!(decode(b"not base64!"), Err(SaslError::NotBase64));
        assert_eq!(decode(b"="), Ok(vec![]));
        assert_eq!(decode(b" * "), Err(SaslError::Cancelled));
        assert_eq!(decode(b"YQ==\r\n"), Ok(b"a".to_vec()));
    }

    #[test]
    fn plain_responses() {
        assert_eq!(plain(b"AGFAYi5jAHB3"), Ok(creds("a@b.c", "pw")));
        let ok = plain(&b64(b"\0ann@c.example\0s3cret pass")).unwrap();
        assert_eq!(ok, creds("ann@c.example", "s3cret pass"));
        assert!(plain(&b64(b"ann@c.example\0ann@c.example\0x")).is_ok());
        assert_eq!(
            plain(&b64(b"bob@c.example\0ann@c.example\0x")),
            Err(SaslError::OtherIdentity)
        );
        assert_eq!(
            plain(&b64(b"other\0a@b.c\0pw")),
            Err(SaslError::OtherIdentity)
        );
        assert_eq!(plain(b"*"), Err(SaslError::Cancelled));
        assert_eq!(plain(b"=="), Err(SaslError::NotBase64));
        assert_eq!(plain(b"!!!"), Err(SaslError::NotBase64));
        assert_eq!(plain(b"="), Err(SaslError::Malformed));
        assert_eq!(plain(&b64(b"a@b.c\0pw")), Err(SaslError::Malformed));
        assert_eq!(plain(&b64(b"\0ann")), Err(SaslError::Malformed));
        assert_eq!(plain(&b64(b"\0ann\0")), Err(SaslError::Malformed));
        assert_eq!(plain(&b64(b"\0a\0b\0c")), Err(SaslError::Malformed));
        assert_eq!(plain(&b64(b"\0\xff\0b")), Err(SaslError::Malformed));
    }

    #[test]
    fn plain_messages() {
        assert_eq!(plain_message(b"\0ann\0secret"), Ok(creds("ann", "secret")));
        assert_eq!(plain_message(b"ann\0secret"), Err(SaslError::Malformed));
        assert_eq!(plain_message(b"\0\0secret"), Err(SaslError::Malformed));
        assert_eq!(plain_message(b"a\0b\0c\0d"), Err(SaslError::Malformed));
    }

    #[test]
    fn login_responses() {
        assert_eq!(
            login(&b64(b"ann@c.example"), &b64(b"pw")),
            Ok(creds("ann@c.example", "pw"))
        );
        assert_eq!(login(b"*", &b64(b"pw")), Err(SaslError::Cancelled));
        assert_eq!(login(&b64(b"ann"), b"!!"), Err(SaslError::NotBase64));
        assert_eq!(login(&b64(b"\xff"), &b64(b"pw")), Err(SaslError::Malformed));
    }

    #[test]
    fn credentials_never_show_the_password() {
        assert!(!format!("{:?}", creds("ann", "s3cret")).contains("s3cret"));
    }
}

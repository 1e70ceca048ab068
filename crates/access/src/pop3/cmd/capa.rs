//! CAPA (RFC 2449 §5): the capabilities, which differ before and after sign-in and with TLS.

use super::{Command, ParseError, Reply, no_args};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Capa)
}

/// The list. `authorization`: before sign-in (USER, SASL and STLS are offered only then);
/// `stls`: the connection can start TLS; `password`: a password may be sent now (TLS, or a
/// client allowed to sign in in clear). RFC 2595 §4 and RFC 8314 §3: without it, USER and
/// SASL are not offered until STLS.
pub fn answer(authorization: bool, stls: bool, password: bool) -> Reply {
    let mut caps = vec!["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"];
    if authorization {
        // RFC 2449 §6.7 USER, §6.3 SASL (RFC 5034), RFC 2595 §4 STLS.
        if password {
            caps.push("USER");
            caps.push("SASL PLAIN");
        }
        if stls {
            caps.push("STLS");
        }
    }
    caps.push("EXPIRE NEVER");
    caps.push("IMPLEMENTATION Marque");
    Reply::multi(
        "Capability list follows",
        caps.into_iter().map(String::from),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn stls_only_when_it_can_be_used() {
        let before = super::answer(true, true, true).text();
        assert!(before.contains("\r\nSTLS\r\n") && before.contains("\r\nSASL PLAIN\r\n"));
        assert!(!super::answer(true, false, true).text().contains("STLS"));
        let after = super::answer(false, true, true).text();
        assert!(!after.contains("USER") && !after.contains("STLS"));
        assert!(after.ends_with("\r\n.\r\n"));
    }

    #[test]
    fn no_password_mechanism_before_tls_where_clear_text_is_refused() {
        let before = super::answer(true, true, false).text();
        assert!(before.contains("\r\nSTLS\r\n"));
        assert!(
            !before.contains("USER") && !before.contains("SASL"),
            "{before}"
        );
    }
}

//! CAPA (RFC 2449 §5): the capabilities, which differ before and after sign-in and with TLS.

use super::{Command, ParseError, Reply, no_args};

pub fn parse(args: &str) -> Result<Command, ParseError> {
    no_args(args, Command::Capa)
}

/// The list. `authorization`: before sign-in (USER, SASL and STLS are offered only then);
/// `stls`: the connection can start TLS.
pub fn answer(authorization: bool, stls: bool) -> Reply {
    let mut caps = vec!["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"];
    if authorization {
        // RFC 2449 §6.7 USER, §6.3 SASL (RFC 5034), RFC 2595 §4 STLS.
        caps.push("USER");
        caps.push("SASL PLAIN");
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
        let before = super::answer(true, true).text();
        assert!(before.contains("\r\nSTLS\r\n") && before.contains("\r\nSASL PLAIN\r\n"));
        assert!(!super::answer(true, false).text().contains("STLS"));
        let after = super::answer(false, true).text();
        assert!(!after.contains("USER") && !after.contains("STLS"));
        assert!(after.ends_with("\r\n.\r\n"));
    }
}

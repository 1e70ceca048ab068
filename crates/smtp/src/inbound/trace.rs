//! Trace headers added at delivery: `Return-Path:` (RFC 5321 §4.4, the envelope sender) and
//! `Received:` (RFC 5321 §4.4, with the protocol names of RFC 3848 and RFC 6531 §4.3).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// What the `Received:` line says about the session.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    pub helo: &'a str,
    pub client_ip: std::net::IpAddr,
    pub hostname: &'a str,
    pub esmtp: bool,
    pub tls: bool,
    pub authenticated: bool,
    pub smtputf8: bool,
    pub id: &'a str,
    /// Named in a `for` clause only when there is exactly one recipient (RFC 5321 §4.4 warns
    /// about exposing Bcc recipients).
    pub single_recipient: Option<&'a str>,
    pub sender: &'a str,
}

/// The protocol name of the `with` clause.
pub fn protocol(esmtp: bool, tls: bool, auth: bool, smtputf8: bool) -> String {
    if !esmtp {
        return "SMTP".into();
    }
    let base = if smtputf8 { "UTF8SMTP" } else { "ESMTP" };
    format!(
        "{base}{}{}",
        if tls { "S" } else { "" },
        if auth { "A" } else { "" }
    )
}

/// `Return-Path:` and `Received:`, CRLF-terminated, to put before the message.
pub fn headers(t: &Trace<'_>) -> String {
    let date = OffsetDateTime::now_utc()
        .format(&Rfc2822)
        .unwrap_or_default();
    let ip = match t.client_ip {
        std::net::IpAddr::V4(a) => a.to_string(),
        std::net::IpAddr::V6(a) => format!("IPv6:{a}"),
    };
    let mut received = format!(
        "Received: from {} ([{ip}])\r\n\tby {} (Marque) with {} id {}",
        t.helo,
        t.hostname,
        protocol(t.esmtp, t.tls, t.authenticated, t.smtputf8),
        t.id
    );
    if let Some(r) = t.single_recipient {
        received.push_str(&format!("\r\n\tfor <{r}>"));
    }
    received.push_str(&format!(";\r\n\t{date}\r\n"));
    format!("Return-Path: <{}>\r\n{received}", t.sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names() {
        assert_eq!(protocol(false, true, true, false), "SMTP");
        assert_eq!(protocol(true, false, false, false), "ESMTP");
        assert_eq!(protocol(true, true, true, false), "ESMTPSA");
        assert_eq!(protocol(true, true, false, true), "UTF8SMTPS");
    }

    #[test]
    fn header_lines() {
        let h = headers(&Trace {
            helo: "client.example",
            client_ip: "192.0.2.1".parse().unwrap(),
            hostname: "mx.example",
            esmtp: true,
            tls: false,
            authenticated: false,
            smtputf8: false,
            id: "1.1",
            single_recipient: Some("a@b.example"),
            sender: "",
        });
        assert!(h.starts_with("Return-Path: <>\r\nReceived: from client.example ([192.0.2.1])\r\n\tby mx.example (Marque) with ESMTP id 1.1\r\n\tfor <a@b.example>;\r\n\t"));
        assert!(h.ends_with("\r\n"));
    }
}

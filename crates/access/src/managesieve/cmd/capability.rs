//! CAPABILITY (RFC 5804 §2.4; the capability list of §1.7), also sent as the greeting and
//! after STARTTLS.

use super::super::ManageSieve;
use super::super::response::{Reply, string};

/// What the capability list depends on in the session.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// SASL PLAIN may be used now (TLS, or a client allowed to sign in in clear).
    pub plain: bool,
    /// STARTTLS can be offered.
    pub starttls: bool,
}

/// The capability lines, without the final `OK`.
pub fn lines(svc: &ManageSieve, offer: Offer) -> Reply {
    let mut r = Reply::default();
    let mut pair = |k: &str, v: Option<&str>| {
        let mut line = Vec::new();
        string(&mut line, k.as_bytes());
        if let Some(v) = v {
            line.push(b' ');
            string(&mut line, v.as_bytes());
        }
        r.push_line(&line);
    };
    pair("IMPLEMENTATION", Some("Marque ManageSieve"));
    // RFC 5804 §1.7: an empty SASL list when no mechanism may be used now.
    pair("SASL", Some(if offer.plain { "PLAIN" } else { "" }));
    pair("SIEVE", Some(&svc.extensions));
    if offer.starttls {
        pair("STARTTLS", None);
    }
    pair("MAXREDIRECTS", Some(&svc.max_redirects.to_string()));
    pair("VERSION", Some("1.0"));
    r
}

/// The answer to CAPABILITY.
pub fn answer(svc: &ManageSieve, offer: Offer) -> Reply {
    let mut r = lines(svc, offer);
    r.push_status("OK", None, "");
    r
}

/// The Sieve extensions advertised: exactly those delivery runs ([`marque_delivery::sieve::EXTENSIONS`]).
pub fn sieve_extensions() -> String {
    marque_delivery::sieve::EXTENSIONS.join(" ")
}

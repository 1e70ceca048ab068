//! Loop detection for `redirect` (RFC 5228 §4.2 asks implementations to prevent loops).
//!
//! Each Sieve redirect prepends one `X-Marque-Loop: <address>` header naming the redirecting
//! mailbox. A message is not redirected again when the redirecting address is already listed
//! (it went round) or when it carries `max_redirect_hops` such headers already; it is kept
//! instead, and the reason is logged.

/// The header added on each redirect.
pub const LOOP_HEADER: &str = "X-Marque-Loop";

/// The header section of `raw` as (name, unfolded value) pairs, in order.
pub fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            out.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    out
}

/// Whether a message may be redirected once more by `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopCheck {
    Allowed,
    /// Why not, for the log.
    Refused(String),
}

/// Checks the loop headers of `raw` for a redirect by `address`.
pub fn check(raw: &[u8], address: &str, max_hops: usize) -> LoopCheck {
    let hops: Vec<String> = header_fields(raw)
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(LOOP_HEADER))
        .map(|(_, v)| v.trim_matches(['<', '>', ' ']).to_ascii_lowercase())
        .collect();
    if hops.iter().any(|h| h.eq_ignore_ascii_case(address)) {
        return LoopCheck::Refused(format!(
            "redirect loop: the message was already redirected by {address}"
        ));
    }
    if hops.len() >= max_hops {
        return LoopCheck::Refused(format!(
            "redirect loop: the message was already redirected {} times",
            hops.len()
        ));
    }
    LoopCheck::Allowed
}

/// `raw` with the loop header of a redirect by `address` prepended.
pub fn stamp(raw: &[u8], address: &str) -> Vec<u8> {
    let header = format!("{LOOP_HEADER}: <{address}>\r\n");
    let mut out = Vec::with_capacity(header.len() + raw.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(raw);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_refused() {
        let raw = b"Subject: x\r\n\r\nbody\r\n";
        assert_eq!(check(raw, "a@x.test", 2), LoopCheck::Allowed);
        let once = stamp(raw, "a@x.test");
        assert!(matches!(check(&once, "a@x.test", 2), LoopCheck::Refused(_)));
        assert_eq!(check(&once, "b@x.test", 2), LoopCheck::Allowed);
        let twice = stamp(&once, "b@x.test");
        assert!(matches!(
            check(&twice, "c@x.test", 2),
            LoopCheck::Refused(_)
        ));
    }

    #[test]
    fn folded_headers_unfold() {
        let f = header_fields(b"Subject: a\r\n b\r\nTo: x\r\n\r\nTo: body\r\n");
        assert_eq!(
            f,
            vec![
                ("Subject".to_string(), "a b".to_string()),
                ("To".to_string(), "x".to_string())
            ]
        );
    }
}

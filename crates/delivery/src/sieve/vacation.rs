//! Whether a vacation reply may be sent at all (RFC 5230 §4.5, RFC 3834 §2), checked before
//! the script runs. `sieve-rs` itself refuses the null sender, `MAILER-DAEMON`, `owner-` and
//! `-request` senders, the known `List-` headers, `Precedence: bulk` and `Auto-Submitted`
//! other than `no`, and checks that one of the user's addresses is in a recipient header;
//! these checks add the rest: every `List-*` header and `Precedence: list` or `junk`.

use super::redirect::header_fields;

/// Why no vacation reply goes to the sender of `raw`, or `None` if one may.
pub fn refusal(raw: &[u8], sender: &str) -> Option<&'static str> {
    // RFC 5230 §4.5: never to the null sender; RFC 3834 §2: nor to automatic senders.
    if sender.is_empty() {
        return Some("null sender");
    }
    let local = sender
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(sender)
        .to_ascii_lowercase();
    if local == "mailer-daemon" || local.starts_with("owner-") || local.ends_with("-request") {
        return Some("automatic sender");
    }
    for (name, value) in header_fields(raw) {
        let name = name.to_ascii_lowercase();
        let value = value.to_ascii_lowercase();
        if name.starts_with("list-") {
            return Some("mailing list");
        }
        if name == "precedence" && matches!(value.as_str(), "bulk" | "list" | "junk") {
            return Some("bulk mail");
        }
        if name == "auto-submitted" && value != "no" {
            return Some("automatic message");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn refuses_lists_bulk_and_robots() {
        let plain = b"From: a@x.test\r\nTo: b@y.test\r\n\r\nhi\r\n";
        assert_eq!(refusal(plain, "a@x.test"), None);
        assert!(refusal(plain, "").is_some());
        assert!(refusal(plain, "MAILER-DAEMON@x.test").is_some());
        assert!(refusal(plain, "owner-list@x.test").is_some());
        assert!(refusal(plain, "list-request@x.test").is_some());
        assert!(refusal(b"List-Foo: x\r\n\r\n", "a@x.test").is_some());
        assert!(refusal(b"Precedence: junk\r\n\r\n", "a@x.test").is_some());
        assert!(refusal(b"Auto-Submitted: auto-generated\r\n\r\n", "a@x.test").is_some());
        assert_eq!(refusal(b"Auto-Submitted: no\r\n\r\n", "a@x.test"), None);
    }
}

//! The flags a selected mailbox announces: the system flags and every keyword in use in the
//! folder (RFC 3501 §7.2.6 FLAGS, §7.1 PERMANENTFLAGS). SELECT and EXAMINE send the whole
//! list; when a message of the mailbox gets a keyword the session has not announced (by its
//! own STORE, APPEND or COPY, or by another session or a delivery), the session sends both
//! again, before the FETCH that shows the keyword.

/// The system flags, in the order they are announced (`\Recent` is not among the flags a
/// client may set, RFC 3501 §2.3.2).
pub const SYSTEM: &str = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

/// Writes `* FLAGS (...)` and `* OK [PERMANENTFLAGS (...)]` for `keywords`. A read-only
/// mailbox keeps no flag changes: its PERMANENTFLAGS is empty.
pub fn announce(out: &mut Vec<u8>, keywords: &[String], read_only: bool) {
    let mut list = SYSTEM.to_string();
    for k in keywords {
        list.push(' ');
        list.push_str(k);
    }
    out.extend_from_slice(format!("* FLAGS ({list})\r\n").as_bytes());
    if read_only {
        out.extend_from_slice(b"* OK [PERMANENTFLAGS ()] read-only\r\n");
    } else {
        // `\*`: new keywords may be created (RFC 3501 §7.1).
        out.extend_from_slice(
            format!("* OK [PERMANENTFLAGS ({list} \\*)] flags allowed\r\n").as_bytes(),
        );
    }
}

/// Adds to `announced` the keywords of `current` it lacks and, if there were any, announces
/// the new list. True if something was written.
pub fn announce_new(
    out: &mut Vec<u8>,
    announced: &mut Vec<String>,
    current: &[String],
    read_only: bool,
) -> bool {
    let mut added = false;
    for k in current {
        if !announced.iter().any(|a| a.eq_ignore_ascii_case(k)) {
            announced.push(k.clone());
            added = true;
        }
    }
    if added {
        announce(out, announced, read_only);
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_keywords_are_announced_again() {
        let mut out = Vec::new();
        let mut known = vec!["$Forwarded".to_string()];
        assert!(!announce_new(
            &mut out,
            &mut known,
            &["$forwarded".into()],
            false
        ));
        assert!(out.is_empty());
        assert!(announce_new(
            &mut out,
            &mut known,
            &["$Forwarded".into(), "$Junk".into()],
            false
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk)\r\n\
             * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \
             $Junk \\*)] flags allowed\r\n"
        );
        let mut ro = Vec::new();
        announce(&mut ro, &[], true);
        assert!(
            String::from_utf8(ro)
                .unwrap()
                .ends_with("[PERMANENTFLAGS ()] read-only\r\n")
        );
    }
}

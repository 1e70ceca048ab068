//! LIST and LSUB (RFC 3501 §6.3.8-9), with LIST-EXTENDED selection and return options (RFC
//! 5258), special-use attributes (RFC 6154), child information (RFC 3348) and LIST-STATUS
//! (RFC 5819).

use std::collections::BTreeSet;
use std::io;

use marque_store::mail::{self, DELIMITER, MailboxRecord};

use super::{account, store_no};
use crate::imap::parse::command::ListOptions;
use crate::imap::render;
use crate::imap::session::{Outcome, Session};

/// RFC 3501 §6.3.8: `*` matches anything, `%` anything but the delimiter.
pub fn matches(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| matches(rest, &name[i..])),
        Some(('%', rest)) => (0..=name.len())
            .take_while(|&i| i == 0 || name[i - 1] != DELIMITER)
            .any(|i| matches(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && matches(rest, &name[1..]),
    }
}

/// The pattern a reference and a mailbox argument make, with INBOX's case folded.
pub fn full_pattern(reference: &str, pattern: &str) -> String {
    let p = format!("{reference}{pattern}");
    if let (Some(head), Some(rest)) = (p.get(..5), p.get(5..))
        && head.eq_ignore_ascii_case("INBOX")
        && (rest.is_empty() || rest.starts_with(DELIMITER))
    {
        return format!("INBOX{rest}");
    }
    p
}

/// Applies LIST or LSUB.
#[tracing::instrument(skip(s))]
pub async fn run(
    s: &mut Session,
    reference: &str,
    patterns: &[String],
    options: &ListOptions,
) -> io::Result<Outcome> {
    let account = account(s)?;
    let verb = if options.lsub { "LSUB" } else { "LIST" };
    if patterns.len() == 1 && patterns[0].is_empty() {
        // RFC 3501 §6.3.8: an empty pattern asks for the delimiter.
        s.io.line(&format!("* {verb} (\\Noselect) \"/\" \"\""));
        return Ok(Outcome::Ok(format!("{verb} completed")));
    }
    let r = s
        .ctx
        .core
        .store()
        .read(move |st| Ok((mail::list(st, account)?, mail::subscriptions(st, account)?)))
        .await;
    let (folders, subs) = match r {
        Ok(x) => x,
        Err(e) => return Ok(store_no(&e)),
    };
    let subs: BTreeSet<String> = subs.into_iter().collect();
    let pats: Vec<Vec<char>> = patterns
        .iter()
        .map(|p| full_pattern(reference, p).chars().collect())
        .collect();
    let hit = |name: &str| {
        let n: Vec<char> = name.chars().collect();
        pats.iter().any(|p| matches(p, &n))
    };
    let mut names: BTreeSet<&str> = folders.iter().map(|m| m.name.as_str()).collect();
    if options.subscribed {
        names.extend(subs.iter().map(String::as_str));
    }
    let by_name = |n: &str| folders.iter().find(|m| m.name == n);
    let has_children = |n: &str| {
        let prefix = format!("{n}{DELIMITER}");
        folders.iter().any(|m| m.name.starts_with(&prefix))
    };
    let mut status: Vec<&MailboxRecord> = Vec::new();
    for name in names {
        if !hit(name) {
            continue;
        }
        let folder = by_name(name);
        let subscribed = subs.contains(name);
        if options.subscribed && !subscribed {
            continue;
        }
        if options.special_use_only && folder.and_then(|f| f.special_use).is_none() {
            continue;
        }
        let mut attrs: Vec<&str> = Vec::new();
        match folder {
            None if options.lsub => attrs.push("\\Noselect"),
            None => attrs.push("\\NonExistent"),
            Some(f) => {
                attrs.push(if has_children(name) {
                    "\\HasChildren"
                } else {
                    "\\HasNoChildren"
                });
                if let Some(u) = f.special_use {
                    attrs.push(u.attribute());
                }
                if !options.status.is_empty() {
                    status.push(f);
                }
            }
        }
        if subscribed && !options.lsub && options.subscribed {
            attrs.push("\\Subscribed");
        }
        let mut line = format!("* {verb} ({}) \"/\" ", attrs.join(" ")).into_bytes();
        render::mailbox(&mut line, name, s.rev2);
        line.extend_from_slice(b"\r\n");
        s.io.out.extend_from_slice(&line);
        if let Some(f) = status.pop() {
            let l = super::status::line(f, &options.status, s.rev2);
            s.io.out.extend_from_slice(&l);
        }
    }
    Ok(Outcome::Ok(format!("{verb} completed")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        let p: Vec<char> = p.chars().collect();
        let n: Vec<char> = n.chars().collect();
        matches(&p, &n)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", "a/b/c"));
        assert!(m("%", "INBOX"));
        assert!(!m("%", "a/b"));
        assert!(m("a/%", "a/b"));
        assert!(!m("a/%", "a/b/c"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("INBOX", "INBOX/x"));
        assert_eq!(full_pattern("", "inbox/%"), "INBOX/%");
        assert_eq!(full_pattern("Inbox", ""), "INBOX");
        assert_eq!(full_pattern("", "Inboxes"), "Inboxes");
        assert_eq!(full_pattern("", "日本語"), "日本語");
    }
}

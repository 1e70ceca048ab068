//! LIST and LSUB (RFC 3501 §6.3.8-9), with LIST-EXTENDED selection and return options (RFC
//! 5258), special-use attributes (RFC 6154), child information (RFC 3348) and LIST-STATUS
//! (RFC 5819).

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use marque_store::mail::{self, DELIMITER};

use super::{account, store_no};
use crate::imap::parse::command::{ListOptions, StatusItem};
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

/// The names a subscribed listing (LSUB, `LIST (SUBSCRIBED)`) looks at: every subscribed
/// name and every parent of one.
fn subscribed_and_parents(subs: &BTreeSet<String>) -> BTreeSet<&str> {
    let mut names = BTreeSet::new();
    for s in subs {
        names.insert(s.as_str());
        for (i, c) in s.char_indices() {
            if c == DELIMITER {
                names.insert(&s[..i]);
            }
        }
    }
    names
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
    let count_recent = options.status.contains(&StatusItem::Recent);
    let r = s
        .ctx
        .core
        .store()
        .read(move |st| {
            let folders = mail::list(st, account)?;
            let mut recent = BTreeMap::new();
            if count_recent {
                for f in &folders {
                    recent.insert(f.id, mail::recent_count(st, account, f.id)?);
                }
            }
            Ok((folders, mail::subscriptions(st, account)?, recent))
        })
        .await;
    let (folders, subs, recent) = match r {
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
    let names: BTreeSet<&str> = if options.subscribed {
        subscribed_and_parents(&subs)
    } else {
        folders.iter().map(|m| m.name.as_str()).collect()
    };
    let by_name = |n: &str| folders.iter().find(|m| m.name == n);
    let has_children = |n: &str| {
        let prefix = format!("{n}{DELIMITER}");
        folders.iter().any(|m| m.name.starts_with(&prefix))
    };
    // A subscribed name below `n` that the patterns do not match: RFC 5258 §3.1 (CHILDINFO
    // with RECURSIVEMATCH) and RFC 3501 §6.3.9 (LSUB "%" shows such a parent as \Noselect).
    let hidden_subscribed_child = |n: &str| {
        let prefix = format!("{n}{DELIMITER}");
        subs.iter().any(|c| c.starts_with(&prefix) && !hit(c))
    };
    for name in names {
        if !hit(name) {
            continue;
        }
        let folder = by_name(name);
        let subscribed = subs.contains(name);
        let child_info = options.subscribed
            && (options.recursive_match || options.lsub)
            && hidden_subscribed_child(name);
        if options.subscribed && !subscribed && !child_info {
            continue;
        }
        if options.special_use_only && folder.and_then(|f| f.special_use).is_none() {
            continue;
        }
        let mut attrs: Vec<&str> = Vec::new();
        match folder {
            // RFC 3501 §6.3.9: a parent listed for its subscribed children, or a subscribed
            // name that does not exist, cannot be selected through LSUB.
            _ if options.lsub && (!subscribed || folder.is_none()) => attrs.push("\\Noselect"),
            // RFC 5258 §3: a name listed without a folder behind it.
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
            }
        }
        // RFC 5258 §3.2: the SUBSCRIBED return option (implied by the selection option).
        if subscribed && options.return_subscribed {
            attrs.push("\\Subscribed");
        }
        let mut line = format!("* {verb} ({}) \"/\" ", attrs.join(" ")).into_bytes();
        render::mailbox(&mut line, name, s.rev2);
        if child_info && !options.lsub {
            // RFC 5258 §3.5: the parent matched the pattern for a subscribed child.
            line.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
        }
        line.extend_from_slice(b"\r\n");
        s.io.out.extend_from_slice(&line);
        // RFC 5819 §2: STATUS for the selectable names listed.
        if let (false, Some(f)) = (options.status.is_empty(), folder) {
            let n = recent.get(&f.id).copied().unwrap_or(0);
            let l = super::status::line(f, n, &options.status, s.rev2);
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

    #[test]
    fn parents_of_subscriptions() {
        let subs: BTreeSet<String> = ["a/b/c", "x"].iter().map(|s| s.to_string()).collect();
        let names: Vec<&str> = subscribed_and_parents(&subs).into_iter().collect();
        assert_eq!(names, vec!["a", "a/b", "a/b/c", "x"]);
    }
}

//! Address headers (`From`, `To`, `Cc`...) split the way the IMAP envelope sends them (RFC 3501
//! §7.4.2, RFC 9051 §7.5.2), read from the header as written: RFC 5322 §3.4 `address-list`
//! with the obsolete forms of §4.4 (routes, empty list elements, comments as names).
//!
//! What the envelope wants, and so what this keeps:
//! - a display name as written: quoted strings lose their quotes and backslashes, encoded
//!   words (RFC 2047) stay encoded, white space between words becomes one space;
//! - without a display name, a comment (`user@host (Real Name)`) names the address;
//! - a group is a start marker (host `None`, the group's name as the mailbox), its members,
//!   and an end marker (mailbox and host `None`); an empty group is just the two markers;
//! - an address without a domain keeps an empty host (a `None` host would read as a group
//!   start), and nothing is made up for parts that are not there.

use super::EnvelopeAddress;

/// Most addresses taken from one header: a header of thousands of addresses is cut here.
const MAX_ADDRESSES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// An atom (dots included), a quoted string or a domain literal: as written, and its
    /// text (a quoted string's content without quotes and quoting backslashes).
    Word { raw: String, text: String },
    /// One of `< > @ , : ;`.
    Special(char),
    /// A comment's content.
    Comment(String),
}

/// A token and whether white space (or a comment) came before it.
type Spaced = (Tok, bool);

fn tokens(s: &str) -> Vec<Spaced> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    let mut space = false;
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                chars.next();
                space = true;
            }
            '(' => {
                chars.next();
                let mut depth = 1;
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => text.extend(chars.next()),
                        '(' => {
                            depth += 1;
                            text.push(c);
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            text.push(c);
                        }
                        _ => text.push(c),
                    }
                }
                out.push((Tok::Comment(text), space));
                space = true;
            }
            '"' => {
                chars.next();
                let mut raw = String::from('"');
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    raw.push(c);
                    match c {
                        '\\' => {
                            if let Some(q) = chars.next() {
                                raw.push(q);
                                text.push(q);
                            }
                        }
                        '"' => break,
                        // RFC 5322 §3.2.4: a folded quoted string unfolds.
                        '\r' | '\n' => {}
                        _ => text.push(c),
                    }
                }
                out.push((Tok::Word { raw, text }, space));
                space = false;
            }
            '<' | '>' | '@' | ',' | ':' | ';' => {
                chars.next();
                out.push((Tok::Special(c), space));
                space = false;
            }
            ')' => {
                // A stray closing parenthesis: nothing to keep.
                chars.next();
                space = true;
            }
            _ => {
                let mut raw = String::new();
                if c == '[' {
                    // A domain literal, kept whole (its dots and colons included).
                    for c in chars.by_ref() {
                        raw.push(c);
                        if c == ']' {
                            break;
                        }
                    }
                } else {
                    while let Some(&c) = chars.peek() {
                        if " \t\r\n()\"<>@,:;[".contains(c) {
                            break;
                        }
                        raw.push(c);
                        chars.next();
                    }
                }
                out.push((
                    Tok::Word {
                        text: raw.clone(),
                        raw,
                    },
                    space,
                ));
                space = false;
            }
        }
    }
    out
}

/// The words of a phrase joined as they were written: one space where there was white space.
fn join(words: &[(&str, bool)]) -> String {
    let mut s = String::new();
    for (i, (w, space)) in words.iter().enumerate() {
        if i > 0 && *space {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

/// Reads one header value's address list.
pub fn address_list(value: &str) -> Vec<EnvelopeAddress> {
    let toks = tokens(value);
    let mut out: Vec<EnvelopeAddress> = Vec::new();
    let mut in_group = false;
    let mut i = 0;
    while i < toks.len() && out.len() < MAX_ADDRESSES {
        // The words before the next special, and the first comment among them.
        let mut words: Vec<(&str, &str, bool)> = Vec::new();
        let mut comment: Option<&str> = None;
        while let Some((t, space)) = toks.get(i) {
            match t {
                Tok::Word { raw, text } => words.push((raw, text, *space)),
                Tok::Comment(c) => {
                    comment.get_or_insert(c);
                }
                Tok::Special(_) => break,
            }
            i += 1;
        }
        let phrase = join(&words.iter().map(|w| (w.1, w.2)).collect::<Vec<_>>());
        let special = match toks.get(i) {
            Some((Tok::Special(c), _)) => Some(*c),
            _ => None,
        };
        i += 1;
        match special {
            Some(':') if !in_group => {
                // RFC 5322 §3.4 group: display-name ":" [group-list] ";".
                in_group = true;
                out.push(EnvelopeAddress {
                    name: None,
                    route: None,
                    mailbox: Some(phrase),
                    host: None,
                });
            }
            Some('<') => {
                let (mut a, next) = angle_addr(&toks, i);
                i = next;
                a.name = (!phrase.is_empty())
                    .then_some(phrase)
                    .or_else(|| comment.map(str::to_string))
                    .or_else(|| trailing_comment(&toks, &mut i));
                if a.mailbox.is_some() || a.host.is_some() {
                    out.push(a);
                }
                i = skip_to_separator(&toks, i);
            }
            Some('@') => {
                let local = concat(words.iter().map(|w| w.0));
                let (domain, after, next) = domain(&toks, i);
                i = next;
                let name = comment.map(str::to_string).or(after);
                out.push(EnvelopeAddress {
                    name,
                    route: None,
                    mailbox: Some(local),
                    host: Some(domain),
                });
                i = skip_to_separator(&toks, i);
            }
            _ => {
                // A bare phrase is an address without a domain: the host is empty, not
                // absent (an absent host marks a group).
                if !words.is_empty() {
                    let mailbox = join(&words.iter().map(|w| (w.0, w.2)).collect::<Vec<_>>());
                    out.push(EnvelopeAddress {
                        name: comment.map(str::to_string),
                        route: None,
                        mailbox: Some(mailbox),
                        host: Some(String::new()),
                    });
                }
                if special == Some(';') && in_group {
                    in_group = false;
                    out.push(group_end());
                }
            }
        }
        // A `;` right after a member closes its group.
        if in_group && matches!(toks.get(i), Some((Tok::Special(';'), _))) {
            i += 1;
            in_group = false;
            out.push(group_end());
        }
    }
    if in_group {
        // RFC 3501 §7.4.2: every group start has its end, even when the header lacks the `;`.
        out.push(group_end());
    }
    out
}

fn group_end() -> EnvelopeAddress {
    EnvelopeAddress {
        name: None,
        route: None,
        mailbox: None,
        host: None,
    }
}

fn concat<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<Vec<_>>().concat()
}

/// A comment right after an address, taken as its name when it has none.
fn trailing_comment(toks: &[Spaced], i: &mut usize) -> Option<String> {
    match toks.get(*i) {
        Some((Tok::Comment(c), _)) => {
            *i += 1;
            Some(c.clone())
        }
        _ => None,
    }
}

/// Skips whatever follows an address up to the `,` or `;` after it: the `,` is consumed, a
/// `;` left for the group to close.
fn skip_to_separator(toks: &[Spaced], mut i: usize) -> usize {
    while let Some((t, _)) = toks.get(i) {
        match t {
            Tok::Special(',') => return i + 1,
            Tok::Special(';') => return i,
            _ => i += 1,
        }
    }
    i
}

/// The domain of an addr-spec from `i`: words up to a special. Returns it, the first comment
/// met, and where it ends.
fn domain(toks: &[Spaced], mut i: usize) -> (String, Option<String>, usize) {
    let mut parts = Vec::new();
    let mut comment = None;
    while let Some((t, _)) = toks.get(i) {
        match t {
            Tok::Word { raw, .. } => parts.push(raw.as_str()),
            Tok::Comment(c) => {
                comment.get_or_insert_with(|| c.clone());
            }
            Tok::Special(_) => break,
        }
        i += 1;
    }
    (concat(parts.into_iter()), comment, i)
}

/// `angle-addr` after its `<` (at `i`): an optional obsolete route (`@a,@b:`), the addr-spec,
/// and the `>`. Returns the address (without name) and where it ends.
fn angle_addr(toks: &[Spaced], mut i: usize) -> (EnvelopeAddress, usize) {
    let mut a = group_end();
    // RFC 5322 §4.4 obs-route: obs-domain-list ":".
    if matches!(toks.get(i), Some((Tok::Special('@'), _))) {
        let start = i;
        let mut route = String::new();
        while let Some((t, _)) = toks.get(i) {
            match t {
                Tok::Special(':') => break,
                Tok::Special('>') => {
                    // No `:`: not a route after all.
                    route.clear();
                    i = start;
                    break;
                }
                Tok::Special(c) => route.push(*c),
                Tok::Word { raw, .. } => route.push_str(raw),
                Tok::Comment(_) => {}
            }
            i += 1;
        }
        if matches!(toks.get(i), Some((Tok::Special(':'), _))) {
            i += 1;
            a.route = (!route.is_empty()).then_some(route);
        }
    }
    let mut local = Vec::new();
    while let Some((t, _)) = toks.get(i) {
        match t {
            Tok::Word { raw, .. } => local.push(raw.as_str()),
            Tok::Comment(_) => {}
            Tok::Special(_) => break,
        }
        i += 1;
    }
    let mut host = None;
    if matches!(toks.get(i), Some((Tok::Special('@'), _))) {
        let (d, _, next) = domain(toks, i + 1);
        host = Some(d);
        i = next;
    }
    if matches!(toks.get(i), Some((Tok::Special('>'), _))) {
        i += 1;
    }
    let local = concat(local.into_iter());
    if !local.is_empty() || host.is_some() {
        a.mailbox = Some(local);
        a.host = Some(host.unwrap_or_default());
    }
    (a, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(name route mailbox host)` as strings, `-` for `None`.
    fn show(list: &[EnvelopeAddress]) -> Vec<String> {
        let f = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        list.iter()
            .map(|a| {
                format!(
                    "{}|{}|{}|{}",
                    f(&a.name),
                    f(&a.route),
                    f(&a.mailbox),
                    f(&a.host)
                )
            })
            .collect()
    }

    fn parse(s: &str) -> Vec<String> {
        show(&address_list(s))
    }

    #[test]
    fn mailboxes_of_rfc_5322_appendix_a() {
        // RFC 5322 §A.1.1 and §A.1.2.
        assert_eq!(
            parse("John Doe <jdoe@machine.example>"),
            ["John Doe|-|jdoe|machine.example"]
        );
        assert_eq!(
            parse("\"Joe Q. Public\" <john.q.public@example.com>"),
            ["Joe Q. Public|-|john.q.public|example.com"]
        );
        assert_eq!(
            parse("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"),
            [
                "Mary Smith|-|mary|x.test",
                "-|-|jdoe|example.org",
                "Who?|-|one|y.test"
            ]
        );
        assert_eq!(
            parse("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>"),
            [
                "-|-|boss|nil.test",
                "Giant; \"Big\" Box|-|sysservices|example.net"
            ]
        );
    }

    #[test]
    fn groups_have_start_and_end_markers() {
        // RFC 5322 §A.1.3.
        assert_eq!(
            parse("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"),
            [
                "-|-|A Group|-",
                "Ed Jones|-|c|a.test",
                "-|-|joe|where.test",
                "John|-|jdoe|one.test",
                "-|-|-|-"
            ]
        );
        assert_eq!(
            parse("Undisclosed recipients:;"),
            ["-|-|Undisclosed recipients|-", "-|-|-|-"]
        );
        assert_eq!(
            parse("undisclosed-recipients: ;"),
            ["-|-|undisclosed-recipients|-", "-|-|-|-"]
        );
        // Two groups and a plain address between them; a `,` after a `;`.
        assert_eq!(
            parse("team: a@b.example, c@d.example;, x@y.example, two: e@f.example;"),
            [
                "-|-|team|-",
                "-|-|a|b.example",
                "-|-|c|d.example",
                "-|-|-|-",
                "-|-|x|y.example",
                "-|-|two|-",
                "-|-|e|f.example",
                "-|-|-|-"
            ]
        );
        // A group left open is closed.
        assert_eq!(
            parse("open: a@b.example"),
            ["-|-|open|-", "-|-|a|b.example", "-|-|-|-"]
        );
    }

    #[test]
    fn obsolete_forms() {
        // RFC 5322 §A.6.1: comments, a route, an empty list element.
        assert_eq!(
            parse("Joe Q. Public <john.q.public@example.com>"),
            ["Joe Q. Public|-|john.q.public|example.com"]
        );
        assert_eq!(
            parse("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example"),
            [
                "Mary Smith|@node.test|mary|example.net",
                "-|-|jdoe|test.example"
            ]
        );
        assert_eq!(
            parse("<@a.test,@b.test:u@c.test>"),
            ["-|@a.test,@b.test|u|c.test"]
        );
        // RFC 5322 §A.5: comments everywhere; one after the address names it.
        assert_eq!(
            parse("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
            ["Pete|-|pete|silly.test"]
        );
        assert_eq!(
            parse("user@domain (Real Name)"),
            ["Real Name|-|user|domain"]
        );
    }

    #[test]
    fn names_as_written_and_missing_parts() {
        // Encoded words (RFC 2047) are not decoded.
        assert_eq!(
            parse("=?utf-8?q?Andr=C3=A9?= Pirard <pirard@vm1.ulg.ac.be>"),
            ["=?utf-8?q?Andr=C3=A9?= Pirard|-|pirard|vm1.ulg.ac.be"]
        );
        // A comma inside quotes is part of the name.
        assert_eq!(
            parse("\"Doe, Jane\" <jane@example.com>"),
            ["Doe, Jane|-|jane|example.com"]
        );
        // No domain: an empty host, never a group marker.
        assert_eq!(parse("postmaster"), ["-|-|postmaster|"]);
        assert_eq!(parse("Local <root>"), ["Local|-|root|"]);
        // Quoted local parts stay quoted; domain literals stay whole.
        assert_eq!(
            parse("\"john doe\"@example.com, x@[192.0.2.1]"),
            ["-|-|\"john doe\"|example.com", "-|-|x|[192.0.2.1]"]
        );
        // Nothing at all gives nothing; `<>` names nobody.
        assert!(parse("").is_empty());
        assert!(parse("  , ,").is_empty());
        assert!(parse("<>").is_empty());
    }

    #[test]
    fn bounded() {
        let many = "a@b.example, ".repeat(5000);
        assert_eq!(address_list(&many).len(), MAX_ADDRESSES);
    }
}

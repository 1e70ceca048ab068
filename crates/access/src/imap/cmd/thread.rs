//! THREAD (RFC 5256 §3): the messages a search finds, grouped into threads by ORDEREDSUBJECT
//! (base subject, then sent date) or REFERENCES (RFC 5256 §2.2: message-id links, dummy
//! parents for messages that are not here, pruning, grouping of roots by base subject, every
//! set of siblings by sent date). The algorithms are pure functions over [`Msg`], so the
//! RFC's rules are tested without a mailbox.

use std::collections::HashMap;
use std::io;

use crate::imap::parse::search::Key;
use crate::imap::parse::sort::Algorithm;
use crate::imap::session::{Outcome, Session};

use super::subject::BaseSubject;

/// One message as threading sees it.
#[derive(Debug, Clone, Default)]
pub struct Msg {
    /// What the answer names it by: its number or its UID.
    pub num: u32,
    /// Its message sequence number: ties of the sent date go by it (RFC 5256 §2.2).
    pub msn: u32,
    /// The sent date, or the internal date without one.
    pub date: i64,
    pub subject: BaseSubject,
    /// The Message-ID, normalised; `None` without a usable one.
    pub id: Option<String>,
    /// The References ids in order, or the first In-Reply-To id without References.
    pub refs: Vec<String>,
}

/// A thread: a message (or a dummy standing for several, `num` = `None`) and its replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub num: Option<u32>,
    pub children: Vec<Node>,
}

/// A message id without its angle brackets, lower case; `None` if nothing is left.
pub fn normalise_id(s: &str) -> Option<String> {
    let t = s
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!t.is_empty()).then(|| t.to_lowercase())
}

/// The first `<id>` of an In-Reply-To value (which may carry phrases and comments).
pub fn first_id(s: &str) -> Option<String> {
    let start = s.find('<')?;
    let end = start + s[start..].find('>')?;
    normalise_id(&s[start..=end])
}

/// RFC 5256 §2.1 ORDEREDSUBJECT: by base subject, each subject's earliest message the parent
/// of the others; threads in the order of their first message.
pub fn ordered_subject(msgs: &[Msg]) -> Vec<Node> {
    let mut order: Vec<&Msg> = msgs.iter().collect();
    order.sort_by_key(|m| (m.date, m.msn));
    let mut threads: Vec<Node> = Vec::new();
    let mut by_subject: HashMap<&str, usize> = HashMap::new();
    for m in order {
        let leaf = Node {
            num: Some(m.num),
            children: Vec::new(),
        };
        match by_subject.get(m.subject.text.as_str()) {
            Some(&t) => threads[t].children.push(leaf),
            None => {
                by_subject.insert(&m.subject.text, threads.len());
                threads.push(leaf);
            }
        }
    }
    threads
}

/// A container of the REFERENCES algorithm: a message (index into the input) or a dummy.
#[derive(Debug, Default)]
struct Container {
    msg: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// The containers and the message-id table of RFC 5256 §2.2 step 1.
struct Links {
    c: Vec<Container>,
    ids: HashMap<String, usize>,
}

impl Links {
    fn container(&mut self, id: &str) -> usize {
        if let Some(&i) = self.ids.get(id) {
            return i;
        }
        self.c.push(Container::default());
        self.ids.insert(id.to_string(), self.c.len() - 1);
        self.c.len() - 1
    }

    /// True if `a` is `b` or one of its ancestors.
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let mut at = Some(b);
        let mut steps = 0;
        while let Some(x) = at {
            if x == a {
                return true;
            }
            at = self.c[x].parent;
            steps += 1;
            if steps > self.c.len() {
                return true;
            }
        }
        false
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.c[child].parent = Some(parent);
        self.c[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.c[child].parent.take() {
            self.c[p].children.retain(|&x| x != child);
        }
    }
}

/// RFC 5256 §2.2 REFERENCES.
pub fn references(msgs: &[Msg]) -> Vec<Node> {
    let mut l = Links {
        c: Vec::with_capacity(msgs.len()),
        ids: HashMap::new(),
    };
    // (1) Link messages and the ids they reference.
    for (i, m) in msgs.iter().enumerate() {
        // (1A) A missing or duplicate Message-ID gets a container of its own.
        let me = match &m.id {
            Some(id) if l.ids.get(id).is_none_or(|&c| l.c[c].msg.is_none()) => l.container(id),
            _ => {
                l.c.push(Container::default());
                l.c.len() - 1
            }
        };
        l.c[me].msg = Some(i);
        let refs: Vec<usize> = m.refs.iter().map(|r| l.container(r)).collect();
        // Each reference the parent of the next, unless linked already or a loop.
        for w in refs.windows(2) {
            let (p, c) = (w[0], w[1]);
            if l.c[c].parent.is_none() && !l.is_ancestor(c, p) {
                l.link(p, c);
            }
        }
        // (1B) The last reference is the parent: it replaces a parent set from another
        // message's (maybe truncated) References.
        l.unlink(me);
        if let Some(&p) = refs.last()
            && !l.is_ancestor(me, p)
        {
            l.link(p, me);
        }
    }
    // (2) The root set; (3) without empty dummies, and children of dummies promoted.
    let roots: Vec<usize> = (0..l.c.len())
        .filter(|&i| l.c[i].parent.is_none())
        .collect();
    let mut tree = prune(&l.c, &roots, true);
    // (4) Roots by sent date (a dummy by its first child's).
    sort_siblings(msgs, &mut tree);
    // (5) Roots with the same base subject together.
    let tree = group_by_subject(msgs, tree);
    // (6) Every set of siblings by sent date, the deepest first.
    let mut tree = tree;
    sort_siblings(msgs, &mut tree);
    tree.into_iter().map(|t| t.into_node(msgs)).collect()
}

/// A tree during the algorithm: containers refer to messages by index.
#[derive(Debug)]
struct Tree {
    msg: Option<usize>,
    children: Vec<Tree>,
}

impl Tree {
    /// The message that stands for this tree: its own, or a dummy's first child's.
    fn head(&self) -> Option<usize> {
        self.msg
            .or_else(|| self.children.first().and_then(Tree::head))
    }

    fn into_node(self, msgs: &[Msg]) -> Node {
        Node {
            num: self.msg.map(|m| msgs[m].num),
            children: self
                .children
                .into_iter()
                .map(|c| c.into_node(msgs))
                .collect(),
        }
    }
}

/// RFC 5256 §2.2 step 3.
fn prune(c: &[Container], level: &[usize], root: bool) -> Vec<Tree> {
    let mut out = Vec::new();
    for &i in level {
        let children = prune(c, &c[i].children, false);
        match (c[i].msg, children.len()) {
            (None, 0) => {}
            // Promote a dummy's children, but not to the root unless there is only one.
            (None, n) if !root || n == 1 => out.extend(children),
            (msg, _) => out.push(Tree { msg, children }),
        }
    }
    out
}

fn sort_siblings(msgs: &[Msg], level: &mut [Tree]) {
    for t in level.iter_mut() {
        sort_siblings(msgs, &mut t.children);
    }
    let key = |t: &Tree| t.head().map(|m| (msgs[m].date, msgs[m].msn));
    level.sort_by_key(key);
}

/// RFC 5256 §2.2 step 5.
fn group_by_subject(msgs: &[Msg], roots: Vec<Tree>) -> Vec<Tree> {
    let subject = |t: &Tree| t.head().map(|m| &msgs[m].subject);
    let reply = |t: &Tree| subject(t).is_some_and(|s| s.reply);
    // (5B) One root per base subject: a dummy before a message, a message before a reply.
    let mut table: HashMap<&str, usize> = HashMap::new();
    for (i, t) in roots.iter().enumerate() {
        let Some(s) = subject(t).filter(|s| !s.text.is_empty()) else {
            continue;
        };
        match table.get(s.text.as_str()) {
            None => {
                table.insert(&s.text, i);
            }
            Some(&held) => {
                let h = &roots[held];
                if h.msg.is_some() && (t.msg.is_none() || (reply(h) && !reply(t))) {
                    table.insert(&s.text, i);
                }
            }
        }
    }
    // (5C) Merge every other root into the one the table holds.
    let mut slots: Vec<Option<Tree>> = roots.into_iter().map(Some).collect();
    for i in 0..slots.len() {
        let Some(text) = slots[i]
            .as_ref()
            .and_then(subject)
            .map(|s| s.text.clone())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let Some(&held) = table.get(text.as_str()) else {
            continue;
        };
        if held == i {
            continue;
        }
        let (Some(cur), Some(tab)) = (slots[i].take(), slots[held].take()) else {
            continue;
        };
        let merged = match (tab.msg.is_none(), cur.msg.is_none()) {
            // (a) Both dummies: one dummy with all the children.
            (true, true) => {
                let mut tab = tab;
                tab.children.extend(cur.children);
                tab
            }
            // (b) Into the dummy.
            (true, false) => {
                let mut tab = tab;
                tab.children.push(cur);
                tab
            }
            // (c) A reply under the message it replies to.
            (false, _) if reply(&cur) && !reply(&tab) => {
                let mut tab = tab;
                tab.children.push(cur);
                tab
            }
            // (d) A new dummy over both.
            _ => Tree {
                msg: None,
                children: vec![tab, cur],
            },
        };
        slots[held] = Some(merged);
    }
    slots.into_iter().flatten().collect()
}

/// RFC 5256 §4 `thread-list`: `(3 4 (5)(6))`, a dummy as `((1)(2))`.
pub fn render(threads: &[Node]) -> String {
    fn members(n: &Node, out: &mut String) {
        let mut sep = "";
        if let Some(num) = n.num {
            out.push_str(&num.to_string());
            sep = " ";
        }
        match n.children.as_slice() {
            [] => {}
            [one] if n.num.is_some() => {
                out.push_str(sep);
                members(one, out);
            }
            many => {
                out.push_str(sep);
                for c in many {
                    out.push('(');
                    members(c, out);
                    out.push(')');
                }
            }
        }
    }
    let mut out = String::new();
    for t in threads {
        out.push('(');
        members(t, &mut out);
        out.push(')');
    }
    out
}

/// Applies THREAD.
#[tracing::instrument(skip(s, key))]
pub async fn run(
    s: &mut Session,
    by_uid: bool,
    algorithm: Algorithm,
    key: Key,
) -> io::Result<Outcome> {
    let items = match super::sort::items(s, by_uid, key).await {
        Ok(v) => v,
        Err(o) => return Ok(o),
    };
    let msgs: Vec<Msg> = items.into_iter().map(|i| i.thread).collect();
    let threads = match algorithm {
        Algorithm::OrderedSubject => ordered_subject(&msgs),
        Algorithm::References => references(&msgs),
    };
    let line = format!("* THREAD {}", render(&threads));
    s.io.line(line.trim_end());
    Ok(Outcome::Ok("THREAD completed".into()))
}

#[cfg(test)]
#[path = "thread_tests.rs"]
mod tests;

//! Writes a parsed IMAP command back as a client would send it, so that a parse can be checked
//! against a parse of its own rendering. Strings go through the server's renderer
//! (`marque_access::imap::render`), so its quoting is checked against the parser too.

use marque_access::imap::parse::command::{
    AppendData, CatPart, Command, ListOptions, Op, StatusItem, StoreMode,
};
use marque_access::imap::parse::fetch::{FetchAtt, Section, SectionText};
use marque_access::imap::parse::search::{Key, Return, Search};
use marque_access::imap::parse::seq::{SeqNum, SeqSet};
use marque_access::imap::parse::sort::{Algorithm, SortKey};
use marque_access::imap::parse::utf7;
use marque_access::imap::render;

/// How to write keywords and strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Upper-case keywords; strings quoted or literal as the server writes them.
    Plain,
    /// Keywords in alternating case (`HeAdEr.FiElDs`); every string a literal.
    Literals,
}

struct Out<'a> {
    buf: Vec<u8>,
    style: Style,
    utf8_names: bool,
    /// The command's own bytes (APPEND's message is a range of them).
    source: &'a [u8],
}

impl Out<'_> {
    fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A keyword (command name, search key, fetch attribute...), in the style's case.
    fn kw(&mut self, k: &str) {
        match self.style {
            Style::Plain => self.raw(&k.to_ascii_uppercase()),
            Style::Literals => {
                let mixed: String = k
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect();
                self.raw(&mixed);
            }
        }
    }

    fn sp(&mut self) {
        self.buf.push(b' ');
    }

    fn string(&mut self, s: &[u8]) {
        match self.style {
            Style::Plain => render::string(&mut self.buf, s),
            Style::Literals => render::literal(&mut self.buf, s),
        }
    }

    fn mailbox(&mut self, name: &str) {
        match self.style {
            Style::Plain => render::mailbox(&mut self.buf, name, self.utf8_names),
            Style::Literals if self.utf8_names => render::literal(&mut self.buf, name.as_bytes()),
            Style::Literals => render::literal(&mut self.buf, utf7::encode(name).as_bytes()),
        }
    }

    /// Items separated by spaces, in parentheses.
    fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        self.buf.push(b'(');
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            item(self, x);
        }
        self.buf.push(b')');
    }

    fn seq(&mut self, set: &SeqSet) {
        let one = |n: SeqNum| match n {
            SeqNum::Num(n) => n.to_string(),
            SeqNum::Star => "*".into(),
        };
        let text = match set {
            SeqSet::Saved => "$".to_string(),
            SeqSet::Ranges(r) => r
                .iter()
                .map(|&(a, b)| {
                    if a == b {
                        one(a)
                    } else {
                        format!("{}:{}", one(a), one(b))
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        self.raw(&text);
    }
}

/// `command` written back with a CRLF; `source` is the buffer it was parsed from.
pub fn command(cmd: &Command, source: &[u8], utf8_names: bool, style: Style) -> Vec<u8> {
    let mut out = Out {
        buf: Vec::new(),
        style,
        utf8_names,
        source,
    };
    out.raw(&cmd.tag);
    out.sp();
    op(&mut out, &cmd.op);
    out.raw("\r\n");
    out.buf
}

fn uid_prefix(out: &mut Out<'_>, uid: bool) {
    if uid {
        out.kw("UID");
        out.sp();
    }
}

fn op(out: &mut Out<'_>, op: &Op) {
    match op {
        Op::Capability
        | Op::Noop
        | Op::Logout
        | Op::StartTls
        | Op::Check
        | Op::Close
        | Op::Unselect
        | Op::Idle
        | Op::Namespace => out.kw(op.name()),
        Op::Id => out.kw("ID NIL"),
        Op::Login { user, password } => {
            out.kw("LOGIN");
            out.sp();
            out.string(user.as_bytes());
            out.sp();
            out.string(password.as_bytes());
        }
        Op::Authenticate { mechanism, initial } => {
            out.kw("AUTHENTICATE");
            out.sp();
            out.raw(mechanism);
            if let Some(i) = initial {
                out.sp();
                out.raw(i);
            }
        }
        Op::Enable(caps) => {
            out.kw("ENABLE");
            for c in caps {
                out.sp();
                out.raw(c);
            }
        }
        Op::Select {
            mailbox,
            read_only,
            condstore,
            qresync,
        } => {
            out.kw(if *read_only { "EXAMINE" } else { "SELECT" });
            out.sp();
            out.mailbox(mailbox);
            let mut params = Vec::new();
            if *condstore {
                params.push(None);
            }
            if let Some(q) = qresync {
                params.push(Some(q));
            }
            if !params.is_empty() {
                out.sp();
                out.list(&params, |out, p| match p {
                    None => out.kw("CONDSTORE"),
                    Some(q) => {
                        out.kw("QRESYNC");
                        out.raw(&format!(" ({} {}", q.uidvalidity, q.modseq));
                        if let Some(known) = &q.known {
                            out.sp();
                            out.seq(known);
                        }
                        out.raw(")");
                    }
                });
            }
        }
        Op::Create {
            mailbox,
            special_use,
        } => {
            out.kw("CREATE");
            out.sp();
            out.mailbox(mailbox);
            if let Some(u) = special_use {
                out.raw(" (");
                out.kw("USE");
                out.raw(&format!(" ({u}))"));
            }
        }
        Op::Delete(m) => named(out, "DELETE", m),
        Op::Subscribe(m) => named(out, "SUBSCRIBE", m),
        Op::Unsubscribe(m) => named(out, "UNSUBSCRIBE", m),
        Op::GetQuotaRoot(m) => named(out, "GETQUOTAROOT", m),
        Op::GetQuota(root) => {
            out.kw("GETQUOTA");
            out.sp();
            out.string(root.as_bytes());
        }
        Op::Rename { from, to } => {
            named(out, "RENAME", from);
            out.sp();
            out.mailbox(to);
        }
        Op::List {
            reference,
            patterns,
            options,
        } => list(out, reference, patterns, options),
        Op::Status { mailbox, items } => {
            named(out, "STATUS", mailbox);
            out.sp();
            out.list(items, |out, i| out.kw(status_item(*i)));
        }
        Op::Append { mailbox, messages } => {
            named(out, "APPEND", mailbox);
            for m in messages {
                if !m.flags.is_empty() {
                    out.sp();
                    out.list(&m.flags, |out, f| out.raw(f));
                }
                if let Some(d) = m.date {
                    out.sp();
                    out.raw(&date_time(d.secs, d.zone));
                }
                out.sp();
                match &m.data {
                    AppendData::Literal(range) => {
                        let message = out.source[range.clone()].to_vec();
                        render::literal(&mut out.buf, &message);
                    }
                    AppendData::Catenate(parts) => {
                        out.kw("CATENATE");
                        out.sp();
                        out.list(parts, |out, p| match p {
                            CatPart::Text(range) => {
                                out.kw("TEXT");
                                out.sp();
                                let text = out.source[range.clone()].to_vec();
                                render::literal(&mut out.buf, &text);
                            }
                            CatPart::Url(url) => {
                                out.kw("URL");
                                out.sp();
                                out.string(url.as_bytes());
                            }
                        });
                    }
                }
            }
        }
        Op::Expunge { uids } => {
            uid_prefix(out, uids.is_some());
            out.kw("EXPUNGE");
            if let Some(set) = uids {
                out.sp();
                out.seq(set);
            }
        }
        Op::Fetch {
            uid,
            set,
            atts,
            changed_since,
            vanished,
        } => {
            uid_prefix(out, *uid);
            out.kw("FETCH");
            out.sp();
            out.seq(set);
            out.sp();
            out.list(atts, fetch_att);
            if let Some(n) = changed_since {
                out.raw(" (");
                out.kw("CHANGEDSINCE");
                out.raw(&format!(" {n}"));
                if *vanished {
                    out.sp();
                    out.kw("VANISHED");
                }
                out.raw(")");
            }
        }
        Op::Store {
            uid,
            set,
            mode,
            silent,
            flags,
            unchanged_since,
        } => {
            uid_prefix(out, *uid);
            out.kw("STORE");
            out.sp();
            out.seq(set);
            out.sp();
            if let Some(n) = unchanged_since {
                out.raw("(");
                out.kw("UNCHANGEDSINCE");
                out.raw(&format!(" {n}) "));
            }
            out.raw(match mode {
                StoreMode::Add => "+",
                StoreMode::Remove => "-",
                StoreMode::Replace => "",
            });
            out.kw(if *silent { "FLAGS.SILENT" } else { "FLAGS" });
            out.sp();
            out.list(flags, |out, f| out.raw(f));
        }
        Op::Copy {
            uid,
            set,
            mailbox,
            remove,
        } => {
            uid_prefix(out, *uid);
            out.kw(if *remove { "MOVE" } else { "COPY" });
            out.sp();
            out.seq(set);
            out.sp();
            out.mailbox(mailbox);
        }
        Op::Search { uid, search } => {
            uid_prefix(out, *uid);
            out.kw("SEARCH");
            out.sp();
            search_args(out, search);
        }
        Op::Sort {
            uid,
            ret,
            criteria,
            key,
        } => {
            uid_prefix(out, *uid);
            out.kw("SORT");
            out.sp();
            if let Some(r) = ret {
                return_options(out, r);
            }
            out.list(criteria, |out, c| {
                if c.reverse {
                    out.kw("REVERSE");
                    out.sp();
                }
                out.kw(sort_key(c.key));
            });
            out.sp();
            out.kw("UTF-8");
            out.sp();
            top_key(out, key);
        }
        Op::Thread {
            uid,
            algorithm,
            key,
        } => {
            uid_prefix(out, *uid);
            out.kw("THREAD");
            out.sp();
            out.kw(match algorithm {
                Algorithm::OrderedSubject => "ORDEREDSUBJECT",
                Algorithm::References => "REFERENCES",
            });
            out.sp();
            out.kw("US-ASCII");
            out.sp();
            top_key(out, key);
        }
        Op::Compress(alg) => {
            out.kw("COMPRESS");
            out.sp();
            out.raw(alg);
        }
    }
}

fn named(out: &mut Out<'_>, name: &str, mailbox: &str) {
    out.kw(name);
    out.sp();
    out.mailbox(mailbox);
}

fn list(out: &mut Out<'_>, reference: &str, patterns: &[String], options: &ListOptions) {
    if options.lsub {
        named(out, "LSUB", reference);
        out.sp();
        out.mailbox(&patterns[0]);
        return;
    }
    out.kw("LIST");
    out.sp();
    let mut selection = Vec::new();
    if options.subscribed {
        selection.push("SUBSCRIBED");
    }
    if options.special_use_only {
        selection.push("SPECIAL-USE");
    }
    if options.recursive_match {
        selection.push("RECURSIVEMATCH");
    }
    if !selection.is_empty() {
        out.list(&selection, |out, s| out.kw(s));
        out.sp();
    }
    out.mailbox(reference);
    out.sp();
    out.list(patterns, |out, p| out.mailbox(p));
    // The SUBSCRIBED selection option implies the return option of the same name.
    let return_subscribed = options.return_subscribed && !options.subscribed;
    if !options.status.is_empty() || return_subscribed {
        out.sp();
        out.kw("RETURN");
        out.raw(" (");
        if return_subscribed {
            out.kw("SUBSCRIBED");
        }
        if !options.status.is_empty() {
            if return_subscribed {
                out.sp();
            }
            out.kw("STATUS");
            out.sp();
            out.list(&options.status, |out, i| out.kw(status_item(*i)));
        }
        out.raw(")");
    }
}

fn status_item(i: StatusItem) -> &'static str {
    match i {
        StatusItem::Messages => "MESSAGES",
        StatusItem::Recent => "RECENT",
        StatusItem::UidNext => "UIDNEXT",
        StatusItem::UidValidity => "UIDVALIDITY",
        StatusItem::Unseen => "UNSEEN",
        StatusItem::HighestModSeq => "HIGHESTMODSEQ",
        StatusItem::Size => "SIZE",
        StatusItem::Deleted => "DELETED",
    }
}

fn sort_key(k: SortKey) -> &'static str {
    match k {
        SortKey::Arrival => "ARRIVAL",
        SortKey::Cc => "CC",
        SortKey::Date => "DATE",
        SortKey::DisplayFrom => "DISPLAYFROM",
        SortKey::DisplayTo => "DISPLAYTO",
        SortKey::From => "FROM",
        SortKey::Size => "SIZE",
        SortKey::Subject => "SUBJECT",
        SortKey::To => "TO",
    }
}

fn parts(p: &[u32]) -> String {
    p.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
}

fn partial(out: &mut Out<'_>, p: Option<(u32, u32)>) {
    if let Some((o, l)) = p {
        out.raw(&format!("<{o}.{l}>"));
    }
}

fn fetch_att(out: &mut Out<'_>, a: &FetchAtt) {
    let simple = match a {
        FetchAtt::Uid => "UID",
        FetchAtt::Flags => "FLAGS",
        FetchAtt::InternalDate => "INTERNALDATE",
        FetchAtt::Rfc822Size => "RFC822.SIZE",
        FetchAtt::Envelope => "ENVELOPE",
        FetchAtt::BodyStructure => "BODYSTRUCTURE",
        FetchAtt::Body => "BODY",
        FetchAtt::Rfc822 => "RFC822",
        FetchAtt::Rfc822Header => "RFC822.HEADER",
        FetchAtt::Rfc822Text => "RFC822.TEXT",
        FetchAtt::ModSeq => "MODSEQ",
        FetchAtt::SaveDate => "SAVEDATE",
        FetchAtt::Preview => "PREVIEW",
        FetchAtt::Section {
            peek,
            section,
            partial: p,
        } => {
            out.kw(if *peek { "BODY.PEEK[" } else { "BODY[" });
            section_spec(out, section);
            out.raw("]");
            partial(out, *p);
            return;
        }
        FetchAtt::Binary {
            peek,
            part,
            partial: p,
        } => {
            out.kw(if *peek { "BINARY.PEEK[" } else { "BINARY[" });
            out.raw(&parts(part));
            out.raw("]");
            partial(out, *p);
            return;
        }
        FetchAtt::BinarySize { part } => {
            out.kw("BINARY.SIZE[");
            out.raw(&parts(part));
            out.raw("]");
            return;
        }
    };
    out.kw(simple);
}

fn section_spec(out: &mut Out<'_>, s: &Section) {
    out.raw(&parts(&s.part));
    let Some(text) = &s.text else { return };
    if !s.part.is_empty() {
        out.raw(".");
    }
    match text {
        SectionText::Header => out.kw("HEADER"),
        SectionText::Text => out.kw("TEXT"),
        SectionText::Mime => out.kw("MIME"),
        SectionText::HeaderFields { not, fields } => {
            out.kw(if *not {
                "HEADER.FIELDS.NOT"
            } else {
                "HEADER.FIELDS"
            });
            out.sp();
            out.list(fields, |out, f| out.string(f.as_bytes()));
        }
    }
}

fn search_args(out: &mut Out<'_>, s: &Search) {
    if let Some(r) = &s.ret {
        return_options(out, r);
    }
    top_key(out, &s.key);
}

/// `RETURN (options) ` of SEARCH and SORT.
fn return_options(out: &mut Out<'_>, r: &Return) {
    let opts: Vec<&str> = [
        (r.min, "MIN"),
        (r.max, "MAX"),
        (r.all, "ALL"),
        (r.count, "COUNT"),
        (r.save, "SAVE"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    out.kw("RETURN");
    out.sp();
    out.list(&opts, |out, o| out.kw(o));
    out.sp();
}

/// The keys of a whole SEARCH, SORT or THREAD: a conjunction of two or more keys is written
/// without parentheses, as it was read, so that it nests no deeper than the original.
fn top_key(out: &mut Out<'_>, k: &Key) {
    match k {
        Key::And(keys) if keys.len() > 1 => {
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.sp();
                }
                key(out, k);
            }
        }
        _ => key(out, k),
    }
}

fn key(out: &mut Out<'_>, k: &Key) {
    let word_then_string = |out: &mut Out<'_>, w: &str, s: &str| {
        out.kw(w);
        out.sp();
        out.string(s.as_bytes());
    };
    match k {
        Key::All => out.kw("ALL"),
        Key::New => out.kw("NEW"),
        Key::Old => out.kw("OLD"),
        Key::Recent => out.kw("RECENT"),
        Key::Flag(name, set) => {
            let word = name.trim_start_matches('\\').to_ascii_uppercase();
            out.kw(&if *set { word } else { format!("UN{word}") });
        }
        Key::Keyword(k, set) => {
            out.kw(if *set { "KEYWORD" } else { "UNKEYWORD" });
            out.sp();
            out.raw(k);
        }
        Key::Seq(set) => out.seq(set),
        Key::Uid(set) => {
            out.kw("UID");
            out.sp();
            out.seq(set);
        }
        Key::Header(name, value) => {
            if ["FROM", "TO", "CC", "BCC", "SUBJECT"].contains(&name.as_str()) {
                word_then_string(out, name, value);
            } else {
                word_then_string(out, "HEADER", name);
                out.sp();
                out.string(value.as_bytes());
            }
        }
        Key::Body(s) => word_then_string(out, "BODY", s),
        Key::Text(s) => word_then_string(out, "TEXT", s),
        Key::Before(d) => dated(out, "BEFORE", *d),
        Key::On(d) => dated(out, "ON", *d),
        Key::Since(d) => dated(out, "SINCE", *d),
        Key::SentBefore(d) => dated(out, "SENTBEFORE", *d),
        Key::SentOn(d) => dated(out, "SENTON", *d),
        Key::SentSince(d) => dated(out, "SENTSINCE", *d),
        Key::SavedBefore(d) => dated(out, "SAVEDBEFORE", *d),
        Key::SavedOn(d) => dated(out, "SAVEDON", *d),
        Key::SavedSince(d) => dated(out, "SAVEDSINCE", *d),
        Key::SaveDateSupported => out.kw("SAVEDATESUPPORTED"),
        Key::Older(n) => numbered(out, "OLDER", u64::from(*n)),
        Key::Younger(n) => numbered(out, "YOUNGER", u64::from(*n)),
        Key::Larger(n) => numbered(out, "LARGER", *n),
        Key::Smaller(n) => numbered(out, "SMALLER", *n),
        Key::ModSeq(n) => numbered(out, "MODSEQ", *n),
        Key::Not(k) => {
            out.kw("NOT");
            out.sp();
            key(out, k);
        }
        Key::Or(a, b) => {
            out.kw("OR");
            out.sp();
            key(out, a);
            out.sp();
            key(out, b);
        }
        Key::And(keys) => out.list(keys, key),
    }
}

fn numbered(out: &mut Out<'_>, word: &str, n: u64) {
    out.kw(word);
    out.raw(&format!(" {n}"));
}

fn utc(secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or_else(|_| panic!("parsed date {secs} is outside the calendar the server uses"))
}

/// `d-Mon-yyyy`, as SEARCH takes it.
fn dated(out: &mut Out<'_>, word: &str, secs: i64) {
    let t = utc(secs);
    out.kw(word);
    out.raw(&format!(
        " {}-{}-{}",
        t.day(),
        render::MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year()
    ));
}

/// `"dd-Mon-yyyy hh:mm:ss +zzzz"`, as APPEND takes it: the server's own INTERNALDATE form,
/// in the zone the date was given in.
fn date_time(secs: i64, zone: i16) -> String {
    let _ = utc(secs); // panics for a date the parser should not have produced
    render::date_time_in(secs, zone)
}

//! The command grammar (RFC 3501 §6, RFC 9051 §6 and the extensions we announce): one tagged
//! command into an [`Op`] with its arguments.

pub use super::append::{AppendData, AppendMessage, CatPart};
use super::fetch::FetchAtt;
use super::search::Search;
use super::seq::SeqSet;
use super::{PResult, ParseError, Parser};

/// How STORE combines flags (RFC 3501 §6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Add,
    Remove,
    Replace,
}

/// STATUS data items (RFC 3501 §6.3.10, RFC 7162, RFC 8438).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    HighestModSeq,
    Size,
    /// RFC 9051 §6.3.11.
    Deleted,
}

/// LIST options (RFC 5258 selection and return options, RFC 6154, RFC 5819).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `LSUB`, or LIST with the `SUBSCRIBED` selection option.
    pub subscribed: bool,
    /// `SPECIAL-USE` selection option: only special-use folders.
    pub special_use_only: bool,
    /// `RETURN (STATUS (...))`.
    pub status: Vec<StatusItem>,
    /// `LSUB` rather than LIST: answers as `* LSUB`.
    pub lsub: bool,
    /// The `RECURSIVEMATCH` selection option (RFC 5258 §3.1): parents of matching names get
    /// `CHILDINFO`.
    pub recursive_match: bool,
    /// `RETURN (SUBSCRIBED)` (RFC 5258 §3.2), implied by the `SUBSCRIBED` selection option.
    pub return_subscribed: bool,
}

/// An APPEND `date-time` (RFC 3501 §9): the instant, and the zone it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since the epoch.
    pub secs: i64,
    /// Minutes east of UTC (`-0700` is -420).
    pub zone: i16,
}

impl DateTime {
    /// Parses `"dd-Mon-yyyy hh:mm:ss +zzzz"`.
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<DateTime> {
        let raw = p.quoted()?;
        let text = String::from_utf8(raw).map_err(|_| super::ParseError("bad date-time".into()))?;
        let bad = || super::ParseError(format!("bad date-time {text:?}"));
        let secs = super::parse_date_time(&text).ok_or_else(bad)?;
        // The zone was checked by `parse_date_time`: `+hhmm` or `-hhmm` at the end.
        let zone = text.trim_end().rsplit(' ').next().ok_or_else(bad)?;
        let hours: i16 = zone
            .get(1..3)
            .and_then(|h| h.parse().ok())
            .ok_or_else(bad)?;
        // `hhmm`: minutes past 59 are no zone.
        let minutes: i16 = zone
            .get(3..5)
            .and_then(|m| m.parse().ok())
            .filter(|m| *m < 60)
            .ok_or_else(bad)?;
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        Ok(DateTime {
            secs,
            zone: sign * (hours * 60 + minutes),
        })
    }
}

/// A command with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Capability,
    Noop,
    Logout,
    StartTls,
    Login {
        user: String,
        password: String,
    },
    Authenticate {
        mechanism: String,
        initial: Option<String>,
    },
    Enable(Vec<String>),
    Id,
    Namespace,
    Select {
        mailbox: String,
        read_only: bool,
        condstore: bool,
        qresync: Option<Qresync>,
    },
    Create {
        mailbox: String,
        special_use: Option<String>,
    },
    Delete(String),
    Rename {
        from: String,
        to: String,
    },
    Subscribe(String),
    Unsubscribe(String),
    List {
        reference: String,
        patterns: Vec<String>,
        options: ListOptions,
    },
    Status {
        mailbox: String,
        items: Vec<StatusItem>,
    },
    /// APPEND with one message, or several (MULTIAPPEND, RFC 3502).
    Append {
        mailbox: String,
        messages: Vec<AppendMessage>,
    },
    Check,
    Close,
    Unselect,
    Expunge {
        uids: Option<SeqSet>,
    },
    Idle,
    Fetch {
        uid: bool,
        set: SeqSet,
        atts: Vec<FetchAtt>,
        changed_since: Option<u64>,
        vanished: bool,
    },
    Store {
        uid: bool,
        set: SeqSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: SeqSet,
        mailbox: String,
        remove: bool,
    },
    Search {
        uid: bool,
        search: Search,
    },
    /// RFC 5256 §3.
    Sort {
        uid: bool,
        /// ESORT's RETURN options (RFC 5267 §3): answer with ESEARCH.
        ret: Option<super::search::Return>,
        criteria: Vec<super::sort::Criterion>,
        key: super::search::Key,
    },
    /// RFC 5256 §3.
    Thread {
        uid: bool,
        algorithm: super::sort::Algorithm,
        key: super::search::Key,
    },
    /// RFC 4978 §3.
    Compress(String),
    /// RFC 9208 §4.3.
    GetQuotaRoot(String),
    /// RFC 9208 §4.2.
    GetQuota(String),
}

impl Op {
    /// The command's name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Capability => "CAPABILITY",
            Op::Noop => "NOOP",
            Op::Logout => "LOGOUT",
            Op::StartTls => "STARTTLS",
            Op::Login { .. } => "LOGIN",
            Op::Authenticate { .. } => "AUTHENTICATE",
            Op::Enable(_) => "ENABLE",
            Op::Id => "ID",
            Op::Namespace => "NAMESPACE",
            Op::Select {
                read_only: false, ..
            } => "SELECT",
            Op::Select { .. } => "EXAMINE",
            Op::Create { .. } => "CREATE",
            Op::Delete(_) => "DELETE",
            Op::Rename { .. } => "RENAME",
            Op::Subscribe(_) => "SUBSCRIBE",
            Op::Unsubscribe(_) => "UNSUBSCRIBE",
            Op::List { options, .. } if options.lsub => "LSUB",
            Op::List { .. } => "LIST",
            Op::Status { .. } => "STATUS",
            Op::Append { .. } => "APPEND",
            Op::Check => "CHECK",
            Op::Close => "CLOSE",
            Op::Unselect => "UNSELECT",
            Op::Expunge { .. } => "EXPUNGE",
            Op::Idle => "IDLE",
            Op::Fetch { .. } => "FETCH",
            Op::Store { .. } => "STORE",
            Op::Copy { remove: false, .. } => "COPY",
            Op::Copy { .. } => "MOVE",
            Op::Search { .. } => "SEARCH",
            Op::Sort { .. } => "SORT",
            Op::Thread { .. } => "THREAD",
            Op::Compress(_) => "COMPRESS",
            Op::GetQuotaRoot(_) => "GETQUOTAROOT",
            Op::GetQuota(_) => "GETQUOTA",
        }
    }
}

/// RFC 7162 §3.2.5: what a client knew of a mailbox when it last had it selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qresync {
    pub uidvalidity: u32,
    pub modseq: u64,
    /// The UIDs the client knows of; all when absent.
    pub known: Option<SeqSet>,
}

/// A tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    pub op: Op,
}

/// Parses one command; on error, the tag (when it could be read) comes back with it.
pub fn parse(buf: &[u8]) -> Result<Command, (Option<String>, ParseError)> {
    parse_with(buf, false)
}

/// [`parse`], with mailbox names taken as UTF-8 (`utf8_names`, IMAP4rev2) or as modified
/// UTF-7 (IMAP4rev1).
pub fn parse_with(buf: &[u8], utf8_names: bool) -> Result<Command, (Option<String>, ParseError)> {
    let mut p = Parser::new(buf);
    p.utf8_names = utf8_names;
    let tag = p.tag().map_err(|e| (None, e))?.to_string();
    let op = (|| {
        p.sp()?;
        let op = op(&mut p)?;
        p.end()?;
        Ok(op)
    })()
    .map_err(|e| (Some(tag.clone()), e))?;
    Ok(Command { tag, op })
}

fn bad<T>(s: impl Into<String>) -> PResult<T> {
    Err(ParseError(s.into()))
}

fn mailbox_arg(p: &mut Parser<'_>) -> PResult<String> {
    p.sp()?;
    p.mailbox()
}

fn op(p: &mut Parser<'_>) -> PResult<Op> {
    let name = p.atom()?.to_ascii_uppercase();
    let uid = name == "UID";
    let name = if uid {
        p.sp()?;
        p.atom()?.to_ascii_uppercase()
    } else {
        name
    };
    if uid
        && !matches!(
            name.as_str(),
            "FETCH" | "STORE" | "COPY" | "MOVE" | "SEARCH" | "EXPUNGE" | "SORT" | "THREAD"
        )
    {
        return bad(format!("UID {name} is not a command"));
    }
    Ok(match name.as_str() {
        "CAPABILITY" => Op::Capability,
        "NOOP" => Op::Noop,
        "LOGOUT" => Op::Logout,
        "STARTTLS" => Op::StartTls,
        "CHECK" => Op::Check,
        "CLOSE" => Op::Close,
        "UNSELECT" => Op::Unselect,
        "IDLE" => Op::Idle,
        "NAMESPACE" => Op::Namespace,
        "ID" => {
            // RFC 2971: NIL or a list of field/value pairs; we only need to accept it.
            p.sp()?;
            if !p.eat_word("NIL") {
                p.list(|p| p.nstring().map(|_| ()))?;
            }
            Op::Id
        }
        "LOGIN" => {
            p.sp()?;
            let user = p.astring_utf8()?;
            p.sp()?;
            let password = p.astring_utf8()?;
            Op::Login { user, password }
        }
        "AUTHENTICATE" => {
            p.sp()?;
            let mechanism = p.atom()?.to_ascii_uppercase();
            let initial = if p.eat(b' ') {
                // RFC 4959: the initial response, `=` for an empty one.
                Some(p.atom_or_base64()?)
            } else {
                None
            };
            Op::Authenticate { mechanism, initial }
        }
        "ENABLE" => {
            let mut caps = Vec::new();
            while p.eat(b' ') {
                caps.push(p.atom()?.to_ascii_uppercase());
            }
            if caps.is_empty() {
                return bad("ENABLE needs a capability");
            }
            Op::Enable(caps)
        }
        "SELECT" | "EXAMINE" => {
            let mailbox = mailbox_arg(p)?;
            let mut condstore = false;
            let mut qresync = None;
            if p.eat(b' ') {
                // RFC 7162 §3.1.8 (CONDSTORE) and §3.2.5 (QRESYNC (...)).
                p.expect(b'(')?;
                loop {
                    let param = p.atom()?.to_ascii_uppercase();
                    match param.as_str() {
                        "CONDSTORE" => condstore = true,
                        "QRESYNC" => {
                            p.sp()?;
                            qresync = Some(qresync_param(p)?);
                        }
                        _ => return bad(format!("unknown SELECT parameter {param}")),
                    }
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
            }
            Op::Select {
                mailbox,
                read_only: name == "EXAMINE",
                condstore,
                qresync,
            }
        }
        "CREATE" => {
            let mailbox = mailbox_arg(p)?;
            let mut special_use = None;
            if p.eat(b' ') {
                // RFC 6154 §3: CREATE name (USE (\Archive))
                p.expect(b'(')?;
                if !p.eat_word("USE") {
                    return bad("unknown CREATE parameter");
                }
                p.sp()?;
                let uses = p.list(|p| p.flag())?;
                p.expect(b')')?;
                if uses.len() > 1 {
                    return bad("[USEATTR] one special use per folder");
                }
                special_use = uses.into_iter().next();
            }
            Op::Create {
                mailbox,
                special_use,
            }
        }
        "DELETE" => Op::Delete(mailbox_arg(p)?),
        "RENAME" => {
            let from = mailbox_arg(p)?;
            let to = mailbox_arg(p)?;
            Op::Rename { from, to }
        }
        "SUBSCRIBE" => Op::Subscribe(mailbox_arg(p)?),
        "UNSUBSCRIBE" => Op::Unsubscribe(mailbox_arg(p)?),
        "LIST" | "LSUB" => list(p, name == "LSUB")?,
        "STATUS" => {
            let mailbox = mailbox_arg(p)?;
            p.sp()?;
            let items = p.list(status_item)?;
            Op::Status { mailbox, items }
        }
        "APPEND" => {
            let mailbox = mailbox_arg(p)?;
            let messages = super::append::messages(p)?;
            Op::Append { mailbox, messages }
        }
        "EXPUNGE" => {
            let uids = if uid {
                p.sp()?;
                Some(SeqSet::parse(p)?)
            } else {
                None
            };
            Op::Expunge { uids }
        }
        "FETCH" => {
            p.sp()?;
            let set = SeqSet::parse(p)?;
            p.sp()?;
            let atts = super::fetch::atts(p)?;
            let mut changed_since = None;
            let mut vanished = false;
            if p.eat(b' ') {
                // RFC 7162 §3.1.4.1: (CHANGEDSINCE n)
                p.expect(b'(')?;
                if !p.eat_word("CHANGEDSINCE") {
                    return bad("unknown FETCH modifier");
                }
                p.sp()?;
                changed_since = Some(p.number64()?);
                // RFC 7162 §3.2.6: VANISHED asks for the UIDs expunged since.
                if p.eat(b' ') {
                    if !p.eat_word("VANISHED") {
                        return bad("unknown FETCH modifier");
                    }
                    vanished = true;
                }
                p.expect(b')')?;
            }
            Op::Fetch {
                uid,
                set,
                atts,
                changed_since,
                vanished,
            }
        }
        "STORE" => {
            p.sp()?;
            let set = SeqSet::parse(p)?;
            p.sp()?;
            let mut unchanged_since = None;
            if p.eat(b'(') {
                // RFC 7162 §3.1.3: (UNCHANGEDSINCE n)
                if !p.eat_word("UNCHANGEDSINCE") {
                    return bad("unknown STORE modifier");
                }
                p.sp()?;
                unchanged_since = Some(p.number64()?);
                p.expect(b')')?;
                p.sp()?;
            }
            let mode = if p.eat(b'+') {
                StoreMode::Add
            } else if p.eat(b'-') {
                StoreMode::Remove
            } else {
                StoreMode::Replace
            };
            let item = p.atom()?.to_ascii_uppercase();
            let silent = match item.as_str() {
                "FLAGS" => false,
                "FLAGS.SILENT" => true,
                _ => return bad("STORE takes FLAGS or FLAGS.SILENT"),
            };
            p.sp()?;
            let flags = if p.peek() == Some(b'(') {
                p.list(|p| p.flag())?
            } else {
                let mut v = vec![p.flag()?];
                while p.eat(b' ') {
                    v.push(p.flag()?);
                }
                v
            };
            Op::Store {
                uid,
                set,
                mode,
                silent,
                flags,
                unchanged_since,
            }
        }
        "COPY" | "MOVE" => {
            p.sp()?;
            let set = SeqSet::parse(p)?;
            let mailbox = mailbox_arg(p)?;
            Op::Copy {
                uid,
                set,
                mailbox,
                remove: name == "MOVE",
            }
        }
        "SEARCH" => {
            p.sp()?;
            Op::Search {
                uid,
                search: super::search::search(p)?,
            }
        }
        "SORT" => {
            p.sp()?;
            let (ret, criteria, key) = super::sort::sort(p)?;
            Op::Sort {
                uid,
                ret,
                criteria,
                key,
            }
        }
        "THREAD" => {
            p.sp()?;
            let (algorithm, key) = super::sort::thread(p)?;
            Op::Thread {
                uid,
                algorithm,
                key,
            }
        }
        "COMPRESS" => {
            p.sp()?;
            Op::Compress(p.atom()?.to_ascii_uppercase())
        }
        "GETQUOTAROOT" => Op::GetQuotaRoot(mailbox_arg(p)?),
        "GETQUOTA" => {
            p.sp()?;
            Op::GetQuota(p.astring_utf8()?)
        }
        _ => return bad(format!("unknown command {name}")),
    })
}

/// `(uidvalidity modseq [known-uids] [(seq-set uid-set)])`; the sequence match data is
/// accepted and not used.
fn qresync_param(p: &mut Parser<'_>) -> PResult<Qresync> {
    p.expect(b'(')?;
    let uidvalidity = p.number()?;
    p.sp()?;
    let modseq = p.number64()?;
    let mut known = None;
    if p.eat(b' ') {
        if p.peek() != Some(b'(') {
            known = Some(SeqSet::parse(p)?);
            p.eat(b' ');
        }
        if p.eat(b'(') {
            SeqSet::parse(p)?;
            p.sp()?;
            SeqSet::parse(p)?;
            p.expect(b')')?;
        }
    }
    p.expect(b')')?;
    Ok(Qresync {
        uidvalidity,
        modseq,
        known,
    })
}

fn status_item(p: &mut Parser<'_>) -> PResult<StatusItem> {
    let w = p.atom()?.to_ascii_uppercase();
    Ok(match w.as_str() {
        "MESSAGES" => StatusItem::Messages,
        "RECENT" => StatusItem::Recent,
        "UIDNEXT" => StatusItem::UidNext,
        "UIDVALIDITY" => StatusItem::UidValidity,
        "UNSEEN" => StatusItem::Unseen,
        "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
        "SIZE" => StatusItem::Size,
        "DELETED" => StatusItem::Deleted,
        _ => return bad(format!("unknown STATUS item {w}")),
    })
}

/// LIST and LSUB, with RFC 5258's extended syntax.
fn list(p: &mut Parser<'_>, lsub: bool) -> PResult<Op> {
    let mut options = ListOptions {
        lsub,
        subscribed: lsub,
        ..ListOptions::default()
    };
    p.sp()?;
    if !lsub && p.peek() == Some(b'(') {
        for o in p.list(|p| Ok(p.atom()?.to_ascii_uppercase()))? {
            match o.as_str() {
                "SUBSCRIBED" => options.subscribed = true,
                "SPECIAL-USE" => options.special_use_only = true,
                "RECURSIVEMATCH" => options.recursive_match = true,
                "REMOTE" => {}
                _ => return bad(format!("unknown LIST selection option {o}")),
            }
        }
        // RFC 5258 §3.1: RECURSIVEMATCH needs a base option; SUBSCRIBED is the only one here
        // (SPECIAL-USE is independent, RFC 6154 §6).
        if options.recursive_match && !options.subscribed {
            return bad("RECURSIVEMATCH needs the SUBSCRIBED selection option");
        }
        p.sp()?;
    }
    let reference = p.mailbox()?;
    p.sp()?;
    let patterns = if !lsub && p.peek() == Some(b'(') {
        p.list(|p| p.list_mailbox())?
    } else {
        vec![p.list_mailbox()?]
    };
    if !lsub && p.eat(b' ') {
        if !p.eat_word("RETURN") {
            return bad("expected RETURN");
        }
        p.sp()?;
        p.list(|p| {
            let w = p.atom()?.to_ascii_uppercase();
            match w.as_str() {
                "SUBSCRIBED" => {
                    options.return_subscribed = true;
                    Ok(())
                }
                "CHILDREN" | "SPECIAL-USE" => Ok(()),
                "STATUS" => {
                    p.sp()?;
                    options.status = p.list(status_item)?;
                    Ok(())
                }
                _ => bad(format!("unknown LIST return option {w}")),
            }
        })?;
    }
    // RFC 5258 §3.1: the SUBSCRIBED selection option implies the SUBSCRIBED return option.
    options.return_subscribed |= options.subscribed && !lsub;
    Ok(Op::List {
        reference,
        patterns,
        options,
    })
}

impl Parser<'_> {
    /// A SASL response: base64 characters or `=`.
    fn atom_or_base64(&mut self) -> PResult<String> {
        let s = self.take_while(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c));
        if s.is_empty() {
            return bad("expected a base64 response");
        }
        Ok(String::from_utf8_lossy(s).into_owned())
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;

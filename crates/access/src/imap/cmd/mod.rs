//! The commands, one file each (COPY and MOVE share `copy.rs`, CLOSE and UNSELECT share
//! `close.rs`, SUBSCRIBE and UNSUBSCRIBE share `subscribe.rs`); the commands without
//! arguments or data (CAPABILITY, NOOP, LOGOUT, CHECK, NAMESPACE, ID, ENABLE, STARTTLS) are
//! here. Each op applies its parsed arguments and writes its untagged answers; the session
//! writes the tagged one.

pub mod append;
pub mod authenticate;
pub mod catenate;
pub mod close;
pub mod copy;
pub mod create;
pub mod delete;
pub mod expunge;
pub mod fetch;
pub mod idle;
pub mod list;
pub mod login;
pub mod quota;
pub mod rename;
pub mod search;
pub mod select;
pub mod sort;
pub mod status;
pub mod store;
pub mod subject;
pub mod subscribe;
pub mod thread;

use std::io;

use marque_core::CoreError;

use super::parse::command::Op;
use super::session::{Outcome, Session};
use super::state::State;

/// Capabilities of the extensions the commands here implement, added to the session's list
/// (each with its leading space).
pub const EXTENSIONS: &str = " MULTIAPPEND CATENATE ESORT SORT=DISPLAY WITHIN PREVIEW SAVEDATE";

/// Runs `op` if the current state allows it (RFC 3501 §3; otherwise `BAD`).
pub async fn dispatch(s: &mut Session, tag: &str, op: Op, buf: &[u8]) -> io::Result<Outcome> {
    let authenticated = s.state.user().is_some();
    let selected = matches!(s.state, State::Selected { .. });
    let wrong_state = |what: &str| Ok(Outcome::Bad(what.to_string()));
    match op {
        // Any state.
        Op::Capability => {
            let caps = s.capabilities();
            s.io.line(&format!("* CAPABILITY {caps}"));
            Ok(Outcome::Ok("CAPABILITY completed".into()))
        }
        Op::Noop => Ok(Outcome::Ok("NOOP completed".into())),
        Op::Logout => {
            s.state = State::Logout;
            Ok(Outcome::Ok("LOGOUT completed".into()))
        }
        Op::Id => {
            // RFC 2971 §3.2.
            s.io.line("* ID (\"name\" \"Marque\")");
            Ok(Outcome::Ok("ID completed".into()))
        }
        // Not authenticated.
        Op::StartTls | Op::Login { .. } | Op::Authenticate { .. } if authenticated => {
            wrong_state("already authenticated")
        }
        Op::StartTls => {
            if !s.can_starttls {
                return Ok(Outcome::Bad("STARTTLS is not available here".into()));
            }
            s.io.line(&format!("{tag} OK Begin TLS negotiation now"));
            s.starttls().await?;
            Ok(Outcome::Sent)
        }
        Op::Login { user, password } => login::run(s, &user, &password, "LOGIN").await,
        Op::Authenticate { mechanism, initial } => authenticate::run(s, &mechanism, initial).await,
        _ if !authenticated => wrong_state("log in first"),
        // Authenticated or selected.
        Op::Namespace => {
            // RFC 2342: one personal namespace, no shared or other users' ones.
            s.io.line("* NAMESPACE ((\"\" \"/\")) NIL NIL");
            Ok(Outcome::Ok("NAMESPACE completed".into()))
        }
        Op::Enable(caps) => {
            // RFC 5161 §3.1: answer with the extensions actually enabled.
            let mut enabled = Vec::new();
            for c in caps {
                match c.as_str() {
                    "CONDSTORE" => {
                        s.condstore = true;
                        enabled.push(c);
                    }
                    "QRESYNC" => {
                        // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                        s.qresync = true;
                        s.condstore = true;
                        enabled.push(c);
                    }
                    "IMAP4REV2" => {
                        s.rev2 = true;
                        enabled.push("IMAP4rev2".into());
                    }
                    _ => {}
                }
            }
            s.io.line(format!("* ENABLED {}", enabled.join(" ")).trim_end());
            Ok(Outcome::Ok("ENABLE completed".into()))
        }
        Op::Select {
            mailbox,
            read_only,
            condstore,
            qresync,
        } => select::run(s, &mailbox, read_only, condstore, qresync).await,
        Op::Create {
            mailbox,
            special_use,
        } => create::run(s, &mailbox, special_use.as_deref()).await,
        Op::Delete(m) => delete::run(s, &m).await,
        Op::Rename { from, to } => rename::run(s, &from, &to).await,
        Op::Subscribe(m) => subscribe::run(s, &m, true).await,
        Op::Unsubscribe(m) => subscribe::run(s, &m, false).await,
        Op::List {
            reference,
            patterns,
            options,
        } => list::run(s, &reference, &patterns, &options).await,
        Op::Status { mailbox, items } => status::run(s, &mailbox, &items).await,
        Op::Append { mailbox, messages } => append::run(s, &mailbox, &messages, buf).await,
        Op::Idle => idle::run(s, tag).await,
        Op::Compress(mechanism) => {
            if mechanism != "DEFLATE" {
                return Ok(Outcome::Bad("unknown compression mechanism".into()));
            }
            if s.compressing() {
                return Ok(Outcome::No(
                    "[COMPRESSIONACTIVE] already compressing".into(),
                ));
            }
            s.io.line(&format!("{tag} OK DEFLATE active"));
            s.compress().await?;
            Ok(Outcome::Sent)
        }
        Op::GetQuotaRoot(m) => quota::root(s, &m).await,
        Op::Sort { .. } | Op::Thread { .. } if !selected => wrong_state("select a mailbox first"),
        Op::Sort {
            uid,
            ret,
            criteria,
            key,
        } => sort::sort(s, uid, ret.as_ref(), &criteria, key, tag).await,
        Op::Thread {
            uid,
            algorithm,
            key,
        } => thread::run(s, uid, algorithm, key).await,
        Op::GetQuota(root) => quota::get(s, &root).await,
        _ if !selected => wrong_state("select a mailbox first"),
        // Selected.
        Op::Check => Ok(Outcome::Ok("CHECK completed".into())),
        Op::Close => close::run(s, true).await,
        Op::Unselect => close::run(s, false).await,
        Op::Expunge { uids } => expunge::run(s, uids.as_ref()).await,
        Op::Fetch {
            uid,
            set,
            atts,
            changed_since,
            vanished,
        } => fetch::run(s, uid, &set, &atts, changed_since, vanished).await,
        Op::Store {
            uid,
            set,
            mode,
            silent,
            flags,
            unchanged_since,
        } => store::run(s, uid, &set, mode, silent, &flags, unchanged_since).await,
        Op::Copy {
            uid,
            set,
            mailbox,
            remove,
        } => copy::run(s, uid, &set, &mailbox, remove).await,
        Op::Search { uid, search } => search::run(s, uid, &search, tag).await,
    }
}

/// A store failure as a tagged `NO` with the RFC 5530 code that fits.
pub fn store_no(e: &marque_store::Error) -> Outcome {
    use marque_store::Error as E;
    Outcome::No(match e {
        E::LimitExceeded { .. } => "[OVERQUOTA] quota exceeded".into(),
        E::NotFound(what) => format!("[NONEXISTENT] not found: {what}"),
        E::AlreadyExists(what) => format!("[ALREADYEXISTS] already exists: {what}"),
        E::Invalid(why) => format!("[CANNOT] {why}"),
        other => {
            tracing::warn!(error = %other, "store failure");
            "[SERVERBUG] internal error".into()
        }
    })
}

/// A core failure as a tagged `NO`.
pub fn core_no(e: &CoreError) -> Outcome {
    match e {
        CoreError::Store(se) => store_no(se),
        CoreError::LimitExceeded { .. } => Outcome::No("[OVERQUOTA] quota exceeded".into()),
        other => {
            tracing::warn!(error = %other, "core failure");
            Outcome::No("[SERVERBUG] internal error".into())
        }
    }
}

/// The account of the signed-in user (the dispatch has checked there is one).
pub fn account(s: &Session) -> io::Result<marque_store::AccountId> {
    s.state
        .user()
        .map(|u| u.account)
        .ok_or_else(|| io::Error::other("no user in an authenticated state"))
}

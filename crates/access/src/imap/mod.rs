//! IMAP4rev1 (RFC 3501) for Marque, and IMAP4rev2 (RFC 9051) once a client enables it, over
//! the store's mail model. Extensions: LITERAL+, SASL-IR (AUTH=PLAIN), ID, ENABLE, IDLE,
//! NAMESPACE, UIDPLUS, MOVE, UNSELECT, CHILDREN, SPECIAL-USE, CREATE-SPECIAL-USE, LIST-EXTENDED,
//! LIST-STATUS, CONDSTORE, QRESYNC, ESEARCH, SEARCHRES, SORT, THREAD (ORDEREDSUBJECT,
//! REFERENCES), BINARY, QUOTA, APPENDLIMIT, STATUS=SIZE, COMPRESS=DEFLATE; STARTTLS and implicit
//! TLS come from the listener.
//!
//! Limits: line and literal sizes (an oversized literal is refused before anything is read or
//! reserved), list nesting, commands per second, sessions per user, autologout. Sign-in goes
//! through the core's throttle, shared with every other service (`marque_core::signin`), and
//! before TLS only from the networks the operator allows (else `LOGINDISABLED`).
//!
//! # Layout
//! - [`parse`]: the command grammar, apart from I/O.
//! - [`session`]: one connection: reading whole commands (with literal limits) through the
//!   shared line reader (`marque_session::lines`), the state machine, dispatch, untagged
//!   updates.
//! - [`state`]: the session state, an enum that carries its data.
//! - [`view`]: the selected mailbox as one session sees it (message numbers, pending updates).
//! - [`folder_uids`]: the UIDs of selected folders, kept and shared between sessions.
//! - [`keywords`]: the FLAGS and PERMANENTFLAGS a mailbox announces, and again when a new
//!   keyword appears.
//! - [`recent`]: `\Recent` for IMAP4rev1 sessions, claimed through the store.
//! - [`render`]: strings, envelope, body structure.
//! - [`preview`]: the plain-text preview of FETCH PREVIEW.
//! - [`cte`]: content-transfer decoding for FETCH BINARY.
//! - [`compress`]: COMPRESS=DEFLATE streams.
//! - [`limits`]: sessions per user, commands per second.
//! - `cmd/`: one file per command (or per family: `copy.rs` is COPY and MOVE).

pub mod cmd;
pub mod compress;
pub mod cte;
pub mod folder_uids;
pub mod keywords;
pub mod limits;
pub mod parse;
pub mod preview;
pub mod recent;
pub mod render;
pub mod session;
pub mod state;
pub mod view;

use std::sync::Arc;

use marque_session::limits::Refusal;
use marque_session::{Connection, Handler};
use tokio::io::AsyncWriteExt;

/// Shared by every session of a listener.
#[derive(Debug)]
pub struct Context {
    pub core: marque_core::Core,
    pub hostname: String,
    /// Open sessions per signed-in user.
    pub sessions: limits::Sessions,
    /// The UIDs of recently selected folders (SELECT without scanning the folder).
    pub folder_uids: folder_uids::FolderUids,
    /// Sustained commands per second of one session.
    pub commands_per_second: f64,
    /// Commands a session may send at once above the sustained rate.
    pub command_burst: f64,
    /// The process-wide budget of input held in memory: APPEND literals take their size from
    /// it before they are read.
    pub input_budget: marque_session::InputBudget,
}

/// The IMAP handler for the `imap` and `imaps` listeners.
#[derive(Debug, Clone)]
pub struct Imap {
    ctx: Arc<Context>,
}

impl Imap {
    /// A handler over `core`, naming `hostname` in its greeting, with the default command
    /// rate ([`limits::COMMANDS_PER_SECOND`], [`limits::COMMAND_BURST`]).
    pub fn new(core: &marque_core::Core, hostname: &str) -> Self {
        Self::with_command_rate(
            core,
            hostname,
            limits::COMMANDS_PER_SECOND,
            limits::COMMAND_BURST,
        )
    }

    /// A handler whose sessions may send `per_second` commands per second, after a burst of
    /// `burst` (`[limits] imap_commands_per_second` and `imap_command_burst`; both at least 1).
    pub fn with_command_rate(
        core: &marque_core::Core,
        hostname: &str,
        per_second: usize,
        burst: usize,
    ) -> Self {
        Imap {
            ctx: Arc::new(Context {
                core: core.clone(),
                hostname: hostname.to_string(),
                sessions: limits::Sessions::default(),
                folder_uids: folder_uids::FolderUids::default(),
                commands_per_second: per_second.max(1) as f64,
                command_burst: burst.max(1) as f64,
                input_budget: marque_session::InputBudget::default(),
            }),
        }
    }

    /// The handler with `budget` as its input budget (shared with the other services of the
    /// process). Call it on a new handler, before it is cloned: a handler already shared keeps
    /// its own budget.
    pub fn with_input_budget(mut self, budget: marque_session::InputBudget) -> Self {
        match Arc::get_mut(&mut self.ctx) {
            Some(ctx) => ctx.input_budget = budget,
            None => tracing::warn!("IMAP handler already shared: input budget not replaced"),
        }
        self
    }
}

impl Handler for Imap {
    async fn handle(&self, conn: Connection) {
        session::run(self.ctx.clone(), conn).await;
    }

    async fn refuse(&self, mut conn: Connection, why: Refusal) {
        // RFC 9051 §7.1.5: BYE as the greeting refuses the connection.
        let _ = conn
            .write_all(match why {
                Refusal::ListenerFull => b"* BYE [UNAVAILABLE] too many connections\r\n".as_slice(),
                Refusal::TooManyFromIp => {
                    b"* BYE [UNAVAILABLE] too many connections from your address\r\n"
                }
            })
            .await;
        let _ = conn.shutdown().await;
    }
}

/// The handler for the `imap` and `imaps` listeners.
pub fn handler(core: &marque_core::Core, hostname: &str) -> impl Handler {
    Imap::new(core, hostname)
}

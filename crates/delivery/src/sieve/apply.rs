//! Writing one recipient's [`Plan`] inside the delivery transaction: the stored copies (with
//! their folders and flags), the messages handed to the [`Outbox`], the ids remembered for
//! `duplicate` and `vacation`.

use marque_core::quota::usage_charges_txn;
use marque_store::mail::{self, AppendOptions, Flags, PreparedMessage, SpecialUse};
use marque_store::{AccountId, MailboxId, Txn, sieve_seen};
use tracing::warn;

use super::run::{Folder, Plan, StoreAction};
use crate::deliver::{DeliveryError, LocalRecipient, RecipientResult};
use crate::outbox::{OutboundKind, OutboundMessage, Outbox};

/// Longest keyword stored (as `marque_store::mail` accepts).
const MAX_KEYWORD_LEN: usize = 128;

/// Writes `plan` for `recipient`. `prepared[v]` is the content of variant `v` (0: the message
/// as received), prepared before the transaction. Returns the result and what the log should
/// add.
pub fn apply(
    txn: &mut Txn<'_>,
    outbox: &dyn Outbox,
    recipient: &LocalRecipient,
    plan: &Plan,
    prepared: &[&PreparedMessage],
) -> Result<(RecipientResult, Vec<String>), DeliveryError> {
    let mut notes = plan.notes.clone();
    if let Some(reason) = &plan.reject {
        return Ok((
            RecipientResult::Rejected {
                reason: reason.clone(),
            },
            notes,
        ));
    }
    let account = recipient.account;
    let mut first_uid = None;
    for action in &plan.stores {
        match store(txn, account, action, prepared, &mut notes)? {
            Stored::Uid(uid) => {
                first_uid.get_or_insert(uid);
            }
            Stored::OverQuota(counter) if first_uid.is_none() => {
                return Ok((RecipientResult::OverQuota { reason: counter }, notes));
            }
            Stored::OverQuota(counter) => notes.push(format!("a copy over quota ({counter})")),
            Stored::NoInbox => {
                return Ok((
                    RecipientResult::Failed {
                        reason: format!("account {account} has no INBOX"),
                    },
                    notes,
                ));
            }
        }
    }
    let mut redirected = Vec::new();
    let mut keep_instead = false;
    for out in &plan.outgoing {
        let msg = OutboundMessage {
            from: out.from.clone(),
            to: out.to.clone(),
            raw: out.raw.clone(),
            kind: out.kind,
            tenant: recipient.tenant,
        };
        match outbox.queue(txn, msg) {
            Ok(()) if out.kind == OutboundKind::Redirect => redirected.extend(out.to.clone()),
            Ok(()) => notes.push(format!("vacation reply to {}", out.to.join(", "))),
            Err(DeliveryError::OutboxUnavailable(why)) => {
                warn!(recipient = %recipient.address, %why, "message from a Sieve script not sent");
                notes.push(format!("not sent: {why}"));
                keep_instead |= out.kind == OutboundKind::Redirect;
            }
            Err(e) => return Err(e),
        }
    }
    // A redirect that could not be queued keeps the message: never lose mail.
    if keep_instead && first_uid.is_none() {
        let inbox = StoreAction {
            folder: Folder::Inbox,
            flags: Vec::new(),
            variant: 0,
        };
        match store(txn, account, &inbox, prepared, &mut notes)? {
            Stored::Uid(uid) => first_uid = Some(uid),
            Stored::OverQuota(counter) => {
                return Ok((RecipientResult::OverQuota { reason: counter }, notes));
            }
            Stored::NoInbox => {
                return Ok((
                    RecipientResult::Failed {
                        reason: format!("account {account} has no INBOX"),
                    },
                    notes,
                ));
            }
        }
    }
    for (id, expires) in &plan.seen {
        sieve_seen::record(txn, account, id, *expires);
    }
    let result = match first_uid {
        Some(uid) => RecipientResult::Delivered { uid },
        None if !redirected.is_empty() => RecipientResult::Redirected { to: redirected },
        None => RecipientResult::Discarded,
    };
    Ok((result, notes))
}

enum Stored {
    Uid(u32),
    OverQuota(String),
    NoInbox,
}

fn store(
    txn: &mut Txn<'_>,
    account: AccountId,
    action: &StoreAction,
    prepared: &[&PreparedMessage],
    notes: &mut Vec<String>,
) -> Result<Stored, DeliveryError> {
    let folder = match folder_id(txn, account, &action.folder, notes)? {
        Some(id) => id,
        None => match mail::mailbox_by_name(txn, account, "INBOX")? {
            Some(inbox) => inbox.id,
            None => return Ok(Stored::NoInbox),
        },
    };
    let Some(msg) = prepared
        .get(action.variant)
        .or_else(|| prepared.first())
        .copied()
    else {
        return Err(DeliveryError::Encode("no prepared message".into()));
    };
    let charges = usage_charges_txn(txn, account)?;
    match mail::append(
        txn,
        account,
        folder,
        msg,
        &append_options(&action.flags, notes),
        &charges,
    ) {
        Ok(a) => Ok(Stored::Uid(a.uid)),
        // Nothing was written for this copy: the limits are checked before any write.
        Err(marque_store::Error::LimitExceeded { counter, .. }) => Ok(Stored::OverQuota(counter)),
        Err(e) => Err(e.into()),
    }
}

/// The folder of `folder`, created when the script asked for it; `None` sends the copy to
/// INBOX (RFC 5228 §4.1 leaves a missing folder to the implementation; keeping the message
/// is the safe choice).
fn folder_id(
    txn: &mut Txn<'_>,
    account: AccountId,
    folder: &Folder,
    notes: &mut Vec<String>,
) -> Result<Option<MailboxId>, DeliveryError> {
    let (name, special_use, create) = match folder {
        Folder::Inbox => {
            return Ok(mail::mailbox_by_name(txn, account, "INBOX")?.map(|m| m.id));
        }
        Folder::Named {
            name,
            special_use,
            create,
        } => (name, special_use, *create),
    };
    let special_use = special_use.as_deref().and_then(SpecialUse::from_attribute);
    // RFC 8579 §4: `:specialuse` wins when a folder has the attribute.
    if let Some(su) = special_use
        && let Some(m) = mail::list(txn, account)?
            .into_iter()
            .find(|m| m.special_use == Some(su))
    {
        return Ok(Some(m.id));
    }
    if let Some(m) = mail::mailbox_by_name(txn, account, name)? {
        return Ok(Some(m.id));
    }
    if !create {
        notes.push(format!("folder {name:?} does not exist; filed in INBOX"));
        return Ok(None);
    }
    match mail::create_mailbox(txn, account, name, special_use) {
        Ok(id) => Ok(Some(id)),
        Err(marque_store::Error::Invalid(why)) => {
            notes.push(format!(
                "cannot create folder {name:?} ({why}); filed in INBOX"
            ));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// imap4flags (RFC 5232) values as stored: system flags by name, other words as keywords;
/// what IMAP cannot carry (unknown `\` flags, bad keywords) is left out and noted.
fn append_options(flags: &[String], notes: &mut Vec<String>) -> AppendOptions {
    let mut opts = AppendOptions::default();
    for f in flags.iter().flat_map(|f| f.split_whitespace()) {
        if let Some(flag) = Flags::from_name(f) {
            opts.flags = opts.flags.union(flag);
            continue;
        }
        let valid = !f.starts_with('\\')
            && f.len() <= MAX_KEYWORD_LEN
            && !f.chars().any(|c| c.is_control() || "(){%*\"]".contains(c));
        if valid && opts.keywords.len() < mail::messages::MAX_KEYWORDS {
            if !opts.keywords.iter().any(|k| k.eq_ignore_ascii_case(f)) {
                opts.keywords.push(f.to_string());
            }
        } else {
            notes.push(format!("flag {f:?} not stored"));
        }
    }
    opts
}

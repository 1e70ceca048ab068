//! "delivered" reports (RFC 3461 `NOTIFY=SUCCESS`, RFC 3464 §2.3.3) for recipients delivered
//! into our own mailboxes at the end of the mail transaction.
//!
//! The report is built like the outbound queue's ([`crate::outbound::dsn`]) and queued from
//! `<>` to the sender after the delivery is durable and before the `250`; a crash between the
//! two loses the report, never the message (the client, without its `250`, sends again).

use marque_core::ids::AccountId;
use marque_core::{Core, TenantId};
use marque_delivery::{LocalRecipient, RecipientResult};
use marque_hosting::outbound::{self, Kind, QueuedMessage, QueuedRecipient};
use marque_store::blob::PreparedBlob;
use tracing::warn;

use super::envelope::MailFrom;
use crate::outbound::dsn::{self, Action, Report};

/// A recipient that asked for a success report, and the one mailbox it resolved to.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub recipient: QueuedRecipient,
    pub account: AccountId,
}

/// What the report is about.
pub struct Delivered<'a> {
    pub hostname: &'a str,
    pub mail: &'a MailFrom,
    /// The header of the message as stored, returned in the report.
    pub header: &'a [u8],
    pub wanted: &'a [Wanted],
    /// The delivery's recipients and their results, in the same order.
    pub local: &'a [LocalRecipient],
    pub results: &'a [RecipientResult],
}

/// Queues one report for the wanted recipients that were delivered; errors are logged (the
/// message itself is delivered).
pub async fn queue(core: &Core, d: Delivered<'_>) {
    if d.mail.from.is_empty() {
        // Never a report about a report (RFC 3461 §6.2).
        return;
    }
    let delivered = |account: AccountId| -> Option<TenantId> {
        d.local
            .iter()
            .zip(d.results)
            .find(|(l, _)| l.account == account)
            .filter(|(_, r)| matches!(r, RecipientResult::Delivered { .. }))
            .map(|(l, _)| l.tenant)
    };
    let mut recipients = Vec::new();
    let mut tenant = None;
    for w in d.wanted {
        if let Some(t) = delivered(w.account) {
            let mut r = w.recipient.clone();
            r.last_reply = "250 2.0.0 delivered to the mailbox".into();
            recipients.push(r);
            tenant.get_or_insert(t);
        }
    }
    let Some(tenant) = tenant else { return };
    let mut about = QueuedMessage::new(Kind::Relay, d.mail.from.clone(), recipients, tenant);
    about.ret = d.mail.ret;
    about.envid = d.mail.envid.clone();
    about.created_ms = crate::outbound::now_ms();
    let reports: Vec<Report<'_>> = about
        .recipients
        .iter()
        .map(|r| Report {
            recipient: r,
            action: Action::Delivered,
            status: "2.0.0".into(),
            diagnostic: r.last_reply.clone(),
        })
        .collect();
    let (raw, entry) = dsn::build(d.hostname, &about, d.header, &reports, about.created_ms, 0);
    let blob = match PreparedBlob::new(core.store(), &raw) {
        Ok(b) => b,
        Err(e) => {
            warn!(error = %e, "cannot prepare a success report");
            return;
        }
    };
    if let Err(e) = core
        .store()
        .transact(move |txn| outbound::queue_message(txn, entry, &blob))
        .await
    {
        warn!(error = %e, "cannot queue a success report");
    }
}

//! One mail transaction (RFC 5321 §3.3): recipients resolved through the core, the content
//! handed to local delivery in one durable write, and the transaction log record.
//!
//! Recipient replies (RFC 5321 §4.2.2, RFC 3463): unknown local address `550 5.1.1`, disabled
//! mailbox `550 5.2.1`, mailbox already full `452 4.2.2`, foreign domain without authentication
//! `554 5.7.1` (no relay). A remote recipient of an authenticated user, and a member of an
//! alias or list in another domain, is accepted and put in the outbound queue in the same
//! durable write as the local deliveries.

mod verify_or_sign;

use marque_core::{Core, Recipient};
use marque_delivery::{
    AuthResults, Delivery, LocalRecipient, Outcome, RecipientRecord, RecipientResult,
    TransactionRecord,
};
use marque_hosting::outbound::{Kind, QueuedMessage, QueuedRecipient};
use marque_session::Held;
use marque_store::now_ms;
use tracing::warn;

use super::content::{Collected, Collector, Content};
use super::context::{Context, Helo, Service};
use super::envelope::{MailFrom, RcptTo};
use super::reply::Reply;
use super::trace::{self, Trace};
use crate::submission_limits::Counted;

/// How deep aliases and lists are followed.
const MAX_EXPANSION_DEPTH: usize = 4;
/// Most addresses one recipient may expand to.
const MAX_EXPANDED: usize = 1000;

/// A transaction from MAIL FROM to the end of its content.
pub struct Transaction {
    pub mail: MailFrom,
    /// Local mailboxes to deliver to, each once.
    pub local: Vec<LocalRecipient>,
    /// Recipients refused or set aside at RCPT (for the log).
    pub records: Vec<RecipientRecord>,
    /// RCPT commands seen.
    pub recipient_commands: usize,
    /// Accepted RCPT addresses, as given.
    pub accepted: Vec<String>,
    /// BDAT chunks so far.
    pub bdat: Option<Collector>,
    /// Tenants of refused local recipients: they read the record too.
    pub refused_tenants: Vec<marque_core::TenantId>,
    /// SPF, DKIM, DMARC and ARC results, once the content is checked (port 25).
    pub auth: Option<AuthResults>,
    /// Remote recipients of an authenticated sender, for the outbound queue.
    pub remote: Vec<QueuedRecipient>,
    /// Local recipients that asked for a success report (`NOTIFY=SUCCESS`).
    pub success: Vec<super::success::Wanted>,
    /// The message as counted against the user's hourly limit at MAIL, given back unless the
    /// message is accepted.
    pub counted: Option<Counted>,
}

/// What one RCPT address resolves to.
enum Resolved {
    Accept {
        local: Vec<LocalRecipient>,
        /// Members of an alias or list in other domains, for the outbound queue.
        remote: Vec<String>,
        notes: Vec<RecipientRecord>,
    },
    Remote,
    Refuse(Reply, &'static str, Option<marque_core::TenantId>),
}

fn record(address: &str, outcome: Outcome, reason: &str) -> RecipientRecord {
    RecipientRecord {
        address: address.to_string(),
        outcome,
        reason: reason.to_string(),
    }
}

/// True if a message of `extra` bytes cannot fit (RFC 1870 SIZE), or the mailbox, its domain
/// or a pool above it is already full.
async fn is_full(core: &Core, account: marque_core::AccountId, extra: u64) -> bool {
    let Ok(charges) = core.usage_charges(account).await else {
        return false;
    };
    // A full mailbox cannot take even one byte more.
    let bytes = i64::try_from(extra).unwrap_or(i64::MAX).max(1);
    let full = core
        .store()
        .read(move |s| marque_store::mail::exceeded(s, &charges, bytes))
        .await
        .map(|over| over.is_some())
        .unwrap_or(false);
    if full {
        // The refusal is an event for the tenant's webhooks.
        core.report_over_quota(account, "smtp").await;
    }
    full
}

impl Transaction {
    pub fn new(mail: MailFrom) -> Self {
        Transaction {
            mail,
            local: Vec::new(),
            records: Vec::new(),
            recipient_commands: 0,
            accepted: Vec::new(),
            bdat: None,
            refused_tenants: Vec::new(),
            auth: None,
            remote: Vec::new(),
            success: Vec::new(),
            counted: None,
        }
    }

    /// True once a recipient was accepted, local or remote.
    pub fn has_recipients(&self) -> bool {
        !self.local.is_empty() || !self.remote.is_empty()
    }

    /// RCPT TO: resolves `to` and answers.
    pub async fn rcpt(&mut self, core: &Core, rcpt: &RcptTo, authenticated: bool) -> Reply {
        self.recipient_commands += 1;
        let to = rcpt.to.as_str();
        match self.resolve(core, to, authenticated).await {
            Resolved::Remote => {
                if !self
                    .remote
                    .iter()
                    .any(|r| r.address.eq_ignore_ascii_case(to))
                {
                    let mut r = QueuedRecipient::new(to);
                    r.notify = rcpt.notify;
                    r.orcpt = rcpt.orcpt.clone();
                    self.remote.push(r);
                }
                self.accepted.push(to.to_string());
                Reply::new(250, "2.1.5", "OK")
            }
            Resolved::Accept {
                local,
                remote,
                notes,
            } => {
                // A mailbox of ours: the report ends here. An alias or list that expands
                // further is not reported on ("expanded" is not sent).
                if marque_hosting::outbound::Notify::wants_success(rcpt.notify)
                    && local.len() == 1
                    && remote.is_empty()
                {
                    let mut r = QueuedRecipient::new(to);
                    r.notify = rcpt.notify;
                    r.orcpt = rcpt.orcpt.clone();
                    self.success.push(super::success::Wanted {
                        recipient: r,
                        account: local[0].account,
                    });
                }
                for l in local {
                    if !self.local.iter().any(|x| x.account == l.account) {
                        self.local.push(l);
                    }
                }
                for r in remote {
                    if !self
                        .remote
                        .iter()
                        .any(|x| x.address.eq_ignore_ascii_case(&r))
                    {
                        self.remote.push(QueuedRecipient::new(r));
                    }
                }
                self.records.extend(notes);
                self.accepted.push(to.to_string());
                Reply::new(250, "2.1.5", "OK")
            }
            Resolved::Refuse(reply, reason, tenant) => {
                self.refused_tenants.extend(tenant);
                let outcome = if reply.code >= 500 {
                    Outcome::Rejected
                } else {
                    Outcome::Deferred
                };
                self.records.push(record(to, outcome, reason));
                reply
            }
        }
    }

    async fn resolve(&self, core: &Core, to: &str, authenticated: bool) -> Resolved {
        let size = self.mail.size.unwrap_or(0);
        let direct = match core.resolve_address(to).await {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "recipient lookup failed");
                return Resolved::Refuse(
                    Reply::new(451, "4.3.0", "Temporary lookup failure"),
                    "lookup failure",
                    None,
                );
            }
        };
        let Some(direct) = direct else {
            let domain = to.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            return if core.is_local_domain(domain).await.unwrap_or(false) {
                // The domain's tenant reads the record of mail refused for its addresses.
                let tenant = core
                    .get_domain(&marque_core::Actor::operator(), domain)
                    .await
                    .ok()
                    .map(|d| d.tenant);
                Resolved::Refuse(
                    Reply::new(550, "5.1.1", "No such user here"),
                    "unknown recipient",
                    tenant,
                )
            } else if authenticated {
                Resolved::Remote
            } else {
                Resolved::Refuse(
                    Reply::new(554, "5.7.1", "Relay access denied"),
                    "relay denied",
                    None,
                )
            };
        };
        if let Recipient::Mailbox {
            account,
            tenant,
            active,
            ..
        } = direct
        {
            if !active {
                return Resolved::Refuse(
                    Reply::new(550, "5.2.1", "Mailbox disabled"),
                    "mailbox disabled",
                    Some(tenant),
                );
            }
            if is_full(core, account, size).await {
                return Resolved::Refuse(
                    Reply::new(452, "4.2.2", "Mailbox full"),
                    "over quota",
                    Some(tenant),
                );
            }
            return Resolved::Accept {
                local: vec![LocalRecipient {
                    address: to.to_ascii_lowercase(),
                    account,
                    tenant,
                }],
                remote: vec![],
                notes: vec![],
            };
        }
        // An alias or a list: follow it to mailboxes and to members in other domains (queued);
        // what cannot be delivered is noted.
        let mut local = Vec::new();
        let mut remote: Vec<String> = Vec::new();
        let mut notes = Vec::new();
        let mut work: Vec<(String, usize, Option<Recipient>)> =
            vec![(to.to_string(), 0, Some(direct))];
        let mut seen = 0usize;
        while let Some((addr, depth, known)) = work.pop() {
            seen += 1;
            if seen > MAX_EXPANDED {
                break;
            }
            let r = match known {
                Some(r) => Some(r),
                None => core.resolve_address(&addr).await.ok().flatten(),
            };
            match r {
                Some(Recipient::Mailbox {
                    account,
                    tenant,
                    active,
                    ..
                }) => {
                    if !active {
                        notes.push(record(&addr, Outcome::Rejected, "mailbox disabled"));
                    } else if is_full(core, account, size).await {
                        notes.push(record(&addr, Outcome::Rejected, "over quota"));
                    } else {
                        local.push(LocalRecipient {
                            address: addr.to_ascii_lowercase(),
                            account,
                            tenant,
                        });
                    }
                }
                Some(Recipient::Alias { targets: next })
                | Some(Recipient::List { members: next }) => {
                    if depth >= MAX_EXPANSION_DEPTH {
                        notes.push(record(&addr, Outcome::Rejected, "alias loop or too deep"));
                        continue;
                    }
                    for n in next {
                        work.push((n, depth + 1, None));
                    }
                }
                None => {
                    let domain = addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
                    if domain.is_empty() || core.is_local_domain(domain).await.unwrap_or(true) {
                        notes.push(record(&addr, Outcome::Rejected, "unknown alias member"));
                    } else {
                        remote.push(addr);
                    }
                }
            }
        }
        if local.is_empty() && remote.is_empty() {
            return Resolved::Refuse(
                Reply::new(451, "4.3.0", "No deliverable destination, try again later"),
                "no deliverable destination",
                None,
            );
        }
        Resolved::Accept {
            local,
            remote,
            notes,
        }
    }

    fn record(&self, s: &mut Context, helo: &Helo) -> TransactionRecord {
        TransactionRecord {
            when: now_ms(),
            direction: "inbound".into(),
            service: match s.service {
                Service::Mx => "smtp",
                Service::Submission => "submission",
                Service::Submissions => "submissions",
            }
            .into(),
            client_ip: s.peer.ip().to_string(),
            server_ip: s.local.ip().to_string(),
            helo: helo.name.clone(),
            user: s.user.as_ref().map(|u| u.login.clone()),
            sender: self.mail.from.clone(),
            recipients: self.records.clone(),
            message_id: None,
            size: 0,
            tls: s.tls,
            auth: self.auth.clone(),
            conversation: std::mem::take(&mut s.talk),
        }
    }

    /// Who reads the record besides the delivered recipients' tenants: the tenants of refused
    /// local recipients and the authenticated user's.
    fn extra_owners(&self, s: &Context) -> Vec<marque_core::TenantId> {
        let mut out = self.refused_tenants.clone();
        out.extend(s.user.as_ref().and_then(|u| u.path.last().copied()));
        out
    }

    /// Delivers the content, writes the record and answers the end of DATA (or the last BDAT).
    pub async fn finish(mut self, s: &mut Context, helo: &Helo, content: Collected) -> Reply {
        let (mut body, _held) = match content {
            Collected::Ok(c) => match load(s, c).await {
                Ok(loaded) => loaded,
                Err((reply, why)) => {
                    self.refuse_all_as(s, helo, Outcome::Deferred, why).await;
                    return reply;
                }
            },
            Collected::Unavailable(e) => {
                warn!(error = %e, "message content could not be spooled");
                self.refuse_all_as(s, helo, Outcome::Deferred, "local error")
                    .await;
                // RFC 3463 §3.5: 4.3.0, other or undefined mail system status.
                return Reply::new(451, "4.3.0", "Local error in processing, try again later");
            }
            Collected::TooBig => {
                self.refuse_all(s, helo, "message too big").await;
                // RFC 1870 §6.2.
                return Reply::new(
                    552,
                    "5.3.4",
                    "Message size exceeds fixed maximum message size",
                );
            }
            Collected::LineTooLong => {
                self.refuse_all(s, helo, "line too long").await;
                // RFC 5321 §4.5.3.1.6 and §4.2.2 ("500 Line too long").
                return Reply::new(500, "5.5.2", "Line too long (limit 1000 octets with CRLF)");
            }
        };
        if s.service != Service::Mx
            && let Err(reply) = super::normalize::submitted(&mut body)
        {
            self.refuse_all(s, helo, "NUL characters in the message")
                .await;
            return reply;
        }
        let added = match self.verify_or_sign(s, helo, &mut body).await {
            Ok(added) => added,
            Err(reply) => return reply,
        };
        let id = format!("{:x}.{}", s.id, s.transactions);
        let single = (self.accepted.len() == 1).then(|| self.accepted[0].as_str());
        let mut raw = trace::headers(&Trace {
            helo: &helo.name,
            client_ip: s.peer.ip(),
            hostname: &s.cfg.hostname,
            esmtp: helo.esmtp,
            tls: s.tls,
            authenticated: s.user.is_some(),
            smtputf8: self.mail.smtputf8,
            id: &id,
            single_recipient: single,
            sender: &self.mail.from,
        })
        .into_bytes();
        raw.extend_from_slice(added.as_bytes());
        raw.extend_from_slice(&body);
        drop(body);
        s.note(format!("S: (delivering as {id})"));
        let header =
            (!self.success.is_empty()).then(|| crate::outbound::dsn::header_of(&raw).to_vec());
        let tx_record = self.record(s, helo);
        let fallback = tx_record.clone();
        let delivery = Delivery {
            raw,
            sender: self.mail.from.clone(),
            recipients: self.local.clone(),
            record: tx_record,
            extra_owners: self.extra_owners(s),
        };
        let queued = self.queued(s);
        let has_remote = queued.is_some();
        match marque_delivery::deliver_and_queue(&s.core, &s.cfg.delivery, delivery, queued).await {
            Ok((results, _)) => {
                if let Some(header) = &header {
                    let d = super::success::Delivered {
                        hostname: &s.cfg.hostname,
                        mail: &self.mail,
                        header,
                        wanted: &self.success,
                        local: &self.local,
                        results: &results,
                    };
                    super::success::queue(&s.core, d).await;
                }
                let delivered = results.iter().filter(|r| r.is_accepted()).count();
                // A Sieve reject for every recipient: refused while the session is open (RFC
                // 5429 §2.1); mixed results were accepted and a DSN queued.
                let rejected: Vec<&str> = results
                    .iter()
                    .filter_map(|r| match r {
                        RecipientResult::Rejected { reason } => Some(reason.as_str()),
                        _ => None,
                    })
                    .collect();
                let over = results
                    .iter()
                    .filter(|r| matches!(r, RecipientResult::OverQuota { .. }))
                    .count();
                if delivered > 0 || has_remote {
                    Reply::new(250, "2.0.0", format!("OK: queued as {id}"))
                } else if !rejected.is_empty() && rejected.len() == results.len() {
                    let reason: String = rejected[0]
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .take(200)
                        .collect();
                    Reply::new(550, "5.7.1", reason)
                } else if over == results.len() {
                    Reply::new(452, "4.2.2", "Mailbox full")
                } else {
                    Reply::new(451, "4.3.0", "Local delivery failed, try again later")
                }
            }
            Err(e) => {
                // Nothing of the delivery was written; the record still says what happened.
                warn!(error = %e, "delivery failed");
                let mut failed = fallback;
                for l in &self.local {
                    failed
                        .recipients
                        .push(record(&l.address, Outcome::Deferred, "local error"));
                }
                for r in &self.remote {
                    failed
                        .recipients
                        .push(record(&r.address, Outcome::Deferred, "local error"));
                }
                let mut owners: Vec<_> = self.local.iter().map(|l| l.tenant).collect();
                owners.extend(self.extra_owners(s));
                if let Err(e) = marque_delivery::record_only(&s.core, failed, owners).await {
                    warn!(error = %e, "cannot write the transaction record");
                }
                Reply::new(451, "4.3.0", "Local error in processing, try again later")
            }
        }
    }

    /// The remote recipients as a queued message (body and size are filled in when stored).
    fn queued(&self, s: &Context) -> Option<QueuedMessage> {
        if self.remote.is_empty() {
            return None;
        }
        let tenant = s
            .user
            .as_ref()
            .and_then(|u| u.path.last().copied())
            .unwrap_or(marque_core::PROVIDER);
        let mut m = QueuedMessage::new(
            Kind::Relay,
            self.mail.from.clone(),
            self.remote.clone(),
            tenant,
        );
        m.ret = self.mail.ret;
        m.envid = self.mail.envid.clone();
        Some(m)
    }

    /// Every recipient refused after the content: record it.
    async fn refuse_all(self, s: &mut Context, helo: &Helo, reason: &str) {
        self.refuse_all_as(s, helo, Outcome::Rejected, reason).await;
    }

    /// Every recipient refused before delivery, for good or for now: record it.
    async fn refuse_all_as(mut self, s: &mut Context, helo: &Helo, outcome: Outcome, reason: &str) {
        for address in self
            .local
            .iter()
            .map(|l| &l.address)
            .chain(self.remote.iter().map(|r| &r.address))
        {
            self.records.push(record(address, outcome, reason));
        }
        self.write_record(s, helo).await;
    }

    /// Every recipient refused after the content was checked: record it.
    pub(super) async fn refuse_all_now(&mut self, s: &mut Context, helo: &Helo, reason: &str) {
        for l in &self.local {
            self.records
                .push(record(&l.address, Outcome::Rejected, reason));
        }
        self.write_record(s, helo).await;
    }

    /// The transaction ended without content.
    pub async fn abandon(mut self, s: &mut Context, helo: &Helo) {
        if self.recipient_commands == 0 {
            return;
        }
        for address in self
            .local
            .iter()
            .map(|l| &l.address)
            .chain(self.remote.iter().map(|r| &r.address))
        {
            self.records.push(record(
                address,
                Outcome::Rejected,
                "no message content sent",
            ));
        }
        self.write_record(s, helo).await;
    }

    async fn write_record(&self, s: &mut Context, helo: &Helo) {
        let record = self.record(s, helo);
        let mut owners: Vec<_> = self.local.iter().map(|l| l.tenant).collect();
        owners.extend(self.extra_owners(s));
        if let Err(e) = marque_delivery::record_only(&s.core, record, owners).await {
            warn!(error = %e, "cannot write the transaction record");
        }
    }
}

/// Takes room for the content from the process-wide input budget (twice its size: the content
/// and the message with its trace headers exist together while it is stored), then reads it
/// into memory. With no room within the budget's wait: `451 4.3.2` (RFC 3463 §3.5, system not
/// accepting network messages), and the sender tries again later.
async fn load(s: &Context, c: Content) -> Result<(Vec<u8>, Held), (Reply, &'static str)> {
    let size = c.len();
    let Some(held) = s.cfg.input_budget.reserve(size.saturating_mul(2)).await else {
        warn!(size, "input memory budget spent: message deferred");
        return Err((
            Reply::new(451, "4.3.2", "System busy, try again later"),
            "server busy",
        ));
    };
    match c.load().await {
        Ok(bytes) => Ok((bytes, held)),
        Err(e) => {
            warn!(error = %e, "spooled message content could not be read");
            Err((
                Reply::new(451, "4.3.0", "Local error in processing, try again later"),
                "local error",
            ))
        }
    }
}

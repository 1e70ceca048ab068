//! The webhook outbox and delivery log.
//!
//! [`crate::webhook::emit`] puts one entry per subscribed webhook into the outbox, keyed by
//! when it is due (`0 · 'o' · due · delivery` in `Keyspace::Directory`; tenant 0 does not
//! exist, so the outbox is one range of its own). The dispatcher reads what is due
//! ([`Hosting::due_webhook_deliveries`]), sends it, and reports each attempt
//! ([`Hosting::finish_webhook_attempt`]): the entry leaves the outbox, the attempt goes to the
//! webhook's delivery log, and a retry goes back in, due later, all in one transaction. A
//! crash between sending and reporting sends the delivery again: receivers see each delivery
//! at least once and tell repeats apart by its id.
//!
//! Several processes may run a dispatcher over one store. Each claims what it sends
//! ([`Hosting::claim_webhook_deliveries`]): it takes the delivery's lease
//! ([`marque_store::lease`], scope `WEBHOOK`, named by the delivery id) and moves the entry to
//! the lease's end, so no other dispatcher sees it due while the lease holds; the attempt is
//! recorded only if the lease is still the claimant's, in the recording transaction. A
//! dispatcher that dies leaves its claims to run out, and another sends them then.

use serde::{Deserialize, Serialize};

use marque_core::directory::{self as dir, Reader, WEBHOOK_OUTBOX as OUTBOX};
use marque_core::error::Result;
use marque_core::ids::TenantId;
use marque_store::lease::{self, Holder, Take};
use marque_store::{Direction, Key, Keyspace, Range, Txn};

use crate::Hosting;
use crate::webhook::{LOG, WEBHOOK, Webhook, WebhookId, WebhookRecord};

/// Attempts kept in each webhook's delivery log (older ones are dropped as new ones come).
pub const LOG_KEPT: u64 = 1000;

/// One delivery waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    delivery: u64,
    webhook: WebhookId,
    tenant: TenantId,
    event: String,
    body: String,
    /// Attempts made so far.
    attempts: u32,
    first_ms: u64,
}

/// A delivery that is due, with what it takes to send it.
#[derive(Debug, Clone)]
pub struct Due {
    /// Unique per delivery (`X-Marque-Delivery`), the same on every retry.
    pub delivery: u64,
    pub webhook: WebhookId,
    pub tenant: TenantId,
    pub url: String,
    /// The HMAC key.
    pub secret: String,
    /// The event name (`X-Marque-Event`).
    pub event: String,
    /// The JSON body.
    pub body: String,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// When the event was first queued (ms).
    pub first_ms: u64,
    due_ms: u64,
    /// Who claimed it ([`Hosting::claim_webhook_deliveries`]); `None` when only read.
    claimed_by: Option<Holder>,
}

impl Due {
    fn new(p: Pending, hook: WebhookRecord, due_ms: u64, claimed_by: Option<Holder>) -> Due {
        Due {
            delivery: p.delivery,
            webhook: p.webhook,
            tenant: p.tenant,
            url: hook.webhook.url,
            secret: hook.secret,
            event: p.event,
            body: p.body,
            attempt: p.attempts + 1,
            first_ms: p.first_ms,
            due_ms,
            claimed_by,
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Default)]
pub struct AttemptResult {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// Why it failed without an answer (connection refused, timeout...).
    pub error: Option<String>,
    /// When to try again, or `None` when this was the last attempt (success or given up).
    pub retry_at_ms: Option<u64>,
}

/// One entry of a webhook's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLog {
    /// Position in the log (newest highest), the paging cursor.
    pub seq: u64,
    pub delivery: u64,
    pub event: String,
    pub time_ms: u64,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// `delivered`, `retrying` or `failed`.
    pub outcome: String,
    pub next_attempt_ms: Option<u64>,
}

fn outbox_key(due_ms: u64, delivery: u64) -> Vec<u8> {
    Key::new()
        .u64(0)
        .tag(OUTBOX)
        .u64(due_ms)
        .u64(delivery)
        .into_bytes()
}

pub(crate) fn log_prefix(t: TenantId, w: WebhookId) -> Vec<u8> {
    Key::new().u64(t.0).tag(LOG).u64(w.0).into_bytes()
}

fn log_key(t: TenantId, w: WebhookId, seq: u64) -> Vec<u8> {
    Key::new().u64(t.0).tag(LOG).u64(w.0).u64(seq).into_bytes()
}

fn log_counter(t: TenantId, w: WebhookId) -> Vec<u8> {
    Key::new()
        .tag(marque_store::tags::counters::BOOKS)
        .u64(t.0)
        .tag(marque_store::tags::books::WEBHOOK_LOG)
        .u64(w.0)
        .into_bytes()
}

/// Queues one delivery of an event to a webhook, due now.
pub(crate) fn enqueue(txn: &mut Txn<'_>, w: &Webhook, event: &str, body: &str) -> Result<()> {
    let delivery = txn.next_id("webhook-delivery")?;
    let now = marque_store::now_ms();
    let p = Pending {
        delivery,
        webhook: w.id,
        tenant: w.tenant,
        event: event.to_string(),
        body: body.to_string(),
        attempts: 0,
        first_ms: now,
    };
    dir::put(txn, Keyspace::Directory, outbox_key(now, delivery), &p)
}

/// A page of a webhook's delivery log, newest first.
pub(crate) fn log_page(
    r: &impl Reader,
    w: &Webhook,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<DeliveryLog>, Option<u64>)> {
    let limit = limit.clamp(1, 1000);
    let start = log_key(w.tenant, w.id, 0);
    let end = log_key(w.tenant, w.id, before.unwrap_or(u64::MAX));
    let rows = r.scan(
        Keyspace::Directory,
        &Range::between(start, end),
        Direction::Reverse,
        limit,
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (_, v) in rows {
        out.push(marque_store::decode::<DeliveryLog>(
            Keyspace::Directory,
            &v,
        )?);
    }
    let next = (out.len() == limit)
        .then(|| out.last().map(|l| l.seq))
        .flatten();
    Ok((out, next))
}

impl Hosting {
    /// Up to `limit` deliveries due at `now_ms`, oldest first. Deliveries of webhooks that
    /// were deleted or disabled since are dropped from the outbox here.
    pub async fn due_webhook_deliveries(&self, now_ms: u64, limit: usize) -> Result<Vec<Due>> {
        let rows = self
            .core
            .read(move |s| {
                let range = Range::between(outbox_key(0, 0), outbox_key(now_ms, u64::MAX));
                Ok(s.scan(Keyspace::Directory, &range, Direction::Forward, limit)?)
            })
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        let mut dropped = Vec::new();
        for (k, v) in rows {
            let p: Pending = marque_store::decode(Keyspace::Directory, &v)?;
            let mut r = marque_store::KeyReader::new(Keyspace::Directory, &k);
            r.skip(9)?;
            let due_ms = r.u64()?;
            let hook: Option<WebhookRecord> = dir::get(
                self.core.store(),
                Keyspace::Directory,
                &dir::owned_key(p.tenant, WEBHOOK, p.webhook.0),
            )?;
            match hook {
                Some(h) if h.webhook.enabled => due.push(Due::new(p, h, due_ms, None)),
                _ => dropped.push(k),
            }
        }
        if !dropped.is_empty() {
            self.core
                .store()
                .transact(move |txn| -> Result<()> {
                    for k in dropped {
                        txn.delete(Keyspace::Directory, k);
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(due)
    }

    /// Claims for `holder` up to `limit` deliveries due at `now_ms`, each under a lease of
    /// `lease_ms`, oldest first: they are moved to the lease's end, so that no dispatcher of
    /// any process sees them due while it holds. A delivery another holder still leases is
    /// moved to that lease's end and not returned. Deliveries of webhooks deleted or disabled
    /// since are dropped from the outbox here. One transaction.
    pub async fn claim_webhook_deliveries(
        &self,
        now_ms: u64,
        holder: &Holder,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<Due>> {
        let holder = holder.clone();
        self.core
            .store()
            .transact(move |txn| -> Result<Vec<Due>> {
                let range = Range::between(outbox_key(0, 0), outbox_key(now_ms, u64::MAX));
                let rows = txn.scan(Keyspace::Directory, &range, Direction::Forward, limit)?;
                let mut due = Vec::with_capacity(rows.len());
                for (k, v) in rows {
                    let p: Pending = marque_store::decode(Keyspace::Directory, &v)?;
                    let name = p.delivery.to_be_bytes();
                    txn.delete(Keyspace::Directory, k);
                    let hook: Option<WebhookRecord> = dir::get(
                        txn,
                        Keyspace::Directory,
                        &dir::owned_key(p.tenant, WEBHOOK, p.webhook.0),
                    )?;
                    let Some(hook) = hook.filter(|h| h.webhook.enabled) else {
                        lease::clear(txn, lease::scope::WEBHOOK, &name);
                        continue;
                    };
                    let taken =
                        lease::take(txn, lease::scope::WEBHOOK, &name, &holder, now_ms, lease_ms)?;
                    let (Take::Held(l) | Take::Busy(l)) = &taken;
                    let at = l.expires_ms;
                    dir::put(txn, Keyspace::Directory, outbox_key(at, p.delivery), &p)?;
                    if taken.is_held() {
                        due.push(Due::new(p, hook, at, Some(holder.clone())));
                    }
                }
                Ok(due)
            })
            .await
    }

    /// Records one attempt: takes the delivery out of the outbox, logs the attempt, and queues
    /// the retry if there is one, in one transaction. A claimed delivery is recorded only if
    /// its claimant still holds the lease; otherwise nothing is written (the new holder sends
    /// it again) and `false` comes back, as it does when the delivery left the outbox meanwhile.
    pub async fn finish_webhook_attempt(&self, d: &Due, result: AttemptResult) -> Result<bool> {
        let d = d.clone();
        self.core
            .store()
            .transact(move |txn| -> Result<bool> {
                let name = d.delivery.to_be_bytes();
                if let Some(holder) = &d.claimed_by {
                    if !lease::holds(txn, lease::scope::WEBHOOK, &name, holder)? {
                        tracing::warn!(
                            webhook = %d.webhook,
                            delivery = d.delivery,
                            "webhook lease lost during the attempt; its outcome is dropped"
                        );
                        return Ok(false);
                    }
                    lease::clear(txn, lease::scope::WEBHOOK, &name);
                }
                let old = outbox_key(d.due_ms, d.delivery);
                if txn.get(Keyspace::Directory, &old)?.is_none() {
                    // Dropped meanwhile (the webhook was deleted): nothing to record.
                    return Ok(false);
                }
                txn.delete(Keyspace::Directory, old);
                let now = marque_store::now_ms();
                let delivered = result.status.is_some_and(|s| (200..300).contains(&s));
                let retry = result.retry_at_ms.filter(|_| !delivered);
                if let Some(at) = retry {
                    let p = Pending {
                        delivery: d.delivery,
                        webhook: d.webhook,
                        tenant: d.tenant,
                        event: d.event.clone(),
                        body: d.body.clone(),
                        attempts: d.attempt,
                        first_ms: d.first_ms,
                    };
                    dir::put(txn, Keyspace::Directory, outbox_key(at, d.delivery), &p)?;
                }
                let seq = u64::try_from(txn.add(&log_counter(d.tenant, d.webhook), 1)?)
                    .unwrap_or_default();
                let entry = DeliveryLog {
                    seq,
                    delivery: d.delivery,
                    event: d.event.clone(),
                    time_ms: now,
                    attempt: d.attempt,
                    status: result.status,
                    error: result.error.clone(),
                    outcome: match (delivered, retry) {
                        (true, _) => "delivered",
                        (false, Some(_)) => "retrying",
                        (false, None) => "failed",
                    }
                    .into(),
                    next_attempt_ms: retry,
                };
                dir::put(
                    txn,
                    Keyspace::Directory,
                    log_key(d.tenant, d.webhook, seq),
                    &entry,
                )?;
                if seq > LOG_KEPT {
                    txn.delete(
                        Keyspace::Directory,
                        log_key(d.tenant, d.webhook, seq - LOG_KEPT),
                    );
                }
                Ok(true)
            })
            .await
    }
}

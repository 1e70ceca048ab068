//! Webhooks: an administrator of a tenant subscribes a URL to events of the tenant's subtree
//! (activations requested, approved, rejected; mailboxes created, deleted, over quota).
//!
//! Events are durable: [`emit`] runs inside the transaction of the change itself and writes
//! one outbox entry per subscribed webhook (see [`crate::webhook_outbox`]), so an event is
//! never announced for a change that did not commit, and never lost for one that did. The
//! dispatcher (in the admin crate) sends the outbox and records every attempt.
//!
//! Key layout (`Keyspace::Directory`): `tenant · 'w' · id` → the webhook and its secret;
//! `tenant · 'g' · webhook · n` → the delivery log. When the core reports a mailbox over quota
//! ([`marque_core::Core::report_over_quota`], one report per mailbox per
//! [`marque_core::quota::OVER_QUOTA_EVERY_MS`]), the event goes out through [`crate::hooks`].

use serde::{Deserialize, Serialize};

use marque_core::directory::{self as dir, Loc, Reader};
pub(crate) use marque_core::directory::{WEBHOOK, WEBHOOK_LOG as LOG};
use marque_core::error::{CoreError, Result};
use marque_core::ids::TenantId;
use marque_core::policy::{Action, Object, Target, check};
use marque_core::principal::Actor;
use marque_core::{audit, tenant};
use marque_store::{Direction, Keyspace, Range, Txn};

use crate::Hosting;
use crate::webhook_outbox::{self as outbox, DeliveryLog};

/// Every event a webhook can subscribe to.
pub const EVENTS: [&str; 6] = [
    "activation.requested",
    "activation.approved",
    "activation.rejected",
    "mailbox.created",
    "mailbox.deleted",
    "mailbox.over_quota",
];

/// Most webhooks one tenant may have.
pub const MAX_PER_TENANT: usize = 50;

/// Longest URL accepted.
pub const MAX_URL: usize = 2048;

/// A webhook's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WebhookId(pub u64);

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A webhook as shown (its secret is shown once, when it is created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    /// Its events come from this tenant's subtree.
    pub tenant: TenantId,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_ms: u64,
}

/// The stored form: the secret signs every delivery, so it is kept as it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WebhookRecord {
    pub webhook: Webhook,
    pub secret: String,
}

/// A new webhook; `tenant` defaults to the actor's own.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub tenant: Option<TenantId>,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
}

/// Changes to a webhook (`None` keeps the current value).
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An event as delivered: the JSON body of the POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event (the same in every delivery of it).
    pub id: u64,
    /// One of [`EVENTS`].
    pub event: String,
    pub time_ms: u64,
    /// The tenant the object belongs to.
    pub tenant: TenantId,
    /// The object (a mailbox, an activation...).
    pub data: serde_json::Value,
}

fn key(t: TenantId, id: WebhookId) -> Vec<u8> {
    dir::owned_key(t, WEBHOOK, id.0)
}

/// Accepts only absolute `http` and `https` URLs with a host, no credentials, no fragment.
pub fn validate_url(url: &str) -> Result<String> {
    let bad = |why: &str| CoreError::invalid("url", why);
    if url.len() > MAX_URL {
        return Err(bad("too long"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains spaces or control characters"));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| bad("only http and https URLs are accepted"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.is_empty() || authority.starts_with(':') {
        return Err(bad("needs a host"));
    }
    if authority.contains('@') {
        return Err(bad(
            "credentials do not belong in the URL; the secret signs each delivery",
        ));
    }
    if url.contains('#') {
        return Err(bad("a fragment is not sent to a server"));
    }
    Ok(url.to_string())
}

fn validate_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() {
        return Err(CoreError::invalid(
            "events",
            "subscribe to at least one event",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for e in events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(CoreError::invalid(
                "events",
                format!("unknown event {e:?}; known: {}", EVENTS.join(", ")),
            ));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// Loads a webhook the actor may act on with `action`.
fn load_checked(
    r: &impl Reader,
    actor: &Actor,
    id: WebhookId,
    action: Action,
) -> Result<WebhookRecord> {
    let loc = dir::locate(r, WEBHOOK, id.0)?.ok_or_else(|| CoreError::not_found("webhook", id))?;
    let t = tenant::load(r, loc.tenant)?;
    check(
        actor,
        action,
        &Target::of(&t, Object::Tenant),
        "webhook",
        id,
    )?;
    dir::get(r, Keyspace::Directory, &key(loc.tenant, id))?
        .ok_or_else(|| CoreError::not_found("webhook", id))
}

/// The audit name of an audited change that is also a webhook event.
fn event_of(what: &str) -> Option<&'static str> {
    Some(match what {
        "activation.request" => "activation.requested",
        "activation.approve" => "activation.approved",
        "activation.reject" => "activation.rejected",
        "mailbox.create" => "mailbox.created",
        "mailbox.delete" => "mailbox.deleted",
        _ => return None,
    })
}

/// Emits the event an audited change stands for, if it is one (called by
/// [`marque_core::audit`] for every change, inside the change's transaction).
pub(crate) fn emit_audited(
    txn: &mut Txn<'_>,
    what: &str,
    path: &[TenantId],
    detail: &serde_json::Value,
) -> Result<()> {
    match event_of(what) {
        Some(event) => emit(txn, event, path, detail),
        None => Ok(()),
    }
}

/// Writes `event` about an object of the tenant at the end of `path` into the outbox of every
/// enabled webhook of that tenant and of the tenants above it that subscribed to it.
pub(crate) fn emit(
    txn: &mut Txn<'_>,
    event: &str,
    path: &[TenantId],
    data: &serde_json::Value,
) -> Result<()> {
    let mut hooks: Vec<WebhookRecord> = Vec::new();
    for t in path {
        let mine: Vec<WebhookRecord> =
            dir::list(txn, Keyspace::Directory, &dir::owned_prefix(*t, WEBHOOK))?;
        hooks.extend(
            mine.into_iter()
                .filter(|h| h.webhook.enabled && h.webhook.events.iter().any(|e| e == event)),
        );
    }
    if hooks.is_empty() {
        return Ok(());
    }
    let ev = Event {
        id: txn.next_id("webhook-event")?,
        event: event.to_string(),
        time_ms: marque_store::now_ms(),
        tenant: path.last().copied().unwrap_or(marque_core::PROVIDER),
        data: data.clone(),
    };
    let body =
        serde_json::to_string(&ev).map_err(|e| CoreError::Task(format!("webhook event: {e}")))?;
    for h in hooks {
        outbox::enqueue(txn, &h.webhook, event, &body)?;
    }
    Ok(())
}

impl Hosting {
    /// Refuses a URL whose host is, or resolves to, an address webhooks may not reach
    /// ([`crate::webhook_target`]), or that does not resolve at all.
    async fn vet_target(&self, url: &str) -> Result<()> {
        self.webhook_addresses(url)
            .await
            .map(|_| ())
            .map_err(|e| CoreError::invalid("url", e.to_string()))
    }

    /// Creates a webhook; returns it with its signing secret, which is not shown again.
    /// The URL's host must resolve to addresses webhooks may reach.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        new: NewWebhook,
    ) -> Result<(Webhook, String)> {
        let url = validate_url(&new.url)?;
        self.vet_target(&url).await?;
        let events = validate_events(&new.events)?;
        let tid = new.tenant.unwrap_or_else(|| actor.principal.tenant());
        let secret = format!("whsec_{}", &marque_core::token::generate()[4..]);
        let actor = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let t = tenant::load(txn, tid)?;
                check(
                    &actor,
                    Action::WebhookWrite,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    tid,
                )?;
                let existing = dir::list::<WebhookRecord>(
                    txn,
                    Keyspace::Directory,
                    &dir::owned_prefix(tid, WEBHOOK),
                )?;
                if existing.len() >= MAX_PER_TENANT {
                    return Err(CoreError::LimitExceeded {
                        limit: format!("webhooks of tenant {tid}"),
                        used: existing.len() as i64,
                        requested: 1,
                        max: MAX_PER_TENANT as i64,
                    });
                }
                let id = WebhookId(txn.next_id("webhook")?);
                let webhook = Webhook {
                    id,
                    tenant: tid,
                    url,
                    events,
                    enabled: new.enabled,
                    created_ms: marque_store::now_ms(),
                };
                let rec = WebhookRecord {
                    webhook: webhook.clone(),
                    secret: secret.clone(),
                };
                dir::put(txn, Keyspace::Directory, key(tid, id), &rec)?;
                dir::set_locator(
                    txn,
                    WEBHOOK,
                    id.0,
                    Loc {
                        tenant: tid,
                        domain: None,
                    },
                )?;
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "webhook.create",
                    &t.path,
                    &[&format!("webhook:{id}")],
                    &webhook,
                )?;
                Ok((webhook, secret))
            })
            .await
    }

    /// Reads a webhook.
    pub async fn get_webhook(&self, actor: &Actor, id: WebhookId) -> Result<Webhook> {
        let actor = actor.clone();
        self.core
            .read(move |s| Ok(load_checked(s, &actor, id, Action::WebhookRead)?.webhook))
            .await
    }

    /// Lists a tenant's webhooks.
    pub async fn list_webhooks(&self, actor: &Actor, tenant: TenantId) -> Result<Vec<Webhook>> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                let t = tenant::load(s, tenant)?;
                check(
                    &actor,
                    Action::WebhookRead,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    tenant,
                )?;
                let all: Vec<WebhookRecord> =
                    dir::list(s, Keyspace::Directory, &dir::owned_prefix(tenant, WEBHOOK))?;
                Ok(all.into_iter().map(|r| r.webhook).collect())
            })
            .await
    }

    /// Changes a webhook's URL, events or whether it is enabled.
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: WebhookId,
        ch: WebhookChanges,
    ) -> Result<Webhook> {
        let url = ch.url.as_deref().map(validate_url).transpose()?;
        if let Some(u) = &url {
            self.vet_target(u).await?;
        }
        let events = ch.events.as_deref().map(validate_events).transpose()?;
        let actor = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let mut rec = load_checked(txn, &actor, id, Action::WebhookWrite)?;
                let w = &mut rec.webhook;
                if let Some(u) = url {
                    w.url = u;
                }
                if let Some(e) = events {
                    w.events = e;
                }
                if let Some(e) = ch.enabled {
                    w.enabled = e;
                }
                let t = tenant::load(txn, w.tenant)?;
                dir::put(txn, Keyspace::Directory, key(w.tenant, id), &rec)?;
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "webhook.update",
                    &t.path,
                    &[&format!("webhook:{id}")],
                    &rec.webhook,
                )?;
                Ok(rec.webhook)
            })
            .await
    }

    /// Deletes a webhook and its delivery log; what its outbox still holds is dropped unsent.
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<()> {
        let actor = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let rec = load_checked(txn, &actor, id, Action::WebhookWrite)?;
                let w = &rec.webhook;
                let t = tenant::load(txn, w.tenant)?;
                txn.delete(Keyspace::Directory, key(w.tenant, id));
                txn.delete(Keyspace::Names, dir::locator_key(WEBHOOK, id.0));
                let prefix = outbox::log_prefix(w.tenant, id);
                for (k, _) in txn.scan(
                    Keyspace::Directory,
                    &Range::prefix(&prefix),
                    Direction::Forward,
                    dir::SCAN_MAX,
                )? {
                    txn.delete(Keyspace::Directory, k);
                }
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "webhook.delete",
                    &t.path,
                    &[&format!("webhook:{id}")],
                    w,
                )?;
                Ok(())
            })
            .await
    }

    /// A webhook's delivery attempts, newest first, continuing below `before` if given.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: WebhookId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<DeliveryLog>, Option<u64>)> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                let rec = load_checked(s, &actor, id, Action::WebhookRead)?;
                outbox::log_page(s, &rec.webhook, before, limit)
            })
            .await
    }
}

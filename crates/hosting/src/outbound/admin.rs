//! The queue as principals see it: listed, shown, retried and deleted through
//! [`marque_core::policy::authorize`]. An entry belongs to its owning tenant, so the provider sees
//! every entry and a tenant admin the entries of its subtree; anyone else sees none.

use std::collections::HashMap;

use serde::Serialize;

use marque_store::queue;

use marque_core::audit;
use marque_core::directory::Reader;
use marque_core::error::{CoreError, Result};
use marque_core::ids::TenantId;
use marque_core::policy::{Action, Object, Target, authorize, check};
use marque_core::principal::Actor;
use marque_core::tenant::{self, Tenant};

use super::{QueuedMessage, get};
use crate::Hosting;

/// Entries read per scan step while a listing filters by scope.
const SCAN_STEP: usize = 500;

/// One queue entry with its schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueItem {
    pub id: u64,
    /// When it is next attempted (ms since the epoch); while a worker holds it, when its
    /// lease runs out.
    pub next_attempt_ms: u64,
    #[serde(flatten)]
    pub message: QueuedMessage,
}

fn target(r: &impl Reader, cache: &mut HashMap<TenantId, Tenant>, t: TenantId) -> Result<Target> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(t) {
        let loaded = match tenant::load(r, t) {
            Ok(x) => x,
            // The owner was deleted: the entry stays the provider's.
            Err(CoreError::NotFound { .. }) => tenant::load(r, marque_core::PROVIDER)?,
            Err(e) => return Err(e),
        };
        slot.insert(loaded);
    }
    let owner = &cache[&t];
    Ok(Target::of(owner, Object::Tenant))
}

fn load_checked(r: &impl Reader, actor: &Actor, action: Action, id: u64) -> Result<QueueItem> {
    let (due, message) = get(r, id)?.ok_or_else(|| CoreError::not_found("queue entry", id))?;
    let t = target(r, &mut HashMap::new(), message.tenant)?;
    check(actor, action, &t, "queue entry", id)?;
    Ok(QueueItem {
        id,
        next_attempt_ms: due,
        message,
    })
}

impl Hosting {
    /// Lists the entries the actor may see, by id, after `after` (exclusive), at most `limit`.
    pub async fn queue_list(
        &self,
        actor: &Actor,
        after: u64,
        limit: usize,
    ) -> Result<Vec<QueueItem>> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                let mut cache = HashMap::new();
                let mut out = Vec::new();
                let mut cursor = after;
                loop {
                    let page = queue::list(s, cursor, SCAN_STEP)?;
                    let Some(last) = page.last() else { break };
                    cursor = last.id;
                    let full = page.len() < SCAN_STEP;
                    for e in page {
                        let message = QueuedMessage::decode(e.id, &e.payload)?;
                        let t = target(s, &mut cache, message.tenant)?;
                        if authorize(&actor, Action::QueueRead, &t).is_ok() {
                            out.push(QueueItem {
                                id: e.id,
                                next_attempt_ms: e.due_ms,
                                message,
                            });
                            if out.len() >= limit {
                                return Ok(out);
                            }
                        }
                    }
                    if full {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Shows one entry.
    pub async fn queue_get(&self, actor: &Actor, id: u64) -> Result<QueueItem> {
        let actor = actor.clone();
        self.core
            .read(move |s| load_checked(s, &actor, Action::QueueRead, id))
            .await
    }

    /// Makes an entry due now; its pending recipients are tried at the next worker pass.
    pub async fn queue_retry(&self, actor: &Actor, id: u64) -> Result<QueueItem> {
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let mut item = load_checked(txn, &a, Action::QueueWrite, id)?;
                let now = marque_store::now_ms();
                queue::reschedule(txn, id, now, None)?;
                item.next_attempt_ms = now;
                let owners = tenant::load(txn, item.message.tenant)
                    .map(|t| t.path)
                    .unwrap_or_else(|_| vec![marque_core::PROVIDER]);
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "queue.retry",
                    &owners,
                    &[&format!("queue:{id}")],
                    &item,
                )?;
                Ok(item)
            })
            .await
    }

    /// Deletes an entry without sending it (no DSN), releasing its body.
    pub async fn queue_delete(&self, actor: &Actor, id: u64) -> Result<QueueItem> {
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let item = load_checked(txn, &a, Action::QueueWrite, id)?;
                super::remove(txn, id)?;
                let owners = tenant::load(txn, item.message.tenant)
                    .map(|t| t.path)
                    .unwrap_or_else(|_| vec![marque_core::PROVIDER]);
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "queue.delete",
                    &owners,
                    &[&format!("queue:{id}")],
                    &item,
                )?;
                Ok(item)
            })
            .await
    }
}

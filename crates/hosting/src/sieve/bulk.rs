//! One Sieve script on many mailboxes at once (a provider rule filing spam to Junk, say): a
//! domain, a tenant's whole subtree, or a list of addresses.
//!
//! The script is compiled once. The selection is authorised as a whole (the actor must manage
//! the domain or tenant), and every mailbox again on its own. Each mailbox is one transaction,
//! so a mailbox gets the whole change or none of it; transactions of a chunk run together so
//! that the store commits them in shared fsyncs. Mailboxes are read a chunk at a time, so
//! memory stays bounded by the chunk and the results. One audit record covers the call.

use serde::Serialize;
use tokio::task::JoinSet;

use marque_store::sieve as store;
use marque_store::{Direction, Keyspace, Range, Txn};

use marque_core::Core;
use marque_core::directory::{self as dir, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::{DomainId, TenantId};
use marque_core::mailbox::MailboxRecord;
use marque_core::policy::{Action, Object, Target, check as authorize};
use marque_core::principal::Actor;
use marque_core::{audit, domain, tenant, validate};

use super::{SieveLimits, compile, owner, owner_of, settings, store_script};
use crate::Hosting;

/// Mailboxes read and written together.
pub const CHUNK: usize = 256;
/// Most addresses one call may name.
pub const MAX_ADDRESSES: usize = 100_000;

/// Which mailboxes a bulk filter goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every mailbox of a domain.
    Domain(String),
    /// Every mailbox of a tenant and of the tenants below it.
    Tenant(TenantId),
    /// These mailboxes.
    Addresses(Vec<String>),
}

/// What happened to one mailbox.
#[derive(Debug)]
pub struct BulkResult {
    pub address: String,
    pub result: Result<()>,
}

#[derive(Serialize)]
struct Detail<'a> {
    name: &'a str,
    size: usize,
    activate: bool,
    selected: usize,
    succeeded: usize,
}

/// Sets script `name` to `text` on every mailbox of `selection` that `actor` may manage, and
/// makes it active if `activate` (keeping the mailbox's managed vacation and forwarding
/// section in it). Fails as a whole only if the script does not compile or the selection
/// itself is not the actor's; otherwise there is one result per mailbox.
pub async fn bulk_set(
    hosting: &Hosting,
    actor: &Actor,
    selection: Selection,
    name: &str,
    text: &str,
    activate: bool,
) -> Result<Vec<BulkResult>> {
    store::check_name(name).map_err(|e| super::script_error(e, name))?;
    let core = hosting.core();
    let limits = hosting.sieve_limits();
    compile(text.as_bytes(), &limits)?;
    let job = Job {
        core: core.clone(),
        actor: actor.clone(),
        name: name.to_string(),
        text: text.as_bytes().to_vec().into(),
        activate,
        limits,
    };
    let (owners, target, results) = match selection {
        Selection::Addresses(list) => {
            if list.len() > MAX_ADDRESSES {
                return Err(CoreError::invalid(
                    "addresses",
                    format!("at most {MAX_ADDRESSES} in one call"),
                ));
            }
            let mut results = Vec::with_capacity(list.len());
            for chunk in list.chunks(CHUNK) {
                results.extend(job.run(chunk.iter().cloned().map(Item::Address)).await);
            }
            let target = format!("mailboxes:{}", list.len());
            (actor.principal.path.clone(), target, results)
        }
        Selection::Domain(name) => {
            let name = validate::domain(&name)?;
            let (a, n) = (actor.clone(), name.clone());
            let (d, t) = core
                .read(move |s| {
                    let (d, t) = domain::load_by_name(s, &n)?;
                    let target = Target::of(&t, Object::Domain(d.id));
                    authorize(&a, Action::MailboxSettings, &target, "domain", &n)?;
                    Ok((d.id, t))
                })
                .await?;
            let results = job.domain(t.id, d).await?;
            (t.path, format!("domain:{name}"), results)
        }
        Selection::Tenant(id) => {
            let a = actor.clone();
            let (t, domains) = core
                .read(move |s| {
                    let t = tenant::load(s, id)?;
                    let target = Target::of(&t, Object::Tenant);
                    authorize(&a, Action::MailboxSettings, &target, "tenant", id)?;
                    Ok((t, subtree_domains(s, id)?))
                })
                .await?;
            let mut results = Vec::new();
            for (tenant, d) in domains {
                results.extend(job.domain(tenant, d).await?);
            }
            (t.path, format!("tenant:{id}"), results)
        }
    };
    let succeeded = results.iter().filter(|r| r.result.is_ok()).count();
    let detail = serde_json::to_value(Detail {
        name,
        size: text.len(),
        activate,
        selected: results.len(),
        succeeded,
    })
    .unwrap_or_default();
    let a = actor.clone();
    core.write(a.clone(), move |txn: &mut Txn<'_>, hooks| {
        audit::record(txn, hooks, &a, "sieve.bulk", &owners, &[&target], &detail)
    })
    .await?;
    tracing::info!(
        script = name,
        selected = results.len(),
        succeeded,
        "bulk Sieve filter set"
    );
    Ok(results)
}

/// Every (tenant, domain) in `root`'s subtree.
fn subtree_domains(r: &impl Reader, root: TenantId) -> Result<Vec<(TenantId, DomainId)>> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(t) = todo.pop() {
        let domains: Vec<domain::Domain> =
            dir::list(r, Keyspace::Directory, &dir::domains_prefix(t))?;
        out.extend(domains.into_iter().map(|d| (t, d.id)));
        todo.extend(tenant::children(r, t)?.into_iter().map(|c| c.id));
    }
    Ok(out)
}

/// A mailbox to change: named by the caller, or found in a domain.
enum Item {
    Address(String),
    Record(Box<MailboxRecord>),
}

/// What every mailbox of one call gets.
struct Job {
    core: Core,
    actor: Actor,
    name: String,
    text: std::sync::Arc<[u8]>,
    activate: bool,
    limits: SieveLimits,
}

impl Job {
    /// Every mailbox of one domain, a chunk at a time.
    async fn domain(&self, t: TenantId, d: DomainId) -> Result<Vec<BulkResult>> {
        let prefix = dir::in_domain_prefix(t, dir::MAILBOX, d);
        let mut range = Range::prefix(&prefix);
        let mut results = Vec::new();
        loop {
            let page_range = range.clone();
            let rows = self
                .core
                .read(move |s| {
                    Ok(s.scan(Keyspace::Directory, &page_range, Direction::Forward, CHUNK)?)
                })
                .await?;
            let Some((last, _)) = rows.last() else { break };
            let mut next = last.clone();
            next.push(0);
            range.start = next;
            let full = rows.len() == CHUNK;
            let items = rows
                .into_iter()
                .map(|(_, v)| {
                    marque_store::decode::<MailboxRecord>(Keyspace::Directory, &v)
                        .map(|r| Item::Record(Box::new(r)))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            results.extend(self.run(items.into_iter()).await);
            if !full {
                break;
            }
        }
        Ok(results)
    }

    /// One chunk: a transaction per mailbox, all in flight together.
    async fn run(&self, items: impl Iterator<Item = Item>) -> Vec<BulkResult> {
        let mut set = JoinSet::new();
        let mut addresses = Vec::new();
        let mut slots = std::collections::HashMap::new();
        for item in items {
            let (actor, name, text) = (self.actor.clone(), self.name.clone(), self.text.clone());
            let (activate, limits, store) = (self.activate, self.limits, self.core.store().clone());
            addresses.push(match &item {
                Item::Address(a) => validate::address(a).unwrap_or_else(|_| a.clone()),
                Item::Record(r) => r.mailbox.address.clone(),
            });
            let handle = set.spawn(async move {
                store
                    .transact(move |txn| {
                        let o = match item {
                            Item::Address(a) => owner(txn, &actor, &validate::address(&a)?)?,
                            Item::Record(r) => owner_of(txn, &actor, *r)?,
                        };
                        store_script(txn, &limits, o.account, &name, &text)?;
                        if activate {
                            store::set_active(txn, o.account, Some(&name))
                                .map_err(|e| super::script_error(e, &name))?;
                            let s = settings::load(txn, o.account)?;
                            settings::apply(txn, &limits, o.account, &s)?;
                        }
                        Ok::<(), CoreError>(())
                    })
                    .await
            });
            slots.insert(handle.id(), addresses.len() - 1);
        }
        let mut out: Vec<Option<Result<()>>> = addresses.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, r)) => (id, r),
                Err(e) => (
                    e.id(),
                    Err(CoreError::Task(format!("bulk Sieve task: {e}"))),
                ),
            };
            if let Some(slot) = slots.get(&id).and_then(|i| out.get_mut(*i)) {
                *slot = Some(result);
            }
        }
        let out = addresses
            .into_iter()
            .zip(out)
            .map(|(address, result)| BulkResult {
                address,
                result: result
                    .unwrap_or_else(|| Err(CoreError::Task("bulk Sieve task lost".into()))),
            });
        out.collect()
    }
}

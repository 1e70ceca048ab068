//! The steps of a delivery around the scripts: reading each recipient's chain from the store,
//! running it and preparing every distinct content to store (before the transaction), and the
//! DSN of rejected recipients (inside it).

use std::collections::HashMap;

use marque_core::{Actor, Core};
use marque_store::mail::PreparedMessage;
use marque_store::sieve_global::{self, Phase, Scope};
use marque_store::{Reader, Store, Txn};
use tracing::warn;

use super::dsn::{self, Refused};
use super::engine::SieveEngine;
use super::run::{self, ChainScript, Plan, RunContext};
use crate::deliver::{DeliveryError, LocalRecipient, RecipientResult};
use crate::outbox::{OutboundKind, OutboundMessage, Outbox};

/// One recipient's scripts, in order: (name for the log, text).
pub type Chain = Vec<(String, Vec<u8>)>;

/// Reads the chain of every recipient: global "before" scripts (tenant chain from the provider
/// down, then the domain), the active user script, global "after" scripts (the domain, then the
/// tenant chain from the recipient's tenant up).
pub async fn chains(
    core: &Core,
    recipients: &[LocalRecipient],
) -> Result<Vec<Chain>, DeliveryError> {
    let op = Actor::operator();
    let mut paths = HashMap::new();
    let mut domains = HashMap::new();
    let mut scopes = Vec::with_capacity(recipients.len());
    for r in recipients {
        if let std::collections::hash_map::Entry::Vacant(e) = paths.entry(r.tenant) {
            e.insert(core.get_tenant(&op, r.tenant).await?.path);
        }
        let domain_name = r.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        if !domains.contains_key(domain_name) {
            // An address whose domain is gone has no domain scripts.
            let d = core.get_domain(&op, domain_name).await.ok();
            domains.insert(domain_name.to_string(), d);
        }
        let mut tenant_scopes: Vec<Scope> =
            paths[&r.tenant].iter().map(|t| Scope::Tenant(*t)).collect();
        if let Some(Some(d)) = domains.get(domain_name) {
            tenant_scopes.push(Scope::Domain {
                tenant: d.tenant,
                domain: d.id,
            });
        }
        scopes.push((r.account, r.address.clone(), tenant_scopes));
    }
    let chains = core
        .store()
        .read(move |s| {
            scopes
                .iter()
                .map(|(account, address, scopes)| read_chain(s, *account, address, scopes))
                .collect::<marque_store::Result<Vec<_>>>()
        })
        .await?;
    Ok(chains)
}

fn read_chain(
    s: &impl Reader,
    account: marque_store::AccountId,
    address: &str,
    scopes: &[Scope],
) -> marque_store::Result<Chain> {
    let mut chain = Vec::new();
    for scope in scopes {
        if let Some(text) = sieve_global::get(s, *scope, Phase::Before)? {
            chain.push((scope_name(*scope, Phase::Before), text));
        }
    }
    match marque_store::sieve::active(s, account) {
        Ok(Some((name, text))) => chain.push((format!("user script {name:?}"), text)),
        Ok(None) => {}
        // A broken pointer to the active script must not stop the mail.
        Err(e) => warn!(%address, error = %e, "cannot read the active Sieve script"),
    }
    for scope in scopes.iter().rev() {
        if let Some(text) = sieve_global::get(s, *scope, Phase::After)? {
            chain.push((scope_name(*scope, Phase::After), text));
        }
    }
    Ok(chain)
}

fn scope_name(scope: Scope, phase: Phase) -> String {
    let phase = match phase {
        Phase::Before => "before",
        Phase::After => "after",
    };
    match scope {
        Scope::Tenant(t) => format!("global script of tenant {} ({phase})", t.0),
        Scope::Domain { domain, .. } => format!("global script of domain {} ({phase})", domain.0),
    }
}

/// The plans of all recipients and the prepared contents they store.
#[derive(Debug)]
pub struct Evaluated {
    pub plans: Vec<Plan>,
    /// Distinct contents; `prepared[0]` is the message as received.
    prepared: Vec<PreparedMessage>,
    /// Per recipient, per variant: the index in `prepared`.
    index: Vec<Vec<usize>>,
    raw: Vec<u8>,
}

impl Evaluated {
    /// The message as received, prepared.
    pub fn original(&self) -> &PreparedMessage {
        &self.prepared[0]
    }

    /// The message as received.
    pub fn original_raw(&self) -> &[u8] {
        &self.raw
    }

    /// Recipient `i`'s contents, by variant.
    pub fn prepared_for(&self, i: usize) -> Vec<&PreparedMessage> {
        self.index[i].iter().map(|&p| &self.prepared[p]).collect()
    }
}

/// Runs every recipient's chain and prepares each distinct content once (blocking: call it on
/// the blocking pool).
pub fn evaluate(
    engine: &SieveEngine,
    store: &Store,
    recipients: &[LocalRecipient],
    sender: &str,
    chains: Vec<Chain>,
    raw: Vec<u8>,
) -> marque_store::Result<Evaluated> {
    let now = marque_store::now_secs();
    let mut plans = Vec::with_capacity(recipients.len());
    for (r, chain) in recipients.iter().zip(chains) {
        let chain: Vec<ChainScript> = chain
            .into_iter()
            .map(|(name, text)| ChainScript {
                compiled: engine.compile(&text),
                name,
            })
            .collect();
        let cx = RunContext {
            engine,
            store,
            account: r.account,
            address: &r.address,
            sender,
            raw: &raw,
            now,
        };
        plans.push(run::evaluate(&cx, &chain));
    }
    let mut prepared = vec![PreparedMessage::new(store, &raw)?];
    let mut by_hash: HashMap<[u8; 32], usize> = HashMap::new();
    by_hash.insert(*blake3::hash(&raw).as_bytes(), 0);
    let mut index = Vec::with_capacity(plans.len());
    for plan in &plans {
        let mut idx = vec![0; plan.variants.len() + 1];
        for action in &plan.stores {
            let v = action.variant;
            if v == 0 || v > plan.variants.len() || idx[v] != 0 {
                continue;
            }
            let content = plan.content(&raw, v);
            let key = *blake3::hash(content).as_bytes();
            idx[v] = match by_hash.get(&key) {
                Some(p) => *p,
                None => {
                    prepared.push(PreparedMessage::new(store, content)?);
                    by_hash.insert(key, prepared.len() - 1);
                    prepared.len() - 1
                }
            };
        }
        index.push(idx);
    }
    Ok(Evaluated {
        plans,
        prepared,
        index,
        raw,
    })
}

/// Queues a DSN (RFC 3464) to `sender` for the recipients a Sieve `reject` refused, when some
/// but not all of them did (when all did, the SMTP session refuses the message instead). Never
/// to the null sender (RFC 5429 §2.1, RFC 3461 §6.2).
#[allow(clippy::too_many_arguments)]
pub fn bounce_rejected(
    txn: &mut Txn<'_>,
    outbox: &dyn Outbox,
    hostname: &str,
    sender: &str,
    recipients: &[LocalRecipient],
    results: &[RecipientResult],
    raw: &[u8],
) -> Result<(), DeliveryError> {
    let refused: Vec<(Refused, marque_core::TenantId)> = recipients
        .iter()
        .zip(results)
        .filter_map(|(r, res)| match res {
            RecipientResult::Rejected { reason } => Some((
                Refused {
                    address: r.address.clone(),
                    reason: reason.clone(),
                },
                r.tenant,
            )),
            _ => None,
        })
        .collect();
    if refused.is_empty() || refused.len() == results.len() || sender.is_empty() {
        return Ok(());
    }
    let now = marque_store::now_secs();
    let tenant = refused[0].1;
    let list: Vec<Refused> = refused.into_iter().map(|(r, _)| r).collect();
    let msg = OutboundMessage {
        from: String::new(),
        to: vec![sender.to_string()],
        raw: dsn::build(hostname, sender, &list, raw, now),
        kind: OutboundKind::Bounce,
        tenant,
    };
    match outbox.queue(txn, msg) {
        Ok(()) => Ok(()),
        Err(DeliveryError::OutboxUnavailable(why)) => {
            warn!(%sender, %why, "DSN for a Sieve reject not sent");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

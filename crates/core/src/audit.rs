//! The audit trail: one record per change, with who, what, when, from where and the outcome,
//! written in the same transaction as the change into the log of the target's tenant and of
//! every tenant above it, so that each administrator above can read it.

use serde::{Deserialize, Serialize};

use marque_store::logs::{self, Cursor, LogKind, Query, Term};
use marque_store::{TenantId, Txn};

use crate::error::{CoreError, Result};
use crate::hook::Hooks;
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::{Core, domain, tenant, validate};

/// One audit record as stored (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The principal's name.
    pub who: String,
    /// The principal's id and role.
    pub principal: serde_json::Value,
    /// What was done ("mailbox.create").
    pub what: String,
    /// What it was done to ("mailbox:a@b.example").
    pub target: String,
    /// When, in ms since the epoch.
    pub when: u64,
    /// Where from (client IP or "cli").
    pub from: String,
    pub outcome: String,
    /// The object after the change.
    pub detail: serde_json::Value,
}

/// Records a successful change. `targets[0]` names the object; further targets (its domain)
/// make the record findable from them too. `hooks` hears of it in the same transaction.
pub fn record<T: Serialize>(
    txn: &mut Txn<'_>,
    hooks: &dyn Hooks,
    actor: &Actor,
    what: &str,
    owners: &[TenantId],
    targets: &[&str],
    detail: &T,
) -> Result<()> {
    let when = crate::now_ms();
    let rec = AuditRecord {
        who: actor.principal.name.clone(),
        principal: serde_json::to_value((&actor.principal.id, &actor.principal.role))
            .unwrap_or_default(),
        what: what.to_string(),
        target: targets.first().map(|t| t.to_string()).unwrap_or_default(),
        when,
        from: actor.source.clone(),
        outcome: "ok".into(),
        detail: serde_json::to_value(detail).unwrap_or_default(),
    };
    let body =
        serde_json::to_vec(&rec).map_err(|e| CoreError::Task(format!("audit record: {e}")))?;
    let mut terms: Vec<(Term, &str)> = vec![(Term::Actor, actor.principal.name.as_str())];
    if actor.source.parse::<std::net::IpAddr>().is_ok() {
        terms.push((Term::Ip, actor.source.as_str()));
    }
    terms.extend(targets.iter().map(|t| (Term::Target, *t)));
    logs::append(txn, owners, LogKind::Audit, when, &terms, &body)?;
    // What the change means to the features above the core (a webhook event...) is written
    // in this same transaction.
    hooks.audited(txn, what, owners, &rec.detail)?;
    Ok(())
}

/// Records a refused change: the principal saw the target but was not allowed to act. The
/// record goes to the actor's own tenant and those above it (the target's tenants must not
/// learn of it from the record's placement, the actor's administrators should).
fn record_denied(txn: &mut Txn<'_>, actor: &Actor, action: Action, target: &str) -> Result<()> {
    let when = crate::now_ms();
    let rec = AuditRecord {
        who: actor.principal.name.clone(),
        principal: serde_json::to_value((&actor.principal.id, &actor.principal.role))
            .unwrap_or_default(),
        what: format!("{action:?}"),
        target: target.to_string(),
        when,
        from: actor.source.clone(),
        outcome: "denied".into(),
        detail: serde_json::Value::Null,
    };
    let body =
        serde_json::to_vec(&rec).map_err(|e| CoreError::Task(format!("audit record: {e}")))?;
    let mut terms: Vec<(Term, &str)> = vec![
        (Term::Actor, actor.principal.name.as_str()),
        (Term::Target, target),
    ];
    if actor.source.parse::<std::net::IpAddr>().is_ok() {
        terms.push((Term::Ip, actor.source.as_str()));
    }
    logs::append(
        txn,
        &actor.principal.path,
        LogKind::Audit,
        when,
        &terms,
        &body,
    )?;
    Ok(())
}

impl Core {
    /// Runs a change as one transaction, handing it the registered [`Hooks`] for
    /// [`record`]; a refusal of a visible target is itself audited.
    pub async fn write<T, F>(&self, actor: Actor, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Txn<'_>, &dyn Hooks) -> Result<T> + Send + 'static,
    {
        let hooks = self.hooks.clone();
        let result = self.store.transact(move |txn| f(txn, hooks.as_ref())).await;
        if let Err(CoreError::Forbidden { action, what, key }) = &result {
            let target = format!("{what}:{key}");
            let action = *action;
            let logged = self
                .store
                .transact(move |txn| record_denied(txn, &actor, action, &target))
                .await;
            if let Err(e) = logged {
                tracing::warn!(error = %e, "could not record a refused change in the audit trail");
            }
        }
        result
    }
}

/// Whose audit trail to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    /// Everything in a tenant's subtree.
    Tenant(TenantId),
    /// What was done in one domain.
    Domain(String),
}

/// A page of audit records, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass back as `after` to read on.
    pub next: Option<Cursor>,
}

impl Core {
    /// Reads the audit trail of a tenant's subtree or of a domain, newest first.
    pub async fn audit(
        &self,
        actor: &Actor,
        scope: AuditScope,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<AuditPage> {
        let actor = actor.clone();
        let scope = match scope {
            AuditScope::Domain(d) => AuditScope::Domain(validate::domain(&d)?),
            t => t,
        };
        self.read(move |s| {
            let (owner, term) = match &scope {
                AuditScope::Tenant(id) => {
                    let t = tenant::load(s, *id)?;
                    check(
                        &actor,
                        Action::LogRead,
                        &Target::of(&t, Object::Tenant),
                        "tenant",
                        id,
                    )?;
                    (t.id, None)
                }
                AuditScope::Domain(name) => {
                    let (d, t) = domain::load_by_name(s, name)?;
                    check(
                        &actor,
                        Action::LogRead,
                        &Target::of(&t, Object::Domain(d.id)),
                        "domain",
                        name,
                    )?;
                    (t.id, Some((Term::Target, format!("domain:{name}"))))
                }
            };
            let q = Query {
                owner,
                kind: LogKind::Audit,
                term,
                from_ms: 0,
                to_ms: u64::MAX,
                after,
                limit,
            };
            let page = logs::search(s, &q)?;
            let records = page
                .entries
                .iter()
                .filter_map(|e| serde_json::from_slice(&e.body).ok())
                .collect();
            Ok(AuditPage {
                records,
                next: page.next,
            })
        })
        .await
    }
}

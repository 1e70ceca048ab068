//! Prepaid credit: a balance per tenant and the ledger of every movement. The check and the
//! debit happen in one serializable transaction, so concurrent activations can never take the
//! balance below zero.

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Reader, Txn};

use crate::activation;
use crate::audit;
use crate::directory as dir;
use crate::error::{CoreError, Result};
use crate::ids::TenantId;
use crate::policy::{Action, Object, Target, check};
use crate::principal::Actor;
use crate::{Core, tenant};

/// One movement of credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: u64,
    pub time_ms: u64,
    /// Positive for a top-up, negative for a debit.
    pub delta: i64,
    /// The balance after this entry.
    pub balance: i64,
    pub reason: String,
    /// Who caused it.
    pub by: String,
}

fn post(txn: &mut Txn<'_>, tenant: TenantId, delta: i64, reason: &str, by: &str) -> Result<i64> {
    let balance = txn.add(&dir::credit_counter(tenant), delta)?;
    let id = txn.next_id("ledger")?;
    let entry = LedgerEntry {
        id,
        time_ms: crate::now_ms(),
        delta,
        balance,
        reason: reason.into(),
        by: by.into(),
    };
    dir::put(
        txn,
        Keyspace::Directory,
        dir::owned_key(tenant, dir::LEDGER, id),
        &entry,
    )?;
    Ok(balance)
}

/// Debits `amount` if the balance covers it; returns whether it did.
pub(crate) fn debit(
    txn: &mut Txn<'_>,
    tenant: TenantId,
    amount: u64,
    reason: &str,
    by: &str,
) -> Result<bool> {
    let amount = i64::try_from(amount).map_err(|_| CoreError::invalid("price", "too large"))?;
    if txn.counter(&dir::credit_counter(tenant))? < amount {
        return Ok(false);
    }
    if amount > 0 {
        post(txn, tenant, -amount, reason, by)?;
    }
    Ok(true)
}

impl Core {
    /// Adds credit to a tenant (from above), then lets activations waiting for credit go
    /// through, oldest first, while it lasts. Returns the new balance.
    pub async fn top_up(
        &self,
        actor: &Actor,
        tenant: TenantId,
        amount: u64,
        note: &str,
    ) -> Result<i64> {
        let amount = i64::try_from(amount)
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| CoreError::invalid("amount", "must be positive"))?;
        let note = note.trim().to_string();
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let t = tenant::load(txn, tenant)?;
            check(
                &actor,
                Action::CreditTopUp,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            let reason = if note.is_empty() {
                "top-up".to_string()
            } else {
                format!("top-up: {note}")
            };
            post(txn, tenant, amount, &reason, &actor.principal.name)?;
            activation::retry_waiting(txn, tenant, &actor.principal.name)?;
            let balance = txn.counter(&dir::credit_counter(tenant))?;
            audit::record(
                txn,
                hooks,
                &actor,
                "credit.top_up",
                &t.path,
                &[&format!("tenant:{tenant}")],
                &serde_json::json!({ "amount": amount, "balance": balance }),
            )?;
            Ok(balance)
        })
        .await
    }

    /// A tenant's credit balance.
    pub async fn credit(&self, actor: &Actor, tenant: TenantId) -> Result<i64> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::CreditRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            Ok(s.counter(&dir::credit_counter(tenant))?)
        })
        .await
    }

    /// A tenant's credit ledger, oldest first.
    pub async fn ledger(&self, actor: &Actor, tenant: TenantId) -> Result<Vec<LedgerEntry>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::CreditRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            dir::list(
                s,
                Keyspace::Directory,
                &dir::owned_prefix(tenant, dir::LEDGER),
            )
        })
        .await
    }
}

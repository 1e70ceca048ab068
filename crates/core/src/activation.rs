//! Activations: how a reseller-kind manager brings a customer to life, under its activation
//! policy and against its tenant's prepaid credit; and the activation/deactivation events and
//! monthly counts that feed the reseller's own billing.

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Txn};

use crate::Core;
use crate::audit;
use crate::credit;
use crate::directory::{self as dir, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::hook::Hooks;
use crate::ids::{ActivationId, PlanId, StaffId, TenantId};
use crate::policy::{Action, Object, Target, authorize, check};
use crate::principal::{Actor, Via};
use crate::tenant::{self, NewTenant, Tenant, TenantKind, TenantState};

/// How a reseller-kind manager's activations go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationPolicy {
    /// At once, if the credit covers it.
    Immediate,
    /// After an administrator of the manager's tenant (or above) approves.
    Queue,
    /// After the parent's own system approves through the API (a token, not a person).
    Api,
}

/// Where an activation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationState {
    AwaitingApproval,
    /// Approved (or needing no approval) but not yet covered by the credit.
    AwaitingCredit,
    Active,
    Rejected,
    Deactivated,
}

/// One activation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub id: ActivationId,
    /// The manager's tenant: its credit pays, its administrators approve.
    pub tenant: TenantId,
    pub customer: TenantId,
    pub manager: StaffId,
    pub plan: PlanId,
    pub price_credits: u64,
    pub policy: ActivationPolicy,
    pub state: ActivationState,
    pub requested_ms: u64,
    pub decided_ms: Option<u64>,
    pub decided_by: Option<String>,
}

/// What happened to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Activation,
    Deactivation,
}

impl EventKind {
    fn code(self) -> u8 {
        match self {
            EventKind::Activation => 1,
            EventKind::Deactivation => 2,
        }
    }
}

/// An activation or deactivation, kept by every tenant above the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationEvent {
    pub time_ms: u64,
    pub kind: EventKind,
    pub customer: TenantId,
    pub customer_name: String,
    pub plan: Option<PlanId>,
    pub manager: Option<StaffId>,
}

/// Activations and deactivations in one month of a tenant's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyCounts {
    /// `yyyymm`.
    pub month: u32,
    pub activations: i64,
    pub deactivations: i64,
}

/// The month (`yyyymm`, UTC) of a time in ms.
pub fn month_of(time_ms: u64) -> u32 {
    let secs = i64::try_from(time_ms / 1000).unwrap_or(i64::MAX);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => u32::try_from(t.year()).unwrap_or(0) * 100 + u32::from(u8::from(t.month())),
        Err(_) => 0,
    }
}

fn key(a: &Activation) -> Vec<u8> {
    dir::owned_key(a.tenant, dir::ACTIVATION, a.id.0)
}

fn load(r: &impl Reader, id: ActivationId) -> Result<(Activation, Tenant)> {
    let loc = dir::locate(r, dir::ACTIVATION, id.0)?
        .ok_or_else(|| CoreError::not_found("activation", id))?;
    let a: Activation = dir::get(
        r,
        Keyspace::Directory,
        &dir::owned_key(loc.tenant, dir::ACTIVATION, id.0),
    )?
    .ok_or_else(|| CoreError::not_found("activation", id))?;
    Ok((a, tenant::load(r, loc.tenant)?))
}

fn target(t: &Tenant, a: &Activation) -> Target {
    Target {
        requested_by: Some(a.manager),
        ..Target::of(t, Object::Activation)
    }
}

/// Records an activation or deactivation of `customer` with every tenant above it.
pub(crate) fn record_event(
    txn: &mut Txn<'_>,
    customer: &Tenant,
    kind: EventKind,
    manager: Option<StaffId>,
) -> Result<()> {
    let now = crate::now_ms();
    let month = month_of(now);
    let id = txn.next_id("activation-event")?;
    let event = ActivationEvent {
        time_ms: now,
        kind,
        customer: customer.id,
        customer_name: customer.name.clone(),
        plan: customer.plan,
        manager,
    };
    for t in customer.path.iter().filter(|t| **t != customer.id) {
        txn.add(&dir::monthly_counter(*t, month, kind.code()), 1)?;
        let k = marque_store::Key::new()
            .u64(t.0)
            .tag(dir::EVENT)
            .u64(now)
            .u64(id)
            .into_bytes();
        dir::put(txn, Keyspace::Directory, k, &event)?;
    }
    Ok(())
}

/// Debits the activation's price and activates its customer if the credit covers it; else the
/// activation waits for credit. Returns whether it went through.
pub(crate) fn try_activate(txn: &mut Txn<'_>, a: &mut Activation, by: &str) -> Result<bool> {
    let reason = format!("activation {} of customer {}", a.id, a.customer);
    if !credit::debit(txn, a.tenant, a.price_credits, &reason, by)? {
        a.state = ActivationState::AwaitingCredit;
        return Ok(false);
    }
    let mut customer = tenant::load(txn, a.customer)?;
    customer.state = TenantState::Active;
    dir::put(
        txn,
        Keyspace::Directory,
        dir::tenant_key(customer.id),
        &customer,
    )?;
    record_event(txn, &customer, EventKind::Activation, Some(a.manager))?;
    a.state = ActivationState::Active;
    a.decided_ms = Some(crate::now_ms());
    Ok(true)
}

/// Retries the activations of `tenant` that wait for credit, oldest first, while it lasts.
pub(crate) fn retry_waiting(txn: &mut Txn<'_>, tenant: TenantId, by: &str) -> Result<()> {
    let waiting: Vec<Activation> = dir::list(
        txn,
        Keyspace::Directory,
        &dir::owned_prefix(tenant, dir::ACTIVATION),
    )?;
    for mut a in waiting
        .into_iter()
        .filter(|a| a.state == ActivationState::AwaitingCredit)
    {
        if !try_activate(txn, &mut a, by)? {
            break;
        }
        dir::put(txn, Keyspace::Directory, key(&a), &a)?;
    }
    Ok(())
}

/// Creates a pending customer and its activation for a reseller-kind manager (its permission
/// to ask was checked by the caller).
pub(crate) fn request(
    txn: &mut Txn<'_>,
    hooks: &dyn Hooks,
    actor: &Actor,
    parent: &Tenant,
    new: &NewTenant,
) -> Result<(Tenant, Activation)> {
    let (Some(manager), Some(policy)) =
        (actor.principal.staff(), actor.principal.activation_policy())
    else {
        return Err(CoreError::Forbidden {
            action: Action::ActivationRequest,
            what: "tenant",
            key: parent.id.to_string(),
        });
    };
    if new.kind != TenantKind::Customer {
        return Err(CoreError::invalid("kind", "activations create customers"));
    }
    let plan_id = new
        .plan
        .ok_or_else(|| CoreError::invalid("plan", "an activation needs a plan"))?;
    let (plan, owner) = crate::plan::load(txn, plan_id)?;
    check(
        actor,
        Action::PlanUse,
        &Target::of(&owner, Object::Plan(plan_id)),
        "plan",
        plan_id,
    )?;
    let customer = tenant::insert(txn, parent, new, TenantState::Pending, Some(manager))?;
    let id = ActivationId(txn.next_id("activation")?);
    let mut a = Activation {
        id,
        tenant: parent.id,
        customer: customer.id,
        manager,
        plan: plan_id,
        price_credits: plan.price_credits,
        policy,
        state: ActivationState::AwaitingApproval,
        requested_ms: crate::now_ms(),
        decided_ms: None,
        decided_by: None,
    };
    if policy == ActivationPolicy::Immediate {
        try_activate(txn, &mut a, &actor.principal.name)?;
    }
    dir::put(txn, Keyspace::Directory, key(&a), &a)?;
    dir::set_locator(
        txn,
        dir::ACTIVATION,
        id.0,
        Loc {
            tenant: parent.id,
            domain: None,
        },
    )?;
    let customer = tenant::load(txn, customer.id)?;
    audit::record(
        txn,
        hooks,
        actor,
        "activation.request",
        &customer.path,
        &[&format!("tenant:{}", customer.id)],
        &a,
    )?;
    Ok((customer, a))
}

/// Loads an activation the actor may decide on, in one of the `states` a decision applies to.
fn decidable(
    txn: &Txn<'_>,
    actor: &Actor,
    id: ActivationId,
    states: &[ActivationState],
) -> Result<(Activation, Tenant)> {
    let (a, t) = load(txn, id)?;
    check(
        actor,
        Action::ActivationApprove,
        &target(&t, &a),
        "activation",
        id,
    )?;
    if !states.contains(&a.state) {
        return Err(CoreError::State {
            what: "activation",
            key: id.to_string(),
            reason: format!("is {:?}", a.state),
        });
    }
    Ok((a, t))
}

/// Stores a decided activation and its audit record.
fn decided(
    txn: &mut Txn<'_>,
    hooks: &dyn Hooks,
    actor: &Actor,
    what: &str,
    t: &Tenant,
    a: &Activation,
) -> Result<()> {
    dir::put(txn, Keyspace::Directory, key(a), a)?;
    audit::record(
        txn,
        hooks,
        actor,
        what,
        &t.path,
        &[&format!("tenant:{}", a.customer)],
        a,
    )
}

impl Core {
    /// Approves a waiting activation: it goes through if the credit covers it, else it waits
    /// for credit. Activations under the `api` policy are approved through an API token.
    pub async fn approve_activation(&self, actor: &Actor, id: ActivationId) -> Result<Activation> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut a, t) = decidable(txn, &actor, id, &[ActivationState::AwaitingApproval])?;
            if a.policy == ActivationPolicy::Api && !matches!(actor.via, Via::Token(_)) {
                return Err(CoreError::State {
                    what: "activation",
                    key: id.to_string(),
                    reason: "under the api policy, approval comes through an API token".into(),
                });
            }
            a.decided_by = Some(actor.principal.name.clone());
            try_activate(txn, &mut a, &actor.principal.name)?;
            decided(txn, hooks, &actor, "activation.approve", &t, &a)?;
            Ok(a)
        })
        .await
    }

    /// Rejects a waiting activation; its customer stays inactive.
    pub async fn reject_activation(&self, actor: &Actor, id: ActivationId) -> Result<Activation> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let waiting = [
                ActivationState::AwaitingApproval,
                ActivationState::AwaitingCredit,
            ];
            let (mut a, t) = decidable(txn, &actor, id, &waiting)?;
            a.state = ActivationState::Rejected;
            a.decided_ms = Some(crate::now_ms());
            a.decided_by = Some(actor.principal.name.clone());
            let mut customer = tenant::load(txn, a.customer)?;
            customer.state = TenantState::Rejected;
            dir::put(
                txn,
                Keyspace::Directory,
                dir::tenant_key(customer.id),
                &customer,
            )?;
            decided(txn, hooks, &actor, "activation.reject", &t, &a)?;
            Ok(a)
        })
        .await
    }

    /// Reads an activation.
    pub async fn get_activation(&self, actor: &Actor, id: ActivationId) -> Result<Activation> {
        let actor = actor.clone();
        self.read(move |s| {
            let (a, t) = load(s, id)?;
            check(
                &actor,
                Action::ActivationRead,
                &target(&t, &a),
                "activation",
                id,
            )?;
            Ok(a)
        })
        .await
    }

    /// Lists the activations asked for in a tenant that the actor may see, oldest first.
    pub async fn list_activations(
        &self,
        actor: &Actor,
        tenant: TenantId,
    ) -> Result<Vec<Activation>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            let all: Vec<Activation> = dir::list(
                s,
                Keyspace::Directory,
                &dir::owned_prefix(tenant, dir::ACTIVATION),
            )?;
            let visible: Vec<Activation> = all
                .into_iter()
                .filter(|a| authorize(&actor, Action::ActivationRead, &target(&t, a)).is_ok())
                .collect();
            if visible.is_empty() {
                check(
                    &actor,
                    Action::TenantRead,
                    &Target::of(&t, Object::Tenant),
                    "tenant",
                    tenant,
                )?;
            }
            Ok(visible)
        })
        .await
    }

    /// Deactivates a customer: its services stop and a deactivation event is counted.
    pub async fn deactivate_tenant(&self, actor: &Actor, id: TenantId) -> Result<Tenant> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let mut t = tenant::load(txn, id)?;
            check(
                &actor,
                Action::TenantDeactivate,
                &Target::of(&t, Object::Tenant),
                "tenant",
                id,
            )?;
            if t.state != TenantState::Active {
                return Err(CoreError::State {
                    what: "tenant",
                    key: id.to_string(),
                    reason: format!("is {:?}", t.state),
                });
            }
            t.state = TenantState::Deactivated;
            dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &t)?;
            if let Some(parent) = t.parent {
                let acts: Vec<Activation> = dir::list(
                    txn,
                    Keyspace::Directory,
                    &dir::owned_prefix(parent, dir::ACTIVATION),
                )?;
                for mut a in acts
                    .into_iter()
                    .filter(|a| a.customer == id && a.state == ActivationState::Active)
                {
                    a.state = ActivationState::Deactivated;
                    dir::put(txn, Keyspace::Directory, key(&a), &a)?;
                }
            }
            if t.kind == TenantKind::Customer {
                record_event(txn, &t, EventKind::Deactivation, t.managed_by)?;
            }
            audit::record(
                txn,
                hooks,
                &actor,
                "tenant.deactivate",
                &t.path,
                &[&format!("tenant:{id}")],
                &t,
            )?;
            Ok(t)
        })
        .await
    }

    /// Activations and deactivations of a month (`yyyymm`) in a tenant's subtree.
    pub async fn monthly_counts(
        &self,
        actor: &Actor,
        tenant: TenantId,
        month: u32,
    ) -> Result<MonthlyCounts> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::UsageRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            Ok(MonthlyCounts {
                month,
                activations: s.counter(&dir::monthly_counter(
                    tenant,
                    month,
                    EventKind::Activation.code(),
                ))?,
                deactivations: s.counter(&dir::monthly_counter(
                    tenant,
                    month,
                    EventKind::Deactivation.code(),
                ))?,
            })
        })
        .await
    }

    /// The activation events of a tenant's subtree between two times, oldest first (the usage
    /// export).
    pub async fn activation_events(
        &self,
        actor: &Actor,
        tenant: TenantId,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<ActivationEvent>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::UsageRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            let base = marque_store::Key::new().u64(tenant.0).tag(dir::EVENT);
            let range = marque_store::Range::between(
                base.clone().u64(from_ms).into_bytes(),
                base.u64(to_ms.saturating_add(1)).into_bytes(),
            );
            s.scan(
                Keyspace::Directory,
                &range,
                marque_store::Direction::Forward,
                dir::SCAN_MAX,
            )?
            .into_iter()
            .map(|(_, v)| marque_store::decode(Keyspace::Directory, &v).map_err(CoreError::from))
            .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::month_of;

    #[test]
    fn months() {
        assert_eq!(month_of(0), 197001);
        // 2024-02-29T12:00:00Z
        assert_eq!(month_of(1_709_208_000_000), 202402);
    }
}

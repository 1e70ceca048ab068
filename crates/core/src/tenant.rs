//! The tenant tree: the provider at the root, resellers (and sub-resellers), customers.

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Txn};

use crate::activation::{self, Activation};
use crate::audit;
use crate::directory::{self as dir, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{PlanId, StaffId, TenantId};
use crate::limits::Limits;
use crate::policy::{Action, Object, Target, authorize, check};
use crate::principal::Actor;
use crate::{Core, validate};

/// Where a tenant stands in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantKind {
    Provider,
    Reseller,
    Customer,
}

/// Whether a tenant's services run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantState {
    Active,
    /// Waiting for its activation (approval or credit).
    Pending,
    /// Its activation was rejected.
    Rejected,
    Deactivated,
}

/// The support a customer bought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SupportLevel {
    Basic,
    #[default]
    Standard,
    Premium,
}

/// A customer's billing data (Marque sends no invoices; this feeds the reseller's own billing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Billing {
    pub company: String,
    pub contact_email: Option<String>,
    pub address: String,
    pub vat_id: Option<String>,
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub kind: TenantKind,
    pub parent: Option<TenantId>,
    /// Ancestry, root first, ending with this tenant.
    pub path: Vec<TenantId>,
    pub limits: Limits,
    pub plan: Option<PlanId>,
    pub billing: Option<Billing>,
    pub support: SupportLevel,
    pub state: TenantState,
    /// The reseller-kind manager that created it.
    pub managed_by: Option<StaffId>,
    pub created_ms: u64,
}

/// A new tenant.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub name: String,
    pub kind: TenantKind,
    pub parent: TenantId,
    pub plan: Option<PlanId>,
    pub billing: Option<Billing>,
    pub support: SupportLevel,
    pub limits: Limits,
}

impl Default for NewTenant {
    fn default() -> Self {
        NewTenant {
            name: String::new(),
            kind: TenantKind::Customer,
            parent: crate::ids::PROVIDER,
            plan: None,
            billing: None,
            support: SupportLevel::default(),
            limits: Limits::default(),
        }
    }
}

/// Changes to a tenant (`None` keeps the current value).
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub plan: Option<Option<PlanId>>,
    pub billing: Option<Option<Billing>>,
    pub support: Option<SupportLevel>,
}

/// What creating a tenant produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub tenant: Tenant,
    /// When a reseller-kind manager created it: its activation, which may still wait.
    pub activation: Option<Activation>,
}

/// Loads a tenant.
pub fn load(r: &impl Reader, id: TenantId) -> Result<Tenant> {
    dir::get(r, Keyspace::Directory, &dir::tenant_key(id))?
        .ok_or_else(|| CoreError::not_found("tenant", id))
}

/// Loads a tenant's ancestry, root first, ending with the tenant.
pub fn chain(r: &impl Reader, id: TenantId) -> Result<Vec<Tenant>> {
    let t = load(r, id)?;
    let mut out = Vec::with_capacity(t.path.len());
    for a in &t.path[..t.path.len().saturating_sub(1)] {
        out.push(load(r, *a)?);
    }
    out.push(t);
    Ok(out)
}

/// Loads a tenant's children.
pub fn children(r: &impl Reader, id: TenantId) -> Result<Vec<Tenant>> {
    let links = r.scan(
        Keyspace::Directory,
        &marque_store::Range::prefix(&dir::children_prefix(id)),
        marque_store::Direction::Forward,
        dir::SCAN_MAX,
    )?;
    let mut out = Vec::with_capacity(links.len());
    for (k, _) in links {
        let mut kr = marque_store::KeyReader::new(Keyspace::Directory, &k);
        kr.skip(9)?;
        out.push(load(r, TenantId(kr.u64()?))?);
    }
    Ok(out)
}

/// Checks that a child of `kind` may hang under `parent`.
fn check_parent(parent: &Tenant, kind: TenantKind) -> Result<()> {
    match (parent.kind, kind) {
        (_, TenantKind::Provider) => Err(CoreError::invalid("kind", "there is only one provider")),
        (TenantKind::Customer, _) => Err(CoreError::invalid(
            "parent",
            "a customer cannot have tenants below it",
        )),
        _ => Ok(()),
    }
}

/// Writes a new tenant under `parent` (permission already checked).
pub(crate) fn insert(
    txn: &mut Txn<'_>,
    parent: &Tenant,
    new: &NewTenant,
    state: TenantState,
    managed_by: Option<StaffId>,
) -> Result<Tenant> {
    crate::limits::check_tenant(&new.limits, &chain(txn, parent.id)?)?;
    let id = TenantId(txn.next_id("tenant")?);
    let mut path = parent.path.clone();
    path.push(id);
    let t = Tenant {
        id,
        name: new.name.clone(),
        kind: new.kind,
        parent: Some(parent.id),
        path,
        limits: new.limits.clone(),
        plan: new.plan,
        billing: new.billing.clone(),
        support: new.support,
        state,
        managed_by,
        created_ms: crate::now_ms(),
    };
    dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &t)?;
    txn.put(
        Keyspace::Directory,
        dir::child_key(parent.id, id),
        Vec::new(),
    );
    Ok(t)
}

impl Core {
    /// Creates a tenant. Administrators create it directly; a reseller-kind manager creates a
    /// customer through an activation (its plans, its policy and its credit apply), and the
    /// customer stays pending until the activation goes through.
    pub async fn create_tenant(&self, actor: &Actor, new: NewTenant) -> Result<Created> {
        let mut new = new;
        new.name = validate::name("name", &new.name)?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let parent = load(txn, new.parent)?;
            let target = Target::of(&parent, Object::Tenant);
            // Who may not create tenants directly may still ask for an activation.
            if authorize(&actor, Action::TenantCreate, &target).is_err() {
                if authorize(&actor, Action::ActivationRequest, &target).is_err() {
                    check(&actor, Action::TenantCreate, &target, "tenant", parent.id)?;
                }
                check_parent(&parent, new.kind)?;
                let (tenant, act) = activation::request(txn, hooks, &actor, &parent, &new)?;
                return Ok(Created {
                    tenant,
                    activation: Some(act),
                });
            }
            check_parent(&parent, new.kind)?;
            if let Some(plan) = new.plan {
                let (p, owner) = crate::plan::load(txn, plan)?;
                check(
                    &actor,
                    Action::PlanUse,
                    &Target::of(&owner, Object::Plan(p.id)),
                    "plan",
                    plan,
                )?;
                if !parent.path.contains(&owner.id) {
                    return Err(CoreError::invalid(
                        "plan",
                        format!("plan {plan} is not offered under this parent"),
                    ));
                }
            }
            let t = insert(txn, &parent, &new, TenantState::Active, None)?;
            if t.kind == TenantKind::Customer {
                activation::record_event(txn, &t, activation::EventKind::Activation, None)?;
            }
            audit::record(
                txn,
                hooks,
                &actor,
                "tenant.create",
                &t.path,
                &[&format!("tenant:{}", t.id)],
                &t,
            )?;
            Ok(Created {
                tenant: t,
                activation: None,
            })
        })
        .await
    }

    /// Reads a tenant.
    pub async fn get_tenant(&self, actor: &Actor, id: TenantId) -> Result<Tenant> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = load(s, id)?;
            check(
                &actor,
                Action::TenantRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                id,
            )?;
            Ok(t)
        })
        .await
    }

    /// Lists the children of a tenant that the actor may see.
    pub async fn list_tenants(&self, actor: &Actor, parent: TenantId) -> Result<Vec<Tenant>> {
        let actor = actor.clone();
        self.read(move |s| {
            let p = load(s, parent)?;
            check(
                &actor,
                Action::TenantRead,
                &Target::of(&p, Object::Tenant),
                "tenant",
                parent,
            )?;
            let visible = |t: &Tenant| {
                authorize(&actor, Action::TenantRead, &Target::of(t, Object::Tenant)).is_ok()
            };
            Ok(children(s, parent)?
                .into_iter()
                .filter(|t| visible(t))
                .collect())
        })
        .await
    }

    /// Changes a tenant's name, plan, billing data or support level (from above).
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        id: TenantId,
        changes: TenantChanges,
    ) -> Result<Tenant> {
        let mut changes = changes;
        if let Some(n) = &changes.name {
            changes.name = Some(validate::name("name", n)?);
        }
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let mut t = load(txn, id)?;
            check(
                &actor,
                Action::TenantUpdate,
                &Target::of(&t, Object::Tenant),
                "tenant",
                id,
            )?;
            if let Some(n) = changes.name {
                t.name = n;
            }
            if let Some(plan) = changes.plan {
                if let Some(p) = plan {
                    let (plan, owner) = crate::plan::load(txn, p)?;
                    check(
                        &actor,
                        Action::PlanUse,
                        &Target::of(&owner, Object::Plan(plan.id)),
                        "plan",
                        p,
                    )?;
                    if !t.path.contains(&owner.id) || owner.id == t.id {
                        return Err(CoreError::invalid(
                            "plan",
                            format!("plan {p} is not offered to this tenant"),
                        ));
                    }
                }
                t.plan = plan;
            }
            if let Some(b) = changes.billing {
                t.billing = b;
            }
            if let Some(s) = changes.support {
                t.support = s;
            }
            dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &t)?;
            audit::record(
                txn,
                hooks,
                &actor,
                "tenant.update",
                &t.path,
                &[&format!("tenant:{id}")],
                &t,
            )?;
            Ok(t)
        })
        .await
    }

    /// Deletes an empty tenant (no child tenants, domains, staff or plans).
    pub async fn delete_tenant(&self, actor: &Actor, id: TenantId) -> Result<()> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let t = load(txn, id)?;
            check(
                &actor,
                Action::TenantDelete,
                &Target::of(&t, Object::Tenant),
                "tenant",
                id,
            )?;
            let Some(parent) = t.parent else {
                return Err(CoreError::invalid(
                    "tenant",
                    "the provider cannot be deleted",
                ));
            };
            for (tag, what) in [
                (dir::CHILD, "child tenants"),
                (dir::DOMAIN, "domains"),
                (dir::STAFF, "staff"),
                (dir::PLAN, "plans"),
            ] {
                if dir::any(txn, Keyspace::Directory, &dir::owned_prefix(id, tag))? {
                    return Err(CoreError::NotEmpty {
                        what: "tenant",
                        key: id.to_string(),
                        reason: format!("it still has {what}"),
                    });
                }
            }
            txn.delete(Keyspace::Directory, dir::tenant_key(id));
            txn.delete(Keyspace::Directory, dir::child_key(parent, id));
            if t.kind == TenantKind::Customer && t.state == TenantState::Active {
                activation::record_event(txn, &t, activation::EventKind::Deactivation, None)?;
            }
            audit::record(
                txn,
                hooks,
                &actor,
                "tenant.delete",
                &t.path,
                &[&format!("tenant:{id}")],
                &t,
            )?;
            Ok(())
        })
        .await
    }
}

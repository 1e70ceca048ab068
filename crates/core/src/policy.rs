//! The permission function: every core operation asks [`authorize`] before it reads or
//! changes anything, with the acting principal, the action and the resolved target.
//!
//! The answer has two kinds of "no": [`Denied::NotVisible`] when the target lies outside the
//! principal's scope (callers report it exactly like a missing object), and
//! [`Denied::Forbidden`] when the principal sees the target but may not do this to it.
//!
//! Rights never grow on the way down: plans are defined by the provider and resellers only
//! (never inside a customer), and the postmaster flag ([`Action::PostmasterGrant`]) is given by
//! administrators of the domain's tenant or above, and by a postmaster within its own domain
//! (a postmaster already manages every mailbox of that domain, so a second postmaster holds no
//! right the first does not). Help-desk and reseller-kind managers may not give it: a postmaster
//! may delete mailboxes and manage lists, which they may not.

use serde::{Deserialize, Serialize};

mod place;
pub use place::{Place, may};

use crate::ids::{AccountId, DomainId, PlanId, StaffId, TenantId};
use crate::principal::{Actor, PrincipalId, Role};
use crate::tenant::{Tenant, TenantKind};

/// What a principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    TenantRead,
    /// Create a child tenant directly (active at once, no credit involved).
    TenantCreate,
    TenantUpdate,
    TenantDelete,
    TenantDeactivate,
    /// Change the limits of a tenant or a domain.
    LimitsSet,
    DomainRead,
    DomainCreate,
    DomainUpdate,
    DomainDelete,
    MailboxRead,
    MailboxCreate,
    /// Quota, tier, enabled.
    MailboxUpdate,
    /// Give or take a mailbox's postmaster flag (at creation or later).
    PostmasterGrant,
    MailboxDelete,
    /// Set the password of a mailbox or of a staff member.
    PasswordSet,
    /// Vacation message, forwards, Sieve filters of a mailbox.
    MailboxSettings,
    AliasRead,
    AliasWrite,
    ListRead,
    ListWrite,
    PlanRead,
    /// Define, change or delete a plan (only in a provider or reseller tenant).
    PlanWrite,
    /// Put a tenant on a plan.
    PlanUse,
    StaffRead,
    StaffWrite,
    UsageRead,
    LogRead,
    CreditRead,
    CreditTopUp,
    ActivationRead,
    /// Create a customer through an activation (plan, policy and credit apply).
    ActivationRequest,
    ActivationApprove,
    /// Create or revoke API tokens.
    TokenWrite,
    /// See a tenant's webhooks and their delivery logs.
    WebhookRead,
    /// Create, change or delete a tenant's webhooks.
    WebhookWrite,
    /// See the outbound queue's entries.
    QueueRead,
    /// Retry or delete outbound queue entries.
    QueueWrite,
}

impl Action {
    /// True for actions that change nothing.
    pub fn is_read(self) -> bool {
        use Action::*;
        matches!(
            self,
            TenantRead
                | DomainRead
                | MailboxRead
                | AliasRead
                | ListRead
                | PlanRead
                | StaffRead
                | UsageRead
                | LogRead
                | CreditRead
                | ActivationRead
                | WebhookRead
                | QueueRead
        )
    }
}

/// The kind of object a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The tenant itself (also the target of creating something inside it).
    Tenant,
    /// A domain (also the target of creating mailboxes, aliases and lists in it).
    Domain(DomainId),
    Mailbox {
        domain: DomainId,
        account: AccountId,
    },
    Alias(DomainId),
    List(DomainId),
    Plan(PlanId),
    Staff(StaffId),
    Activation,
}

impl Object {
    /// The domain the object lies in, if any.
    pub fn domain(self) -> Option<DomainId> {
        match self {
            Object::Domain(d) | Object::Alias(d) | Object::List(d) => Some(d),
            Object::Mailbox { domain, .. } => Some(domain),
            _ => None,
        }
    }
}

/// A resolved target: where in the tree it lies, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The owning tenant's ancestry, root first, ending with the owning tenant.
    pub path: Vec<TenantId>,
    /// The reseller-kind manager that created the owning tenant, if one did.
    pub managed_by: Option<StaffId>,
    /// For an activation: the manager that asked for it.
    pub requested_by: Option<StaffId>,
    /// The kind of the owning tenant.
    pub kind: TenantKind,
    pub object: Object,
}

impl Target {
    /// `object`, owned by `tenant`.
    pub fn of(tenant: &Tenant, object: Object) -> Target {
        Target {
            path: tenant.path.clone(),
            managed_by: tenant.managed_by,
            requested_by: None,
            kind: tenant.kind,
            object,
        }
    }

    /// The owning tenant.
    pub fn owner(&self) -> TenantId {
        self.path.last().copied().unwrap_or(crate::ids::PROVIDER)
    }

    /// True if the target lies in `t`'s subtree (or is `t`'s own).
    pub fn within(&self, t: TenantId) -> bool {
        self.path.contains(&t)
    }
}

/// Why [`authorize`] said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Outside the principal's scope: answer as if the target did not exist.
    NotVisible,
    /// Visible, but not this action.
    Forbidden,
}

/// The one permission function (design.md, "Tenancy and quota", principals table).
pub fn authorize(actor: &Actor, action: Action, target: &Target) -> Result<(), Denied> {
    use Denied::*;
    let p = &actor.principal;
    let plan_lookup = matches!(target.object, Object::Plan(_))
        && matches!(action, Action::PlanRead | Action::PlanUse);

    // A token may narrow its principal: to a subtree, or to reading.
    if let Some(sub) = actor.scope.subtree
        && !target.within(sub)
        && !plan_lookup
    {
        return Err(NotVisible);
    }
    let own_object = match (target.object, p.id) {
        (Object::Staff(s), PrincipalId::Staff(me)) => s == me,
        (Object::Mailbox { account, .. }, PrincipalId::Mailbox(me)) => account == me,
        _ => false,
    };
    if actor.scope.read_only && !action.is_read() {
        return Err(if own_object || target.within(p.tenant()) {
            Forbidden
        } else {
            NotVisible
        });
    }

    // Everyone may look after their own credentials.
    if own_object
        && matches!(
            action,
            Action::StaffRead
                | Action::MailboxRead
                | Action::PasswordSet
                | Action::TokenWrite
                | Action::MailboxSettings
        )
    {
        return Ok(());
    }

    match &p.role {
        Role::Admin => {
            if plan_lookup {
                let owner = target.owner();
                return if p.path.contains(&owner) || target.within(p.tenant()) {
                    Ok(())
                } else {
                    Err(NotVisible)
                };
            }
            if !target.within(p.tenant()) {
                return Err(NotVisible);
            }
            // A tenant's own record, limits and credit belong to its ancestors.
            let own_tenant = target.object == Object::Tenant && target.owner() == p.tenant();
            let ancestors_only = matches!(
                action,
                Action::LimitsSet
                    | Action::CreditTopUp
                    | Action::TenantUpdate
                    | Action::TenantDelete
                    | Action::TenantDeactivate
            );
            if own_tenant && ancestors_only {
                return Err(Forbidden);
            }
            // Plans are offered by the provider and resellers; a customer sells nothing.
            if action == Action::PlanWrite && target.kind == TenantKind::Customer {
                return Err(Forbidden);
            }
            Ok(())
        }
        Role::Helpdesk { domains } => {
            let Some(d) = target.object.domain() else {
                return Err(NotVisible);
            };
            if !domains.contains(&d) || !target.within(p.tenant()) {
                return Err(NotVisible);
            }
            match action {
                Action::DomainRead
                | Action::MailboxRead
                | Action::MailboxCreate
                | Action::MailboxUpdate
                | Action::MailboxSettings
                | Action::PasswordSet
                | Action::AliasRead
                | Action::AliasWrite
                | Action::ListRead
                | Action::UsageRead
                | Action::LogRead => Ok(()),
                _ => Err(Forbidden),
            }
        }
        Role::ResellerManager { plans, .. } => {
            let me = match p.id {
                PrincipalId::Staff(s) => Some(s),
                _ => None,
            };
            if let Object::Plan(plan) = target.object
                && plan_lookup
            {
                return if plans.contains(&plan) {
                    Ok(())
                } else {
                    Err(NotVisible)
                };
            }
            if !target.within(p.tenant()) {
                return Err(NotVisible);
            }
            if target.owner() == p.tenant() {
                return match (target.object, action) {
                    (
                        Object::Tenant,
                        Action::TenantRead
                        | Action::ActivationRequest
                        | Action::CreditRead
                        | Action::PlanRead,
                    ) => Ok(()),
                    (Object::Activation, Action::ActivationRead) if target.requested_by == me => {
                        Ok(())
                    }
                    _ => Err(Forbidden),
                };
            }
            if me.is_none() || target.managed_by != me {
                return Err(NotVisible);
            }
            match action {
                Action::TenantRead
                | Action::TenantUpdate
                | Action::TenantDeactivate
                | Action::DomainCreate
                | Action::DomainRead
                | Action::DomainUpdate
                // It sets up the customers it sells: their mailboxes too (the issue's
                // reselling flow), but leaves their removal to the customer's administrators.
                | Action::MailboxRead
                | Action::MailboxCreate
                | Action::UsageRead
                | Action::ActivationRead => Ok(()),
                _ => Err(Forbidden),
            }
        }
        Role::Postmaster { domain, .. } => {
            if target.object.domain() != Some(*domain) {
                return Err(NotVisible);
            }
            match action {
                Action::DomainRead
                | Action::MailboxRead
                | Action::MailboxCreate
                | Action::MailboxUpdate
                | Action::MailboxDelete
                | Action::MailboxSettings
                | Action::PasswordSet
                | Action::PostmasterGrant
                | Action::AliasRead
                | Action::AliasWrite
                | Action::ListRead
                | Action::ListWrite
                | Action::UsageRead
                | Action::LogRead => Ok(()),
                _ => Err(Forbidden),
            }
        }
        Role::User { account, .. } => match target.object {
            Object::Mailbox { account: a, .. } if a == *account => match action {
                Action::LogRead => Ok(()),
                _ => Err(Forbidden),
            },
            _ => Err(NotVisible),
        },
    }
}

/// [`authorize`], answered as a [`crate::CoreError`] naming the target.
pub fn check(
    actor: &Actor,
    action: Action,
    target: &Target,
    what: &'static str,
    key: impl ToString,
) -> crate::Result<()> {
    authorize(actor, action, target).map_err(|d| match d {
        Denied::NotVisible => crate::CoreError::NotFound {
            what,
            key: key.to_string(),
        },
        Denied::Forbidden => crate::CoreError::Forbidden {
            action,
            what,
            key: key.to_string(),
        },
    })
}

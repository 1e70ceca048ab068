//! Questions that are not about one object ("may this principal use the customers page?",
//! "does the form offer a choice of tenant?"), answered by the permission function itself.
//!
//! A [`Place`] names a part of a principal's reach; [`may`] asks [`authorize`] about a
//! representative target in it (or each of them, for a help-desk manager's domains). A menu or
//! a form built on [`may`] therefore never offers what the operation behind it would refuse,
//! and never holds a rule of its own.
//!
//! A representative target never grants more than a real one: a tenant below is a customer
//! created by the principal, and the principal's own tenant is taken to be a customer unless
//! it is the provider (the kind decides only whether plans may be defined there).

use super::{Action, Object, Target, authorize};
use crate::ids::{DomainId, PROVIDER, TenantId};
use crate::principal::{Actor, Principal, PrincipalId, Role};
use crate::tenant::TenantKind;

/// Stands for "some tenant" or "some domain" below the principal's own tenant: no real record
/// has this id, and the permission function never compares it with one it does not hold.
const ANY: u64 = u64::MAX;

/// A part of a principal's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The principal's own tenant.
    OwnTenant,
    /// An activation in the principal's own tenant, asked for by the principal.
    OwnActivation,
    /// A tenant below the principal's own (created by the principal, for a manager).
    TenantBelow,
    /// A domain of a tenant below the principal's own (created by the principal, for a
    /// manager).
    DomainBelow,
    /// Each domain a help-desk manager is assigned.
    AssignedDomains,
    /// The domain of a mailbox principal.
    OwnDomain,
    /// The principal's own record: its staff record or its mailbox.
    OwnRecord,
    /// The mailbox of a mailbox principal.
    OwnMailbox,
}

impl Place {
    /// The representative targets of this place for `p` (none where `p` has no such place).
    pub fn targets(self, p: &Principal) -> Vec<Target> {
        let own = |object| Target {
            path: p.path.clone(),
            managed_by: None,
            requested_by: None,
            kind: if p.tenant() == PROVIDER {
                TenantKind::Provider
            } else {
                TenantKind::Customer
            },
            object,
        };
        let below = |object| {
            let mut path = p.path.clone();
            path.push(TenantId(ANY));
            Target {
                path,
                managed_by: p.staff(),
                requested_by: None,
                kind: TenantKind::Customer,
                object,
            }
        };
        match (self, &p.role) {
            (Place::OwnTenant, _) => vec![own(Object::Tenant)],
            (Place::OwnActivation, _) => vec![Target {
                requested_by: p.staff(),
                ..own(Object::Activation)
            }],
            (Place::TenantBelow, _) => vec![below(Object::Tenant)],
            (Place::DomainBelow, _) => vec![below(Object::Domain(DomainId(ANY)))],
            (Place::AssignedDomains, Role::Helpdesk { domains }) => {
                domains.iter().map(|d| own(Object::Domain(*d))).collect()
            }
            (Place::OwnDomain, Role::Postmaster { domain, .. } | Role::User { domain, .. }) => {
                vec![own(Object::Domain(*domain))]
            }
            (Place::OwnRecord | Place::OwnMailbox, _) => match (p.id, &p.role) {
                (PrincipalId::Staff(s), _) if self == Place::OwnRecord => {
                    vec![own(Object::Staff(s))]
                }
                (
                    PrincipalId::Mailbox(account),
                    Role::Postmaster { domain, .. } | Role::User { domain, .. },
                ) => vec![own(Object::Mailbox {
                    domain: *domain,
                    account,
                })],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// True if the permission function lets `actor` do `action` in one of `places`.
pub fn may(actor: &Actor, action: Action, places: &[Place]) -> bool {
    places.iter().any(|place| {
        place
            .targets(&actor.principal)
            .iter()
            .any(|t| authorize(actor, action, t).is_ok())
    })
}

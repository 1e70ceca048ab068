//! Principals (who acts), actors (a principal, from somewhere, through some credential) and
//! the staff records of administrators and managers.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::activation::ActivationPolicy;
use crate::audit;
use crate::directory::{self as dir, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{AccountId, DomainId, PROVIDER, PlanId, StaffId, TenantId, TokenId};
use crate::mailbox::MailboxRecord;
use crate::policy::{Action, Object, Target, check};
use crate::tenant::{self, Tenant};
use crate::{Core, password, validate};

/// Who a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrincipalId {
    /// The local operator at the command line.
    Operator,
    /// An administrator or manager.
    Staff(StaffId),
    /// A mailbox (its user, or its postmaster).
    Mailbox(AccountId),
}

/// What a principal may do, and where; [`crate::policy::authorize`] reads this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Administrator of a tenant's subtree (the provider admin is the root's).
    Admin,
    /// Manager of the helpdesk kind: the domains assigned to it.
    Helpdesk { domains: Vec<DomainId> },
    /// Manager of the reseller kind: customers it creates, on the plans assigned to it.
    ResellerManager {
        plans: Vec<PlanId>,
        policy: ActivationPolicy,
    },
    /// A mailbox with the postmaster flag: administrator of its domain.
    Postmaster {
        domain: DomainId,
        account: AccountId,
    },
    /// A mailbox's user.
    User {
        domain: DomainId,
        account: AccountId,
    },
}

/// A resolved principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub id: PrincipalId,
    /// Login name, address, or "operator".
    pub name: String,
    /// The principal's tenant's ancestry, root first, ending with its tenant.
    pub path: Vec<TenantId>,
    pub role: Role,
}

impl Principal {
    /// The tenant the principal belongs to.
    pub fn tenant(&self) -> TenantId {
        self.path.last().copied().unwrap_or(PROVIDER)
    }

    /// The activation policy, for a reseller-kind manager.
    pub fn activation_policy(&self) -> Option<ActivationPolicy> {
        match self.role {
            Role::ResellerManager { policy, .. } => Some(policy),
            _ => None,
        }
    }

    /// The staff id, for administrators and managers.
    pub fn staff(&self) -> Option<StaffId> {
        match self.id {
            PrincipalId::Staff(s) => Some(s),
            _ => None,
        }
    }
}

/// How the actor proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    /// The local operator (the command line on the server).
    Operator,
    /// A password.
    Password,
    /// An API token.
    Token(TokenId),
}

/// A narrowing of a principal's rights carried by a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Only actions that change nothing.
    pub read_only: bool,
    /// Only targets in this tenant's subtree.
    pub subtree: Option<TenantId>,
}

/// A principal acting from somewhere: what every core operation takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub principal: Principal,
    /// Where the request came from: a client IP, or "cli".
    pub source: String,
    pub via: Via,
    pub scope: Scope,
}

impl Actor {
    /// The local operator: provider-admin rights, source "cli".
    pub fn operator() -> Actor {
        Actor {
            principal: Principal {
                id: PrincipalId::Operator,
                name: "operator".into(),
                path: vec![PROVIDER],
                role: Role::Admin,
            },
            source: "cli".into(),
            via: Via::Operator,
            scope: Scope::default(),
        }
    }

    /// The same actor, coming from `source` (an IP address, say).
    pub fn with_source(mut self, source: impl Into<String>) -> Actor {
        self.source = source.into();
        self
    }
}

/// The kind of an administrator or manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffKind {
    Admin,
    Helpdesk {
        domains: Vec<DomainId>,
    },
    ResellerManager {
        plans: Vec<PlanId>,
        policy: ActivationPolicy,
    },
}

/// An administrator or a manager of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub tenant: TenantId,
    pub login: String,
    pub kind: StaffKind,
    pub enabled: bool,
    pub created_ms: u64,
}

/// The stored form: the public record and the password hash, kept apart so that the hash never
/// leaves the core.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StaffRecord {
    pub staff: Staff,
    pub password_hash: Option<String>,
}

/// A new administrator or manager.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub tenant: TenantId,
    pub login: String,
    /// Without one, the principal can only use API tokens.
    pub password: Option<String>,
    pub kind: StaffKind,
}

/// Builds the principal of a staff record.
pub(crate) fn staff_principal(r: &impl Reader, staff: &Staff) -> Result<Principal> {
    let t = tenant::load(r, staff.tenant)?;
    let role = match &staff.kind {
        StaffKind::Admin => Role::Admin,
        StaffKind::Helpdesk { domains } => Role::Helpdesk {
            domains: domains.clone(),
        },
        StaffKind::ResellerManager { plans, policy } => Role::ResellerManager {
            plans: plans.clone(),
            policy: *policy,
        },
    };
    Ok(Principal {
        id: PrincipalId::Staff(staff.id),
        name: staff.login.clone(),
        path: t.path,
        role,
    })
}

/// Builds the principal of a mailbox.
pub(crate) fn mailbox_principal(r: &impl Reader, m: &MailboxRecord) -> Result<Principal> {
    let t = tenant::load(r, m.mailbox.tenant)?;
    let (domain, account) = (m.mailbox.domain, m.mailbox.id);
    Ok(Principal {
        id: PrincipalId::Mailbox(account),
        name: m.mailbox.address.clone(),
        path: t.path,
        role: if m.mailbox.postmaster {
            Role::Postmaster { domain, account }
        } else {
            Role::User { domain, account }
        },
    })
}

/// Loads a staff record by id.
pub(crate) fn load_staff(r: &impl Reader, id: StaffId) -> Result<StaffRecord> {
    let loc = dir::locate(r, dir::STAFF, id.0)?.ok_or_else(|| CoreError::not_found("staff", id))?;
    dir::get(
        r,
        Keyspace::Directory,
        &dir::owned_key(loc.tenant, dir::STAFF, id.0),
    )?
    .ok_or_else(|| CoreError::not_found("staff", id))
}

/// Resolves a principal id to its current principal (roles may have changed since sign-in).
pub(crate) fn resolve(r: &impl Reader, id: PrincipalId) -> Result<Principal> {
    match id {
        PrincipalId::Operator => Ok(Actor::operator().principal),
        PrincipalId::Staff(s) => {
            let rec = load_staff(r, s)?;
            if !rec.staff.enabled {
                return Err(CoreError::AuthFailed);
            }
            staff_principal(r, &rec.staff)
        }
        PrincipalId::Mailbox(a) => {
            let rec = crate::mailbox::load_by_id(r, a)?;
            if !crate::lookup::mailbox_active(r, &rec.mailbox)? {
                return Err(CoreError::AuthFailed);
            }
            mailbox_principal(r, &rec)
        }
    }
}

/// Checks that a staff kind only names domains in `tenant`'s subtree and plans `actor` may use.
fn check_kind(r: &impl Reader, actor: &Actor, tenant: &Tenant, kind: &StaffKind) -> Result<()> {
    match kind {
        StaffKind::Admin => Ok(()),
        StaffKind::Helpdesk { domains } => {
            for d in domains {
                let (_, dt) = crate::domain::load_by_id(r, *d)?;
                if !dt.path.contains(&tenant.id) {
                    return Err(CoreError::not_found("domain", d));
                }
            }
            Ok(())
        }
        StaffKind::ResellerManager { plans, .. } => {
            for p in plans {
                let (plan, owner) = crate::plan::load(r, *p)?;
                check(
                    actor,
                    Action::PlanUse,
                    &Target::of(&owner, Object::Plan(plan.id)),
                    "plan",
                    p,
                )?;
                if !tenant.path.contains(&owner.id) {
                    return Err(CoreError::invalid(
                        "plans",
                        format!("plan {p} is not offered in this tenant"),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Loads a staff record and its tenant for an action of `actor` on it.
pub(crate) fn staff_for(
    txn: &impl Reader,
    actor: &Actor,
    id: StaffId,
    action: Action,
) -> Result<(StaffRecord, Tenant)> {
    let rec = load_staff(txn, id)?;
    let t = tenant::load(txn, rec.staff.tenant)?;
    check(
        actor,
        action,
        &Target::of(&t, Object::Staff(id)),
        "staff",
        id,
    )?;
    Ok((rec, t))
}

impl Core {
    /// Creates an administrator or a manager in a tenant.
    pub async fn create_staff(&self, actor: &Actor, new: NewStaff) -> Result<Staff> {
        let login = validate::login(&new.login)?;
        let hash = match new.password {
            Some(pw) => {
                validate::password(&pw)?;
                Some(password::hash_async(self.cost, pw).await?)
            }
            None => None,
        };
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let t = tenant::load(txn, new.tenant)?;
            check(
                &actor,
                Action::StaffWrite,
                &Target::of(&t, Object::Tenant),
                "tenant",
                t.id,
            )?;
            check_kind(txn, &actor, &t, &new.kind)?;
            if txn.exists(Keyspace::Names, &dir::login_key(&login))? {
                return Err(CoreError::AlreadyExists {
                    what: "login",
                    key: login,
                });
            }
            let id = StaffId(txn.next_id("staff")?);
            let staff = Staff {
                id,
                tenant: t.id,
                login: login.clone(),
                kind: new.kind,
                enabled: true,
                created_ms: crate::now_ms(),
            };
            let rec = StaffRecord {
                staff: staff.clone(),
                password_hash: hash,
            };
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(t.id, dir::STAFF, id.0),
                &rec,
            )?;
            dir::put(
                txn,
                Keyspace::Names,
                dir::login_key(&login),
                &Loc {
                    tenant: t.id,
                    domain: None,
                },
            )?;
            dir::set_locator(
                txn,
                dir::STAFF,
                id.0,
                Loc {
                    tenant: t.id,
                    domain: None,
                },
            )?;
            audit::record(
                txn,
                hooks,
                &actor,
                "staff.create",
                &t.path,
                &[&format!("staff:{login}")],
                &staff,
            )?;
            Ok(staff)
        })
        .await
    }

    /// Reads a staff record.
    pub async fn get_staff(&self, actor: &Actor, id: StaffId) -> Result<Staff> {
        let actor = actor.clone();
        self.read(move |s| {
            let rec = load_staff(s, id)?;
            let t = tenant::load(s, rec.staff.tenant)?;
            check(
                &actor,
                Action::StaffRead,
                &Target::of(&t, Object::Staff(id)),
                "staff",
                id,
            )?;
            Ok(rec.staff)
        })
        .await
    }

    /// Lists the administrators and managers of a tenant.
    pub async fn list_staff(&self, actor: &Actor, tenant: TenantId) -> Result<Vec<Staff>> {
        let actor = actor.clone();
        self.read(move |s| {
            let t = tenant::load(s, tenant)?;
            check(
                &actor,
                Action::StaffRead,
                &Target::of(&t, Object::Tenant),
                "tenant",
                tenant,
            )?;
            let recs: Vec<StaffRecord> = dir::list(
                s,
                Keyspace::Directory,
                &dir::owned_prefix(tenant, dir::STAFF),
            )?;
            Ok(recs.into_iter().map(|r| r.staff).collect())
        })
        .await
    }

    /// Changes what a manager may do (its domains, plans or policy) or enables/disables it.
    pub async fn update_staff(
        &self,
        actor: &Actor,
        id: StaffId,
        kind: Option<StaffKind>,
        enabled: Option<bool>,
    ) -> Result<Staff> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut rec, t) = staff_for(txn, &actor, id, Action::StaffWrite)?;
            if let Some(kind) = kind {
                check_kind(txn, &actor, &t, &kind)?;
                rec.staff.kind = kind;
            }
            if let Some(e) = enabled {
                rec.staff.enabled = e;
            }
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(t.id, dir::STAFF, id.0),
                &rec,
            )?;
            let target = format!("staff:{}", rec.staff.login);
            audit::record(
                txn,
                hooks,
                &actor,
                "staff.update",
                &t.path,
                &[&target],
                &rec.staff,
            )?;
            Ok(rec.staff)
        })
        .await
    }

    /// Deletes an administrator or manager; its tokens stop working.
    pub async fn delete_staff(&self, actor: &Actor, id: StaffId) -> Result<()> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (rec, t) = staff_for(txn, &actor, id, Action::StaffWrite)?;
            txn.delete(Keyspace::Directory, dir::owned_key(t.id, dir::STAFF, id.0));
            txn.delete(Keyspace::Names, dir::login_key(&rec.staff.login));
            txn.delete(Keyspace::Names, dir::locator_key(dir::STAFF, id.0));
            let target = format!("staff:{}", rec.staff.login);
            audit::record(
                txn,
                hooks,
                &actor,
                "staff.delete",
                &t.path,
                &[&target],
                &rec.staff,
            )?;
            Ok(())
        })
        .await
    }

    /// Sets the sign-in password of an administrator or manager.
    pub async fn set_staff_password(&self, actor: &Actor, id: StaffId, new: String) -> Result<()> {
        validate::password(&new)?;
        let hash = password::hash_async(self.cost, new).await?;
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let (mut rec, t) = staff_for(txn, &actor, id, Action::PasswordSet)?;
            rec.password_hash = Some(hash);
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(t.id, dir::STAFF, id.0),
                &rec,
            )?;
            let target = format!("staff:{}", rec.staff.login);
            audit::record(
                txn,
                hooks,
                &actor,
                "staff.password",
                &t.path,
                &[&target],
                &serde_json::Value::Null,
            )?;
            Ok(())
        })
        .await
    }
}

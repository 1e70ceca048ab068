//! Global Sieve scripts: one "before" and one "after" script per tenant and per domain, run at
//! delivery around every recipient's own script (delivery runs the tenant chain from the
//! provider down, then the domain, before the user's script; after it, the domain, then the
//! tenants back up).
//!
//! Who may set them: an administrator of the tenant or of a tenant above it (for a tenant's
//! scripts), and for a domain's scripts whoever may update the domain, which leaves out the
//! domain's postmaster and helpdesk: a global script reads every user's mail.

use marque_store::sieve_global::{self, Scope};

pub use marque_store::sieve_global::Phase;

use marque_core::audit;
use marque_core::error::{CoreError, Result};
use marque_core::ids::TenantId;
use marque_core::policy::{Action, Object, Target, check};
use marque_core::principal::Actor;
use marque_core::{domain, tenant, validate};

use crate::Hosting;

/// Largest global script, in bytes.
pub const MAX_GLOBAL_SCRIPT: usize = 256 * 1024;

/// Whose global script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalTarget {
    Tenant(TenantId),
    /// A domain, by name.
    Domain(String),
}

/// What the audit record says about a change.
#[derive(Debug, serde::Serialize)]
struct Change<'a> {
    phase: &'a str,
    size: Option<usize>,
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Before => "before",
        Phase::After => "after",
    }
}

/// The store scope, owners for the audit record and the audit target of `target`, once
/// `actor` may do `write` (or read) it.
fn resolve(
    txn: &impl marque_store::Reader,
    actor: &Actor,
    target: &GlobalTarget,
    write: bool,
) -> Result<(Scope, Vec<TenantId>, String)> {
    match target {
        GlobalTarget::Tenant(id) => {
            let t = tenant::load(txn, *id)?;
            // Mailbox settings of the whole tenant: admins of it or above; no domain-bound
            // role sees a tenant object.
            let action = if write {
                Action::MailboxSettings
            } else {
                Action::TenantRead
            };
            check(
                actor,
                action,
                &Target::of(&t, Object::Tenant),
                "tenant",
                id.0,
            )?;
            Ok((
                Scope::Tenant(t.id),
                t.path.clone(),
                format!("tenant:{}", id.0),
            ))
        }
        GlobalTarget::Domain(name) => {
            let name = validate::domain(name)?;
            let (d, t) = domain::load_by_name(txn, &name)?;
            let action = if write {
                Action::DomainUpdate
            } else {
                Action::DomainRead
            };
            check(
                actor,
                action,
                &Target::of(&t, Object::Domain(d.id)),
                "domain",
                &name,
            )?;
            Ok((
                Scope::Domain {
                    tenant: t.id,
                    domain: d.id,
                },
                t.path.clone(),
                format!("domain:{name}"),
            ))
        }
    }
}

impl Hosting {
    /// Sets the global script of `target` for `phase`. The text is checked for size and UTF-8
    /// here; it is compiled at delivery, where a script that does not compile is logged and
    /// the message is filed in INBOX.
    pub async fn set_global_sieve(
        &self,
        actor: &Actor,
        target: GlobalTarget,
        phase: Phase,
        text: Vec<u8>,
    ) -> Result<()> {
        if text.len() > MAX_GLOBAL_SCRIPT {
            return Err(CoreError::invalid(
                "script",
                format!("larger than {MAX_GLOBAL_SCRIPT} bytes"),
            ));
        }
        if std::str::from_utf8(&text).is_err() {
            return Err(CoreError::invalid("script", "not UTF-8 (RFC 5228 §2.1)"));
        }
        let actor = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let (scope, owners, what) = resolve(txn, &actor, &target, true)?;
                sieve_global::put(txn, scope, phase, &text);
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "sieve.global.set",
                    &owners,
                    &[&what],
                    &Change {
                        phase: phase_name(phase),
                        size: Some(text.len()),
                    },
                )?;
                Ok(())
            })
            .await
    }

    /// The global script of `target` for `phase`, if set.
    pub async fn get_global_sieve(
        &self,
        actor: &Actor,
        target: GlobalTarget,
        phase: Phase,
    ) -> Result<Option<Vec<u8>>> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                let (scope, _, _) = resolve(s, &actor, &target, false)?;
                Ok(sieve_global::get(s, scope, phase)?)
            })
            .await
    }

    /// Removes the global script of `target` for `phase`; true if there was one.
    pub async fn clear_global_sieve(
        &self,
        actor: &Actor,
        target: GlobalTarget,
        phase: Phase,
    ) -> Result<bool> {
        let actor = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let (scope, owners, what) = resolve(txn, &actor, &target, true)?;
                let existed = sieve_global::delete(txn, scope, phase)?;
                if existed {
                    audit::record(
                        txn,
                        hooks,
                        &actor,
                        "sieve.global.clear",
                        &owners,
                        &[&what],
                        &Change {
                            phase: phase_name(phase),
                            size: None,
                        },
                    )?;
                }
                Ok(existed)
            })
            .await
    }
}

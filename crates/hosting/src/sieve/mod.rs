//! Managing the Sieve scripts of a mailbox: upload (compile-checked), list, read, activate,
//! delete, rename and the space check of ManageSieve (RFC 5804), the structured vacation and
//! forwarding settings that compile into a managed section of the active script, and filters
//! set on many mailboxes at once.
//!
//! Every operation is done on behalf of an [`Actor`] that [`marque_core::policy::authorize`] allows
//! [`Action::MailboxSettings`] on the mailbox: the user itself, its postmaster, a helpdesk
//! manager of its domain, or an administrator above. Changes made by anyone but the user are
//! audited. Running the scripts at delivery is not done here but in `marque_delivery`.
//!
//! # Layout
//! - [`check`]: [`SieveLimits`] and the compile check.
//! - [`lint`]: what a script's `vacation` would send (one-line subject, the user's own `:from`).
//! - [`managed`]: [`Vacation`], [`Forwards`] and the managed section of a script.
//! - `settings` (private): reading and changing the settings, and rewriting the section.
//! - [`bulk`]: one script on a selection of mailboxes ([`bulk_set`]).

pub mod bulk;
pub mod check;
pub mod lint;
pub mod managed;
mod settings;

use serde::Serialize;

use marque_store::Txn;
use marque_store::sieve as store;

use marque_core::audit;
use marque_core::directory::Reader;
use marque_core::error::{CoreError, Result};
use marque_core::hook::Hooks;
use marque_core::ids::AccountId;
use marque_core::mailbox::{self, MailboxRecord};
use marque_core::policy::{Action, Object, Target, check as authorize};
use marque_core::principal::{Actor, PrincipalId};
use marque_core::tenant::{self, Tenant};
use marque_core::validate;

use crate::Hosting;

pub use bulk::{BulkResult, Selection, bulk_set};
pub use check::{LIMIT_SCRIPTS, LIMIT_SIZE, SieveLimits, compile, limit_of};
pub use managed::{Forwards, Settings, Vacation};
pub use store::ScriptInfo;

/// The name of the script created to hold the managed section when a user has none active.
pub const MANAGED_SCRIPT: &str = "marque";

/// The mailbox a sieve operation works on, resolved and authorised.
pub(crate) struct Owner {
    pub account: AccountId,
    pub address: String,
    pub tenant: Tenant,
    pub domain_name: String,
}

/// Loads the mailbox at `address` and checks that `actor` may manage its settings.
pub(crate) fn owner(r: &impl Reader, actor: &Actor, address: &str) -> Result<Owner> {
    let rec = mailbox::load_by_address(r, address)?;
    owner_of(r, actor, rec)
}

/// [`owner`] for an already loaded mailbox record.
pub(crate) fn owner_of(r: &impl Reader, actor: &Actor, rec: MailboxRecord) -> Result<Owner> {
    let m = rec.mailbox;
    let t = tenant::load(r, m.tenant)?;
    let target = Target::of(
        &t,
        Object::Mailbox {
            domain: m.domain,
            account: m.id,
        },
    );
    authorize(
        actor,
        Action::MailboxSettings,
        &target,
        "mailbox",
        &m.address,
    )?;
    Ok(Owner {
        account: m.id,
        domain_name: validate::domain_of(&m.address).to_string(),
        address: m.address,
        tenant: t,
    })
}

/// True if the actor is the mailbox itself (its own changes are not audited).
fn is_self(actor: &Actor, account: AccountId) -> bool {
    actor.principal.id == PrincipalId::Mailbox(account)
}

/// Records a change made by someone other than the user.
pub(crate) fn audit_change<T: Serialize>(
    txn: &mut Txn<'_>,
    hooks: &dyn Hooks,
    actor: &Actor,
    o: &Owner,
    what: &str,
    detail: &T,
) -> Result<()> {
    if is_self(actor, o.account) {
        return Ok(());
    }
    let targets = [
        format!("mailbox:{}", o.address),
        format!("domain:{}", o.domain_name),
    ];
    audit::record(
        txn,
        hooks,
        actor,
        what,
        &o.tenant.path,
        &[&targets[0], &targets[1]],
        detail,
    )
}

/// The store's script errors in the core's terms.
pub(crate) fn script_error(e: marque_store::Error, name: &str) -> CoreError {
    match e {
        marque_store::Error::NotFound(_) => CoreError::not_found("script", name),
        marque_store::Error::AlreadyExists(what) => CoreError::AlreadyExists {
            what: "script",
            key: what,
        },
        marque_store::Error::Invalid(reason) if reason.contains("is active") => CoreError::State {
            what: "script",
            key: name.to_string(),
            reason: "is active; deactivate it first".into(),
        },
        marque_store::Error::Invalid(reason) => CoreError::invalid("name", reason),
        other => other.into(),
    }
}

/// Stores `text` as script `name` with the limits checked (size, and count for a new name).
/// The caller has compiled the text.
pub(crate) fn store_script(
    txn: &mut Txn<'_>,
    limits: &SieveLimits,
    account: AccountId,
    name: &str,
    text: &[u8],
) -> Result<()> {
    store::check_name(name).map_err(|e| script_error(e, name))?;
    limits.check_size(text.len() as u64)?;
    if store::get(txn, account, name)?.is_none() {
        let (count, _) = store::usage(txn, account)?;
        limits.check_count(count)?;
    }
    store::put(txn, account, name, text).map_err(|e| script_error(e, name))
}

#[derive(Serialize)]
struct ScriptDetail<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_name: Option<&'a str>,
}

impl Hosting {
    /// The limits on one mailbox's scripts.
    pub fn sieve_limits(&self) -> SieveLimits {
        self.sieve
    }

    /// Compiles `text` and checks it against the size limit, storing nothing (CHECKSCRIPT).
    pub fn sieve_check(&self, text: &[u8]) -> Result<()> {
        compile(text, &self.sieve)
    }

    /// The scripts of the mailbox at `address`.
    pub async fn sieve_list(&self, actor: &Actor, address: &str) -> Result<Vec<ScriptInfo>> {
        let (actor, address) = (actor.clone(), validate::address(address)?);
        self.core
            .read(move |s| {
                let o = owner(s, &actor, &address)?;
                Ok(store::list(s, o.account)?)
            })
            .await
    }

    /// The text of script `name`.
    pub async fn sieve_get(&self, actor: &Actor, address: &str, name: &str) -> Result<String> {
        let (actor, address, name) = (actor.clone(), validate::address(address)?, name.to_string());
        self.core
            .read(move |s| {
                let o = owner(s, &actor, &address)?;
                let text = store::get(s, o.account, &name)?
                    .ok_or_else(|| CoreError::not_found("script", &name))?;
                String::from_utf8(text).map_err(|_| CoreError::invalid("script", "is not UTF-8"))
            })
            .await
    }

    /// Compiles and stores script `name` (creating or replacing it; an active script stays
    /// active). Refused with [`CoreError::Invalid`] naming line and column if it does not
    /// compile, or [`CoreError::LimitExceeded`] ([`LIMIT_SIZE`], [`LIMIT_SCRIPTS`]).
    ///
    /// Returns warnings: replacing the active script with one that lacks the managed section
    /// while a vacation or forwards are on (they take effect again on their next change).
    pub async fn sieve_put(
        &self,
        actor: &Actor,
        address: &str,
        name: &str,
        text: Vec<u8>,
    ) -> Result<Vec<String>> {
        store::check_name(name).map_err(|e| script_error(e, name))?;
        compile(&text, &self.sieve)?;
        let (actor, address, name, limits) = (
            actor.clone(),
            validate::address(address)?,
            name.to_string(),
            self.sieve,
        );
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let o = owner(txn, &actor, &address)?;
                let owns = |a: &str| {
                    marque_core::lookup::address_belongs_to(txn, a, o.account, &o.address)
                        .unwrap_or(false)
                };
                if let Some(problem) =
                    lint::vacation_problem(&String::from_utf8_lossy(&text), Some(&owns))
                {
                    return Err(CoreError::invalid("script", problem));
                }
                store_script(txn, &limits, o.account, &name, &text)?;
                let mut warnings = Vec::new();
                if store::active_name(txn, o.account)?.as_deref() == Some(name.as_str())
                    && managed::render(&settings::load(txn, o.account)?).is_some()
                    && !text
                        .windows(managed::BEGIN.len())
                        .any(|w| w == managed::BEGIN.as_bytes())
                {
                    warnings.push(
                        "the vacation and forwarding section is missing from the active script; \
                     it is written again when those settings next change"
                            .to_string(),
                    );
                }
                let detail = ScriptDetail {
                    name: &name,
                    size: Some(text.len()),
                    new_name: None,
                };
                audit_change(txn, hooks, &actor, &o, "sieve.put", &detail)?;
                Ok(warnings)
            })
            .await
    }

    /// Makes `name` the active script, or deactivates every script with `None` (SETACTIVE
    /// with an empty name, RFC 5804 §2.8).
    pub async fn sieve_set_active(
        &self,
        actor: &Actor,
        address: &str,
        name: Option<&str>,
    ) -> Result<()> {
        let (actor, address, name) = (
            actor.clone(),
            validate::address(address)?,
            name.map(str::to_string),
        );
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let o = owner(txn, &actor, &address)?;
                let label = name.as_deref().unwrap_or("");
                store::set_active(txn, o.account, name.as_deref())
                    .map_err(|e| script_error(e, label))?;
                let detail = ScriptDetail {
                    name: label,
                    size: None,
                    new_name: None,
                };
                audit_change(txn, hooks, &actor, &o, "sieve.activate", &detail)
            })
            .await
    }

    /// Deletes script `name`; the active script cannot be deleted ([`CoreError::State`]).
    pub async fn sieve_delete(&self, actor: &Actor, address: &str, name: &str) -> Result<()> {
        let (actor, address, name) = (actor.clone(), validate::address(address)?, name.to_string());
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let o = owner(txn, &actor, &address)?;
                store::delete(txn, o.account, &name).map_err(|e| script_error(e, &name))?;
                let detail = ScriptDetail {
                    name: &name,
                    size: None,
                    new_name: None,
                };
                audit_change(txn, hooks, &actor, &o, "sieve.delete", &detail)
            })
            .await
    }

    /// Renames script `old` to `new` (which must not exist); an active script stays active.
    pub async fn sieve_rename(
        &self,
        actor: &Actor,
        address: &str,
        old: &str,
        new: &str,
    ) -> Result<()> {
        let (actor, address, old, new) = (
            actor.clone(),
            validate::address(address)?,
            old.to_string(),
            new.to_string(),
        );
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let o = owner(txn, &actor, &address)?;
                store::rename(txn, o.account, &old, &new).map_err(|e| match e {
                    marque_store::Error::AlreadyExists(_) => CoreError::AlreadyExists {
                        what: "script",
                        key: new.clone(),
                    },
                    e => script_error(e, &old),
                })?;
                let detail = ScriptDetail {
                    name: &old,
                    size: None,
                    new_name: Some(&new),
                };
                audit_change(txn, hooks, &actor, &o, "sieve.rename", &detail)
            })
            .await
    }

    /// Whether a script `name` of `size` bytes would fit (HAVESPACE, RFC 5804 §2.5): the size
    /// limit, and the count limit unless it replaces a script of that name.
    pub async fn sieve_have_space(
        &self,
        actor: &Actor,
        address: &str,
        name: &str,
        size: u64,
    ) -> Result<()> {
        store::check_name(name).map_err(|e| script_error(e, name))?;
        self.sieve.check_size(size)?;
        let (actor, address, name, limits) = (
            actor.clone(),
            validate::address(address)?,
            name.to_string(),
            self.sieve,
        );
        self.core
            .read(move |s| {
                let o = owner(s, &actor, &address)?;
                if store::get(s, o.account, &name)?.is_none() {
                    limits.check_count(store::usage(s, o.account)?.0)?;
                }
                Ok(())
            })
            .await
    }
}

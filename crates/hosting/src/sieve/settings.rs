//! The vacation and forwarding settings of a mailbox: stored as one small record beside its
//! scripts, and written into the managed section of its active script in the same
//! transaction.
//!
//! A user who replaces the active script through ManageSieve without the section loses the
//! effect of the settings (not the settings themselves) until they next change: every change
//! writes the section again.

use marque_store::Txn;
use marque_store::sieve as store;

use marque_core::directory::Reader;
use marque_core::error::{CoreError, Result};
use marque_core::ids::AccountId;
use marque_core::principal::Actor;
use marque_core::validate;

use super::managed::{self, Forwards, Settings, Vacation};
use super::{MANAGED_SCRIPT, SieveLimits, audit_change, compile, owner, store_script};
use crate::Hosting;

/// Reads the settings of an account (defaults when none were stored).
pub(crate) fn load(r: &impl Reader, account: AccountId) -> Result<Settings> {
    match store::settings(r, account)? {
        Some(raw) => serde_json::from_slice(&raw)
            .map_err(|e| CoreError::Task(format!("sieve settings of account {account}: {e}"))),
        None => Ok(Settings::default()),
    }
}

/// Writes the managed section for `settings` into the active script: into the script that is
/// active, or into a new script [`MANAGED_SCRIPT`] that becomes active. With every setting off
/// the section is removed and nothing is created.
pub(crate) fn apply(
    txn: &mut Txn<'_>,
    limits: &SieveLimits,
    account: AccountId,
    settings: &Settings,
) -> Result<()> {
    let section = managed::render(settings);
    let (name, old, exists) = match store::active(txn, account)? {
        Some((name, text)) => (name, text, true),
        None if section.is_none() => return Ok(()),
        None => match store::get(txn, account, MANAGED_SCRIPT)? {
            Some(text) => (MANAGED_SCRIPT.to_string(), text, true),
            None => (MANAGED_SCRIPT.to_string(), Vec::new(), false),
        },
    };
    let old_text = String::from_utf8(old)
        .map_err(|_| CoreError::invalid("script", format!("{name:?} is not UTF-8")))?;
    let new_text = managed::merge(&old_text, section.as_deref());
    if exists && new_text == old_text && store::active_name(txn, account)?.is_some() {
        return Ok(());
    }
    compile(new_text.as_bytes(), limits)?;
    store_script(txn, limits, account, &name, new_text.as_bytes())?;
    if store::active_name(txn, account)?.is_none() {
        store::set_active(txn, account, Some(&name)).map_err(|e| super::script_error(e, &name))?;
    }
    Ok(())
}

impl Hosting {
    /// The stored vacation and forwarding settings of the mailbox at `address`.
    pub async fn sieve_settings(&self, actor: &Actor, address: &str) -> Result<Settings> {
        let (actor, address) = (actor.clone(), validate::address(address)?);
        self.core
            .read(move |s| {
                let o = owner(s, &actor, &address)?;
                load(s, o.account)
            })
            .await
    }

    /// Sets (or with `None` removes) the vacation settings and rewrites the managed section.
    pub async fn set_vacation(
        &self,
        actor: &Actor,
        address: &str,
        vacation: Option<Vacation>,
    ) -> Result<Settings> {
        let address = validate::address(address)?;
        let vacation = vacation.map(|v| v.validated(&address)).transpose()?;
        self.change_settings(actor, address, "sieve.vacation", move |s| {
            s.vacation = vacation;
        })
        .await
    }

    /// Sets (or with `None` removes) the forwards and rewrites the managed section.
    pub async fn set_forwards(
        &self,
        actor: &Actor,
        address: &str,
        forwards: Option<Forwards>,
    ) -> Result<Settings> {
        let address = validate::address(address)?;
        let forwards = forwards.map(|f| f.validated(&address)).transpose()?;
        self.change_settings(actor, address, "sieve.forwards", move |s| {
            s.forwards = forwards;
        })
        .await
    }

    async fn change_settings<F>(
        &self,
        actor: &Actor,
        address: String,
        what: &'static str,
        change: F,
    ) -> Result<Settings>
    where
        F: FnOnce(&mut Settings) + Send + 'static,
    {
        let (actor, limits) = (actor.clone(), self.sieve);
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let o = owner(txn, &actor, &address)?;
                let mut settings = load(txn, o.account)?;
                change(&mut settings);
                let raw = serde_json::to_vec(&settings)
                    .map_err(|e| CoreError::Task(format!("encoding sieve settings: {e}")))?;
                store::put_settings(txn, o.account, &raw);
                apply(txn, &limits, o.account, &settings)?;
                audit_change(txn, hooks, &actor, &o, what, &settings)?;
                Ok(settings)
            })
            .await
    }
}

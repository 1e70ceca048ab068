//! Sieve scripts of an account, in the model of ManageSieve (RFC 5804): named scripts, at most
//! one of them active.
//!
//! Scripts live in the account's range of the mailboxes keyspace, so that purging an account
//! removes them with its mail. The store keeps the text only; compiling and checking it is the
//! delivery layer's job, and so are the limits on count and size (see [`usage`]).

use crate::backend::{Direction, Range};
use crate::error::{Error, Result};
use crate::ids::AccountId;
use crate::keyspace::{Key, Keyspace};
use crate::reader::Reader;
use crate::txn::Txn;

use crate::tags::mailboxes::{
    SIEVE_ACTIVE as TAG_ACTIVE, SIEVE_SCRIPT as TAG_SCRIPT, SIEVE_SETTINGS as TAG_SETTINGS,
};

/// The longest script name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The most scripts [`list`] returns; far above any sensible per-account limit.
const LIST_LIMIT: usize = 10_000;

/// One script as [`list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptInfo {
    pub name: String,
    /// Size of the script text in bytes.
    pub size: u64,
    pub active: bool,
}

fn script_key(account: AccountId, name: &str) -> Vec<u8> {
    Key::new()
        .u64(account.0)
        .tag(TAG_SCRIPT)
        .bytes(name.as_bytes())
        .into_bytes()
}

fn script_prefix(account: AccountId) -> Vec<u8> {
    Key::new().u64(account.0).tag(TAG_SCRIPT).into_bytes()
}

fn active_key(account: AccountId) -> Vec<u8> {
    Key::new().u64(account.0).tag(TAG_ACTIVE).into_bytes()
}

/// Checks a script name: 1 to [`MAX_NAME_LEN`] bytes of UTF-8 without control characters
/// (RFC 5804 §1.6 forbids CR, LF, NUL and the other controls).
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::Invalid(format!(
            "a script name has 1 to {MAX_NAME_LEN} bytes"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "a script name may not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Creates or replaces script `name`. Replacing the active script keeps it active.
pub fn put(txn: &mut Txn<'_>, account: AccountId, name: &str, text: &[u8]) -> Result<()> {
    check_name(name)?;
    txn.put(
        Keyspace::Mailboxes,
        script_key(account, name),
        text.to_vec(),
    );
    Ok(())
}

/// Reads script `name`.
pub fn get(r: &impl Reader, account: AccountId, name: &str) -> Result<Option<Vec<u8>>> {
    r.get(Keyspace::Mailboxes, &script_key(account, name))
}

/// The name of the active script, if any.
pub fn active_name(r: &impl Reader, account: AccountId) -> Result<Option<String>> {
    r.get(Keyspace::Mailboxes, &active_key(account))?
        .map(|v| {
            String::from_utf8(v).map_err(|_| Error::Corrupt {
                keyspace: Keyspace::Mailboxes,
                reason: "active script name is not UTF-8".into(),
            })
        })
        .transpose()
}

/// The active script's name and text, if any.
pub fn active(r: &impl Reader, account: AccountId) -> Result<Option<(String, Vec<u8>)>> {
    let Some(name) = active_name(r, account)? else {
        return Ok(None);
    };
    match get(r, account, &name)? {
        Some(text) => Ok(Some((name, text))),
        None => Err(Error::Corrupt {
            keyspace: Keyspace::Mailboxes,
            reason: format!("active script {name:?} does not exist"),
        }),
    }
}

/// Every script of the account, by name.
pub fn list(r: &impl Reader, account: AccountId) -> Result<Vec<ScriptInfo>> {
    let active = active_name(r, account)?;
    let prefix = script_prefix(account);
    let rows = r.scan(
        Keyspace::Mailboxes,
        &Range::prefix(&prefix),
        Direction::Forward,
        LIST_LIMIT,
    )?;
    rows.into_iter()
        .map(|(k, v)| {
            let name =
                String::from_utf8(k[prefix.len()..].to_vec()).map_err(|_| Error::Corrupt {
                    keyspace: Keyspace::Mailboxes,
                    reason: "script name is not UTF-8".into(),
                })?;
            Ok(ScriptInfo {
                active: active.as_deref() == Some(name.as_str()),
                size: v.len() as u64,
                name,
            })
        })
        .collect()
}

/// The number of scripts and their total size in bytes, for quota checks.
pub fn usage(r: &impl Reader, account: AccountId) -> Result<(u64, u64)> {
    let scripts = list(r, account)?;
    Ok((scripts.len() as u64, scripts.iter().map(|s| s.size).sum()))
}

/// Makes `name` the active script, or deactivates all scripts with `None`.
pub fn set_active(txn: &mut Txn<'_>, account: AccountId, name: Option<&str>) -> Result<()> {
    match name {
        Some(name) => {
            if get(txn, account, name)?.is_none() {
                return Err(Error::NotFound(format!("script {name:?}")));
            }
            txn.put(
                Keyspace::Mailboxes,
                active_key(account),
                name.as_bytes().to_vec(),
            );
        }
        None => txn.delete(Keyspace::Mailboxes, active_key(account)),
    }
    Ok(())
}

/// Deletes script `name`. The active script cannot be deleted (RFC 5804 §2.10): deactivate it
/// first.
pub fn delete(txn: &mut Txn<'_>, account: AccountId, name: &str) -> Result<()> {
    if get(txn, account, name)?.is_none() {
        return Err(Error::NotFound(format!("script {name:?}")));
    }
    if active_name(txn, account)?.as_deref() == Some(name) {
        return Err(Error::Invalid(format!(
            "script {name:?} is active and cannot be deleted"
        )));
    }
    txn.delete(Keyspace::Mailboxes, script_key(account, name));
    Ok(())
}

/// Renames script `old` to `new`, which must not exist. An active script stays active.
pub fn rename(txn: &mut Txn<'_>, account: AccountId, old: &str, new: &str) -> Result<()> {
    check_name(new)?;
    let Some(text) = get(txn, account, old)? else {
        return Err(Error::NotFound(format!("script {old:?}")));
    };
    if get(txn, account, new)?.is_some() {
        return Err(Error::AlreadyExists(format!("script {new:?}")));
    }
    txn.delete(Keyspace::Mailboxes, script_key(account, old));
    txn.put(Keyspace::Mailboxes, script_key(account, new), text);
    if active_name(txn, account)?.as_deref() == Some(old) {
        txn.put(
            Keyspace::Mailboxes,
            active_key(account),
            new.as_bytes().to_vec(),
        );
    }
    Ok(())
}

fn settings_key(account: AccountId) -> Vec<u8> {
    Key::new().u64(account.0).tag(TAG_SETTINGS).into_bytes()
}

/// Stores the account's structured Sieve settings (vacation, forwards), encoded by the caller.
/// They live beside the scripts so that purging the account removes them too.
pub fn put_settings(txn: &mut Txn<'_>, account: AccountId, value: &[u8]) {
    txn.put(Keyspace::Mailboxes, settings_key(account), value.to_vec());
}

/// Reads the account's structured Sieve settings, if any were stored.
pub fn settings(r: &impl Reader, account: AccountId) -> Result<Option<Vec<u8>>> {
    r.get(Keyspace::Mailboxes, &settings_key(account))
}

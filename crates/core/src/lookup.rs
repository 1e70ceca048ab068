//! What the mail services ask the directory: who an address is, and password sign-in.

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use crate::directory::{self as dir, AddressLoc, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{AccountId, DomainId, TenantId};
use crate::principal::{self, Actor, Scope, StaffRecord, Via};
use crate::tenant::{self, TenantState};
use crate::{Core, alias, domain, list, mailbox, password, validate};

/// What an address delivers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipient {
    /// A mailbox. `active` is false if the mailbox, its domain or a tenant above is disabled,
    /// pending or deactivated.
    Mailbox {
        account: AccountId,
        domain: DomainId,
        tenant: TenantId,
        active: bool,
    },
    /// An alias: deliver to each target (which may be local or remote).
    Alias { targets: Vec<String> },
    /// A mailing list: deliver to each member.
    List { members: Vec<String> },
}

/// True if the mailbox, its domain and every tenant above it are enabled and active.
pub(crate) fn mailbox_active(r: &impl Reader, m: &mailbox::Mailbox) -> Result<bool> {
    if !m.enabled {
        return Ok(false);
    }
    let (d, _) = domain::load_by_id(r, m.domain)?;
    Ok(d.enabled
        && tenant::chain(r, m.tenant)?
            .iter()
            .all(|t| t.state == TenantState::Active))
}

fn resolve(r: &impl Reader, address: &str) -> Result<Option<Recipient>> {
    let Ok(address) = validate::address(address) else {
        return Ok(None);
    };
    let Some(loc): Option<AddressLoc> = dir::get(r, Keyspace::Names, &dir::address_key(&address))?
    else {
        return Ok(None);
    };
    Ok(Some(match loc {
        AddressLoc::Mailbox {
            tenant,
            domain,
            account,
        } => {
            let m = mailbox::load_by_address(r, &address)?;
            let active = mailbox_active(r, &m.mailbox)?;
            Recipient::Mailbox {
                account,
                domain,
                tenant,
                active,
            }
        }
        AddressLoc::Alias { .. } => Recipient::Alias {
            targets: alias::load_by_address(r, &address)?.0.targets,
        },
        AddressLoc::List { .. } => Recipient::List {
            members: list::load_by_address(r, &address)?.0.members,
        },
    }))
}

/// Whether the user of mailbox `account` (at `mailbox_address`) may send as `address`: its own
/// mailbox address, or an alias that delivers to it. Submission's sender check (MAIL FROM) and
/// what the platform sends on a user's behalf (a vacation reply's `From`) both ask this.
pub fn address_belongs_to(
    r: &impl Reader,
    address: &str,
    account: AccountId,
    mailbox_address: &str,
) -> Result<bool> {
    if address.is_empty() {
        return Ok(false);
    }
    Ok(match resolve(r, address)? {
        Some(Recipient::Mailbox { account: a, .. }) => a == account,
        Some(Recipient::Alias { targets }) => targets
            .iter()
            .any(|t| t.eq_ignore_ascii_case(mailbox_address)),
        _ => false,
    })
}

/// A fixed hash to verify against when the name is unknown, so that unknown and known names
/// take the same time to refuse.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$WQ3oBqMeyq0NtUfGN8K1tCIJK3eM2kKxCc3whsD0lU0";

impl Core {
    /// Resolves an address to a mailbox, an alias's targets or a list's members (`None`: not
    /// ours). No permission check: this serves SMTP and IMAP, not the admin API.
    pub async fn resolve_address(&self, address: &str) -> Result<Option<Recipient>> {
        let address = address.to_string();
        self.read(move |s| resolve(s, &address)).await
    }

    /// [`Core::resolve_address`] for threads outside the async runtime.
    pub fn resolve_address_blocking(&self, address: &str) -> Result<Option<Recipient>> {
        resolve(&self.store, address)
    }

    /// [`address_belongs_to`] on the store.
    pub async fn address_belongs_to(
        &self,
        address: &str,
        account: AccountId,
        mailbox_address: &str,
    ) -> Result<bool> {
        let (address, mailbox_address) = (address.to_string(), mailbox_address.to_string());
        self.read(move |s| address_belongs_to(s, &address, account, &mailbox_address))
            .await
    }

    /// True if mail for this domain is ours.
    pub async fn is_local_domain(&self, name: &str) -> Result<bool> {
        let Ok(name) = validate::domain(name) else {
            return Ok(false);
        };
        self.read(move |s| {
            Ok(s.get(Keyspace::Names, &dir::domain_name_key(&name))?
                .is_some())
        })
        .await
    }

    /// The address of an account (for the mail services, which work with account ids).
    pub async fn account_address(&self, account: AccountId) -> Result<String> {
        self.read(move |s| Ok(mailbox::load_by_id(s, account)?.mailbox.address))
            .await
    }

    /// Signs in by password: an address signs in as its mailbox (user, or postmaster), any other
    /// name as an administrator or manager. Every failure is the same [`CoreError::AuthFailed`].
    pub async fn authenticate_password(&self, name: &str, secret: &str) -> Result<Actor> {
        let name = name.trim().to_ascii_lowercase();
        let found = {
            let name = name.clone();
            self.read(
                move |s| -> Result<Option<(String, principal::PrincipalId, bool)>> {
                    if name.contains('@') {
                        let Ok(address) = validate::address(&name) else {
                            return Ok(None);
                        };
                        match mailbox::load_by_address(s, &address) {
                            Ok(m) => {
                                let active = mailbox_active(s, &m.mailbox)?;
                                Ok(Some((
                                    m.password_hash,
                                    principal::PrincipalId::Mailbox(m.mailbox.id),
                                    active,
                                )))
                            }
                            Err(CoreError::NotFound { .. }) => Ok(None),
                            Err(e) => Err(e),
                        }
                    } else {
                        let Some(loc): Option<Loc> =
                            dir::get(s, Keyspace::Names, &dir::login_key(&name))?
                        else {
                            return Ok(None);
                        };
                        let recs: Vec<StaffRecord> = dir::list(
                            s,
                            Keyspace::Directory,
                            &dir::owned_prefix(loc.tenant, dir::STAFF),
                        )?;
                        Ok(recs
                            .into_iter()
                            .find(|r| r.staff.login == name)
                            .and_then(|r| {
                                r.password_hash.map(|h| {
                                    (
                                        h,
                                        principal::PrincipalId::Staff(r.staff.id),
                                        r.staff.enabled,
                                    )
                                })
                            }))
                    }
                },
            )
            .await?
        };
        let (phc, id, active) = found.unwrap_or_else(|| {
            (
                DUMMY_PHC.to_string(),
                principal::PrincipalId::Operator,
                false,
            )
        });
        let ok = password::verify_async(phc, secret.to_string()).await?;
        if !ok || !active {
            return Err(CoreError::AuthFailed);
        }
        let principal = self.read(move |s| principal::resolve(s, id)).await?;
        Ok(Actor {
            principal,
            source: "unknown".into(),
            via: Via::Password,
            scope: Scope::default(),
        })
    }
}

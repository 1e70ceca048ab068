//! The address and name mail leaves from: a tenant or a domain may have a dedicated source IP
//! and EHLO name (design.md, "White label"). Resolution goes from the sender's domain up its
//! tenant chain to the provider, field by field; what nobody sets falls to the server default.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use marque_store::Keyspace;

use marque_core::Core;
use marque_core::audit;
use marque_core::directory::{self as dir, Reader};
use marque_core::domain;
use marque_core::error::Result;
use marque_core::ids::TenantId;
use marque_core::policy::{Action, Object, Target, check};
use marque_core::principal::Actor;
use marque_core::tenant;
use marque_core::validate;

use crate::Hosting;

/// Record tag under the owning tenant: `tenant · 'o' · 0` for the tenant itself,
/// `tenant · 'o' · domain` for one of its domains.
const TAG: u8 = marque_store::tags::directory::OUTBOUND_IDENTITY;

/// A source address and EHLO name; either may be unset (inherited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundIdentity {
    /// The local address outbound connections are bound to.
    pub source_ip: Option<IpAddr>,
    /// The name given in EHLO.
    pub ehlo: Option<String>,
}

/// Whose identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityOf {
    Tenant(TenantId),
    Domain(String),
}

impl Hosting {
    /// Sets (or with `OutboundIdentity::default()`, clears) the identity of a tenant (by its
    /// ancestors: `TenantUpdate`) or of a domain (`DomainUpdate`).
    pub async fn set_outbound_identity(
        &self,
        actor: &Actor,
        of: IdentityOf,
        identity: OutboundIdentity,
    ) -> Result<()> {
        if let Some(name) = &identity.ehlo {
            validate::domain(name)?;
        }
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let (key, path, what) = match &of {
                    IdentityOf::Tenant(t) => {
                        let t = tenant::load(txn, *t)?;
                        let target = Target::of(&t, Object::Tenant);
                        check(&a, Action::TenantUpdate, &target, "tenant", t.id)?;
                        (
                            dir::owned_key(t.id, TAG, 0),
                            t.path,
                            format!("tenant:{}", t.id),
                        )
                    }
                    IdentityOf::Domain(name) => {
                        let name = validate::domain(name)?;
                        let (d, t) = domain::load_by_name(txn, &name)?;
                        let target = Target::of(&t, Object::Domain(d.id));
                        check(&a, Action::DomainUpdate, &target, "domain", &name)?;
                        (
                            dir::owned_key(t.id, TAG, d.id.0),
                            t.path,
                            format!("domain:{name}"),
                        )
                    }
                };
                if identity == OutboundIdentity::default() {
                    txn.delete(Keyspace::Directory, key);
                } else {
                    dir::put(txn, Keyspace::Directory, key, &identity)?;
                }
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "outbound_identity.set",
                    &path,
                    &[&what],
                    &identity,
                )?;
                Ok(())
            })
            .await
    }

    /// The identity set on this tenant or domain itself (not inherited), if any; readable by
    /// who may read the tenant (`TenantRead`) or the domain (`DomainRead`).
    pub async fn get_outbound_identity(
        &self,
        actor: &Actor,
        of: IdentityOf,
    ) -> Result<Option<OutboundIdentity>> {
        let a = actor.clone();
        self.core
            .read(move |s| {
                let key = match &of {
                    IdentityOf::Tenant(t) => {
                        let t = tenant::load(s, *t)?;
                        let target = Target::of(&t, Object::Tenant);
                        check(&a, Action::TenantRead, &target, "tenant", t.id)?;
                        dir::owned_key(t.id, TAG, 0)
                    }
                    IdentityOf::Domain(name) => {
                        let name = validate::domain(name)?;
                        let (d, t) = domain::load_by_name(s, &name)?;
                        let target = Target::of(&t, Object::Domain(d.id));
                        check(&a, Action::DomainRead, &target, "domain", &name)?;
                        dir::owned_key(t.id, TAG, d.id.0)
                    }
                };
                dir::get(s, Keyspace::Directory, &key)
            })
            .await
    }
}

/// The identity mail of `tenant` (sent from `domain`, if given) leaves with (the outbound
/// workers read it through the core they hold).
pub async fn outbound_identity(
    core: &Core,
    tenant: TenantId,
    domain: Option<String>,
) -> Result<OutboundIdentity> {
    core.read(move |s| resolve(s, tenant, domain.as_deref()))
        .await
}

/// Domain first, then the tenant chain from the owner up; each field from the nearest setting.
pub(crate) fn resolve(
    r: &impl Reader,
    tenant: TenantId,
    domain_name: Option<&str>,
) -> Result<OutboundIdentity> {
    let mut found: Vec<OutboundIdentity> = Vec::new();
    if let Some(name) = domain_name
        && let Ok((d, t)) = domain::load_by_name(r, &name.to_ascii_lowercase())
        && let Some(i) = dir::get(r, Keyspace::Directory, &dir::owned_key(t.id, TAG, d.id.0))?
    {
        found.push(i);
    }
    if let Ok(chain) = tenant::chain(r, tenant) {
        for t in chain.iter().rev() {
            if let Some(i) = dir::get(r, Keyspace::Directory, &dir::owned_key(t.id, TAG, 0))? {
                found.push(i);
            }
        }
    }
    Ok(OutboundIdentity {
        source_ip: found.iter().find_map(|i| i.source_ip),
        ehlo: found.iter().find_map(|i| i.ehlo.clone()),
    })
}

//! Brands (design.md, "White label"): the name, hostnames, colours, support link and logo a
//! tenant shows its users, overridable per domain.
//!
//! A brand is a record on a tenant or on a domain. What a domain shows is resolved from the
//! domain up its tenant chain to the provider (`domain → customer → reseller → provider`); the
//! nearest record in force wins, and when nobody set one the built-in brand is named after the
//! server's own hostname. A record is in force while its tenant's plan includes custom branding
//! (the provider always may); its hostnames while the plan also includes custom TLS, since a
//! hostname is only usable with a certificate for it. A plan that loses these features hides
//! the records without deleting them.
//!
//! Hostnames are globally unique: an index in `Keyspace::Names` (`'B' · hostname`) points to
//! the record holding each one, so that protocols and the TLS side find a brand by the name a
//! client asked for.
//!
//! # Layout
//! - this file: the model, validation, and setting, clearing and reading records.
//! - `check`: validation of names, hostnames, colours and support URLs.
//! - `list`: the records a principal may see.
//! - `logo`: logo images (type by magic bytes, size limit), stored next to the record.
//! - `resolve`: which brand a domain, a tenant or a hostname shows.

mod check;
mod list;
mod logo;
mod resolve;

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Txn};

use marque_core::audit;
use marque_core::directory::{self as dir, Loc, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::{DomainId, PROVIDER, TenantId};
use marque_core::policy::{Action, Object, Target, check};
use marque_core::principal::Actor;
use marque_core::tenant::{self, Tenant};
use marque_core::{domain, plan, validate};

use crate::Hosting;
use crate::cert::owner::{Claim, ClaimKind, check_claim};

pub use list::BrandEntry;
pub use logo::{LOGO_MAX_BYTES, LOGO_TYPES};

/// Most hostnames one brand may register.
pub const HOSTNAMES_MAX: usize = 20;
/// Longest support URL accepted.
pub const SUPPORT_URL_MAX: usize = 2048;

/// The two colours of a brand, each `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Colours {
    pub primary: String,
    pub accent: String,
}

impl Default for Colours {
    fn default() -> Self {
        Colours {
            primary: "#1d4ed8".into(),
            accent: "#f59e0b".into(),
        }
    }
}

/// A stored logo, as a brand refers to it; the image is served by id (see
/// [`Hosting::brand_logo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoRef {
    pub id: u64,
    /// `image/png`, `image/jpeg` or `image/webp`, as found in the image itself.
    pub content_type: String,
    pub size: u64,
}

/// A brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    /// The name users see (panel, client configuration).
    pub name: String,
    /// The hostnames clients use; the first is the primary mail host (SMTP, IMAP, POP3, MX
    /// target). Empty: inherited from the brand above.
    pub hostnames: Vec<String>,
    pub colours: Colours,
    /// An `https` URL, or `None` for no support link at all.
    pub support_url: Option<String>,
    /// Set by [`Hosting::set_brand_logo`]; [`Hosting::set_brand`] keeps the stored one.
    pub logo: Option<LogoRef>,
}

/// Whose brand record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrandOf {
    Tenant(TenantId),
    /// A domain, by name.
    Domain(String),
}

impl std::fmt::Display for BrandOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrandOf::Tenant(t) => write!(f, "tenant:{t}"),
            BrandOf::Domain(d) => write!(f, "domain:{d}"),
        }
    }
}

/// The brand something shows, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveBrand {
    /// The brand, with its hostnames filled in (inherited ones included; never empty).
    pub brand: Brand,
    /// The record it came from (`Tenant(PROVIDER)` for the built-in brand).
    pub source: BrandOf,
    /// The tenant that record belongs to.
    pub tenant: TenantId,
}

/// A brand record's place: its key and what owns it.
pub(crate) struct Place {
    pub key: Vec<u8>,
    /// The tenant owning the record (for a domain, the domain's tenant).
    pub owner: Tenant,
    pub domain: Option<DomainId>,
    pub of: BrandOf,
}

impl Place {
    fn loc(&self) -> Loc {
        Loc {
            tenant: self.owner.id,
            domain: self.domain,
        }
    }
}

/// The action that changes (`write`) or reads a record of this kind.
///
/// A tenant's brand is its ancestors' to set, like the tenant record itself (`TenantUpdate`).
/// The provider has no ancestors: its own brand is set by those who administer the provider
/// tenant itself, which is what `TenantCreate` on it requires (the provider's admins alone).
fn action(of: &BrandOf, write: bool) -> Action {
    match (of, write) {
        (BrandOf::Tenant(t), true) if *t == PROVIDER => Action::TenantCreate,
        (BrandOf::Tenant(_), true) => Action::TenantUpdate,
        (BrandOf::Tenant(_), false) => Action::TenantRead,
        (BrandOf::Domain(_), true) => Action::DomainUpdate,
        (BrandOf::Domain(_), false) => Action::DomainRead,
    }
}

/// Finds a record's place; with an actor, checks that it may do `action` there.
pub(crate) fn place(
    r: &impl Reader,
    of: &BrandOf,
    actor: Option<(&Actor, Action)>,
) -> Result<Place> {
    match of {
        BrandOf::Tenant(id) => {
            let t = tenant::load(r, *id)?;
            if let Some((a, act)) = actor {
                check(a, act, &Target::of(&t, Object::Tenant), "tenant", t.id)?;
            }
            Ok(Place {
                key: dir::owned_key(t.id, dir::BRAND, 0),
                owner: t,
                domain: None,
                of: of.clone(),
            })
        }
        BrandOf::Domain(name) => {
            let name = validate::domain(name)?;
            let (d, t) = domain::load_by_name(r, &name)?;
            if let Some((a, act)) = actor {
                check(
                    a,
                    act,
                    &Target::of(&t, Object::Domain(d.id)),
                    "domain",
                    &name,
                )?;
            }
            Ok(Place {
                key: dir::owned_key(t.id, dir::BRAND, d.id.0),
                owner: t,
                domain: Some(d.id),
                of: BrandOf::Domain(name),
            })
        }
    }
}

/// What a tenant's plan allows of branding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowed {
    pub branding: bool,
    /// Custom TLS: own hostnames.
    pub tls: bool,
}

/// The provider may do everything; any other tenant what its effective plan includes.
pub(crate) fn allowed(r: &impl Reader, t: TenantId) -> Result<Allowed> {
    let features = plan::features(r, t)?;
    Ok(Allowed {
        branding: features.custom_branding,
        tls: features.tls,
    })
}

/// Reads the record at a place.
pub(crate) fn load(r: &impl Reader, key: &[u8]) -> Result<Option<Brand>> {
    dir::get(r, Keyspace::Directory, key)
}

/// True if `loc`'s record still exists and lists `host`: otherwise an index entry is stale
/// (its domain or tenant was deleted) and the name is free.
fn holds(r: &impl Reader, loc: &Loc, host: &str) -> Result<bool> {
    let owner_exists = match loc.domain {
        Some(d) => dir::locate(r, dir::DOMAIN, d.0)?.is_some(),
        None => r
            .get(Keyspace::Directory, &dir::tenant_key(loc.tenant))?
            .is_some(),
    };
    if !owner_exists {
        return Ok(false);
    }
    let key = dir::owned_key(loc.tenant, dir::BRAND, loc.domain.map_or(0, |d| d.0));
    Ok(load(r, &key)?.is_some_and(|b| b.hostnames.iter().any(|h| h == host)))
}

/// The tenant whose brand record holds `host` (in force or not), if any.
pub(crate) fn holder_of(r: &impl Reader, host: &str) -> Result<Option<TenantId>> {
    match dir::get::<Loc>(r, Keyspace::Names, &dir::brand_host_key(host))? {
        Some(loc) if holds(r, &loc, host)? => Ok(Some(loc.tenant)),
        _ => Ok(None),
    }
}

/// Frees the hostnames of `old` that `new` no longer lists and claims those it adds.
fn reindex(txn: &mut Txn<'_>, place: &Place, old: &[String], new: &[String]) -> Result<()> {
    let me = place.loc();
    for h in old.iter().filter(|h| !new.contains(h)) {
        let key = dir::brand_host_key(h);
        if dir::get::<Loc>(txn, Keyspace::Names, &key)? == Some(me) {
            txn.delete(Keyspace::Names, key);
        }
    }
    for h in new.iter().filter(|h| !old.contains(h)) {
        let key = dir::brand_host_key(h);
        if let Some(other) = dir::get::<Loc>(txn, Keyspace::Names, &key)?
            && other != me
            && holds(txn, &other, h)?
        {
            return Err(CoreError::AlreadyExists {
                what: "brand hostname",
                key: h.clone(),
            });
        }
        dir::put(txn, Keyspace::Names, key, &me)?;
    }
    Ok(())
}

/// Refuses a brand the owner's plan does not allow, saying which feature is missing.
fn check_plan(r: &impl Reader, place: &Place, brand: &Brand) -> Result<()> {
    let ok = allowed(r, place.owner.id)?;
    let tenant = place.owner.id.to_string();
    if !ok.branding {
        return Err(CoreError::NotInPlan {
            feature: "custom branding (features.custom_branding)",
            tenant,
        });
    }
    if !brand.hostnames.is_empty() && !ok.tls {
        return Err(CoreError::NotInPlan {
            feature: "custom TLS (features.tls), which own hostnames need",
            tenant,
        });
    }
    Ok(())
}

impl Hosting {
    /// Sets the brand of a tenant (by its ancestors: `TenantUpdate`) or of a domain
    /// (`DomainUpdate`). The plan must include custom branding, and custom TLS for own
    /// hostnames. Hostnames the record held before and no longer lists are freed; a hostname
    /// another brand holds is refused, and so is one that is not the owner's to use (the
    /// platform's names, names in another tenant's domains: [`crate::cert::owner`]). The
    /// stored logo stays.
    pub async fn set_brand(&self, actor: &Actor, of: BrandOf, brand: Brand) -> Result<()> {
        let brand = check::validated(brand)?;
        let a = actor.clone();
        let platform = self.platform_hosts();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let place = place(txn, &of, Some((&a, action(&of, true))))?;
                check_plan(txn, &place, &brand)?;
                let old = load(txn, &place.key)?;
                let mut brand = brand;
                brand.logo = old.as_ref().and_then(|b| b.logo.clone());
                let old_hosts = old.map(|b| b.hostnames).unwrap_or_default();
                for host in brand.hostnames.iter().filter(|h| !old_hosts.contains(h)) {
                    let claim = Claim {
                        actor: &a,
                        holder: place.owner.id,
                        host,
                        kind: ClaimKind::Hostname,
                    };
                    check_claim(txn, &platform, claim)?;
                }
                reindex(txn, &place, &old_hosts, &brand.hostnames)?;
                dir::put(txn, Keyspace::Directory, place.key.clone(), &brand)?;
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "brand.set",
                    &place.owner.path,
                    &[&place.of.to_string()],
                    &brand,
                )?;
                Ok(())
            })
            .await
    }

    /// Removes the brand record of a tenant or a domain, its logo, and frees its hostnames;
    /// what it showed is then inherited from above. Not found if there was none.
    pub async fn clear_brand(&self, actor: &Actor, of: BrandOf) -> Result<()> {
        let a = actor.clone();
        self.core
            .write(actor.clone(), move |txn, hooks| {
                let place = place(txn, &of, Some((&a, action(&of, true))))?;
                let old = load(txn, &place.key)?
                    .ok_or_else(|| CoreError::not_found("brand", &place.of))?;
                reindex(txn, &place, &old.hostnames, &[])?;
                if let Some(l) = &old.logo {
                    logo::remove(txn, place.owner.id, l.id);
                }
                txn.delete(Keyspace::Directory, place.key.clone());
                audit::record(
                    txn,
                    hooks,
                    &a,
                    "brand.clear",
                    &place.owner.path,
                    &[&place.of.to_string()],
                    &old,
                )?;
                Ok(())
            })
            .await
    }

    /// The brand record set on this tenant or domain itself (not inherited), if any.
    pub async fn get_brand(&self, actor: &Actor, of: BrandOf) -> Result<Option<Brand>> {
        let a = actor.clone();
        self.core
            .read(move |s| {
                let place = place(s, &of, Some((&a, action(&of, false))))?;
                load(s, &place.key)
            })
            .await
    }
}

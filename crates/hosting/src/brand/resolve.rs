//! Which brand something shows. No actor: protocols (autoconfig, MTA-STS, TLS by SNI) and the
//! panel before sign-in ask by domain or by the hostname a client used.
//!
//! Resolution walks from the domain's own record up its tenant chain to the provider. The
//! nearest record in force (its tenant's plan includes custom branding) gives the brand; if it
//! has no hostnames in force (none set, or no custom TLS), the hostnames come from the next
//! record up that has some, and finally from the server's own hostname.

use std::collections::HashMap;

use marque_store::{Direction, KeyReader, Keyspace, Range};

use marque_core::directory::{self as dir, Loc, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::{PROVIDER, TenantId};
use marque_core::{domain, tenant, validate};

use super::{Allowed, Brand, BrandOf, Colours, EffectiveBrand, allowed, load};
use crate::Hosting;

/// Prefixes of the per-domain service names that show the domain's brand.
const SERVICE_PREFIXES: [&str; 3] = ["autoconfig.", "autodiscover.", "mta-sts."];

/// One record on the way up, with what its tenant's plan allows.
struct Candidate {
    brand: Brand,
    source: BrandOf,
    tenant: TenantId,
    allowed: Allowed,
}

/// The records from a domain (if given) up to the provider, nearest first.
fn candidates(
    r: &impl Reader,
    start: TenantId,
    domain: Option<(&str, u64)>,
) -> Result<Vec<Candidate>> {
    let chain = tenant::chain(r, start)?;
    let mut out = Vec::new();
    let mut cache: HashMap<TenantId, Allowed> = HashMap::new();
    let mut allowed_for = |r: &_, t: TenantId| -> Result<Allowed> {
        if let Some(a) = cache.get(&t) {
            return Ok(*a);
        }
        let a = allowed(r, t)?;
        cache.insert(t, a);
        Ok(a)
    };
    if let Some((name, id)) = domain
        && let Some(brand) = load(r, &dir::owned_key(start, dir::BRAND, id))?
    {
        out.push(Candidate {
            brand,
            source: BrandOf::Domain(name.to_string()),
            tenant: start,
            allowed: allowed_for(r, start)?,
        });
    }
    for t in chain.iter().rev() {
        if let Some(brand) = load(r, &dir::owned_key(t.id, dir::BRAND, 0))? {
            out.push(Candidate {
                brand,
                source: BrandOf::Tenant(t.id),
                tenant: t.id,
                allowed: allowed_for(r, t.id)?,
            });
        }
    }
    Ok(out)
}

/// The built-in brand: named after the server's hostname, which is also its mail host.
fn builtin(hostname: &str) -> Brand {
    Brand {
        name: hostname.to_string(),
        hostnames: vec![hostname.to_string()],
        colours: Colours::default(),
        support_url: None,
        logo: None,
    }
}

/// Picks the effective brand from the candidates (nearest first).
fn pick(mut found: Vec<Candidate>, hostname: &str) -> EffectiveBrand {
    let inherited_hosts = |from: usize, found: &[Candidate]| -> Vec<String> {
        found[from..]
            .iter()
            .find(|c| c.allowed.branding && c.allowed.tls && !c.brand.hostnames.is_empty())
            .map(|c| c.brand.hostnames.clone())
            .unwrap_or_else(|| vec![hostname.to_string()])
    };
    let Some(i) = found.iter().position(|c| c.allowed.branding) else {
        return EffectiveBrand {
            brand: builtin(hostname),
            source: BrandOf::Tenant(PROVIDER),
            tenant: PROVIDER,
        };
    };
    let hosts = inherited_hosts(i, &found);
    let mut c = found.swap_remove(i);
    c.brand.hostnames = hosts;
    EffectiveBrand {
        brand: c.brand,
        source: c.source,
        tenant: c.tenant,
    }
}

/// The effective brand of a hosted domain (normalised name).
fn for_domain(r: &impl Reader, name: &str, hostname: &str) -> Result<EffectiveBrand> {
    let (d, t) = domain::load_by_name(r, name)?;
    Ok(pick(candidates(r, t.id, Some((name, d.id.0)))?, hostname))
}

/// The record an index entry points to, if it is in force with its hostnames.
fn registered(r: &impl Reader, loc: &Loc, host: &str) -> Result<Option<EffectiveBrand>> {
    let key = dir::owned_key(loc.tenant, dir::BRAND, loc.domain.map_or(0, |d| d.0));
    let Some(brand) = load(r, &key)? else {
        return Ok(None);
    };
    if !brand.hostnames.iter().any(|h| h == host) {
        return Ok(None);
    }
    let ok = match allowed(r, loc.tenant) {
        Ok(a) => a,
        // The tenant was deleted: the entry is stale.
        Err(CoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !(ok.branding && ok.tls) {
        return Ok(None);
    }
    let source = match loc.domain {
        None => BrandOf::Tenant(loc.tenant),
        Some(id) => match domain::load_by_id(r, id) {
            Ok((d, _)) => BrandOf::Domain(d.name),
            Err(CoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        },
    };
    Ok(Some(EffectiveBrand {
        brand,
        source,
        tenant: loc.tenant,
    }))
}

impl Hosting {
    /// The brand a hosted domain shows: its own record, else its tenant's, up to the
    /// provider's, else the built-in brand named after the server's hostname. Not found for a
    /// domain not hosted here.
    pub async fn brand_for_domain(&self, domain: &str) -> Result<EffectiveBrand> {
        let name = validate::domain(domain)?;
        let hostname = self.hostname.clone();
        self.core
            .read(move |s| for_domain(s, &name, &hostname))
            .await
    }

    /// The brand a tenant's users see where no domain applies (the panel): the tenant's own
    /// record, else its ancestors', else the built-in brand.
    pub async fn brand_for_tenant(&self, tenant: TenantId) -> Result<EffectiveBrand> {
        let hostname = self.hostname.clone();
        self.core
            .read(move |s| Ok(pick(candidates(s, tenant, None)?, &hostname)))
            .await
    }

    /// The brand behind a hostname a client used: a registered brand hostname (in force), the
    /// server's own hostname (the provider's brand), or `autoconfig.D`, `autodiscover.D`,
    /// `mta-sts.D` for a hosted domain D (D's brand). `None` for any other name.
    pub async fn brand_for_host(&self, host: &str) -> Result<Option<EffectiveBrand>> {
        let Ok(host) = validate::domain(host) else {
            return Ok(None);
        };
        let hostname = self.hostname.clone();
        self.core
            .read(move |s| {
                if let Some(loc) = dir::get::<Loc>(s, Keyspace::Names, &dir::brand_host_key(&host))?
                    && let Some(found) = registered(s, &loc, &host)?
                {
                    return Ok(Some(found));
                }
                if host == hostname {
                    return Ok(Some(pick(candidates(s, PROVIDER, None)?, &hostname)));
                }
                for prefix in SERVICE_PREFIXES {
                    if let Some(d) = host.strip_prefix(prefix) {
                        match for_domain(s, d, &hostname) {
                            Ok(b) => return Ok(Some(b)),
                            Err(CoreError::NotFound { .. }) => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Ok(None)
            })
            .await
    }

    /// Every registered brand hostname in force and the tenant owning it, by name: the TLS
    /// side orders a certificate for each.
    pub async fn branded_hostnames(&self) -> Result<Vec<(String, TenantId)>> {
        self.core
            .read(|s| {
                let entries = s.scan(
                    Keyspace::Names,
                    &Range::prefix(&dir::brand_hosts_prefix()),
                    Direction::Forward,
                    dir::SCAN_MAX,
                )?;
                let mut out = Vec::new();
                for (k, v) in entries {
                    let mut kr = KeyReader::new(Keyspace::Names, &k);
                    kr.skip(1)?;
                    let host = kr.str()?.to_string();
                    let loc: Loc = marque_store::decode(Keyspace::Names, &v)?;
                    if let Some(b) = registered(s, &loc, &host)? {
                        out.push((host, b.tenant));
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The tenant whose brand holds this hostname (in force), if any.
    pub async fn hostname_owner(&self, host: &str) -> Result<Option<TenantId>> {
        let Ok(host) = validate::domain(host) else {
            return Ok(None);
        };
        self.core
            .read(move |s| {
                match dir::get::<Loc>(s, Keyspace::Names, &dir::brand_host_key(&host))? {
                    Some(loc) => Ok(registered(s, &loc, &host)?.map(|b| b.tenant)),
                    None => Ok(None),
                }
            })
            .await
    }
}

//! Who a host name belongs to, and who may claim it.
//!
//! A name belongs to the owner of the nearest hosted domain it lies in
//! (`mail.customer.tld` → `customer.tld`), else to the provider. The platform's own names
//! (`[server] hostname`, the DNS side's platform host, the provider's brand hostnames) are the
//! provider's whatever domain they lie in.
//!
//! [`check_claim`] is the one rule every path that attaches a name to a tenant goes through:
//! brand hostnames, domain creation, certificate uploads and ACME orders. Without it, a tenant
//! that brands, creates or certifies another's name would take over that name's TLS (SNI
//! picks its certificate) and its panel (the brand shown on the host).

use marque_core::directory::Reader;
use marque_core::domain;
use marque_core::error::{CoreError, Result};
use marque_core::ids::{PROVIDER, TenantId};
use marque_core::policy::{Action, Object, Target, authorize};
use marque_core::principal::{Actor, Role};
use marque_core::tenant;

use crate::brand;

/// The tenant that owns `hostname` (lower-case, validated).
pub(crate) fn owner_of(r: &impl Reader, hostname: &str) -> Result<TenantId> {
    Ok(nearest_domain(r, hostname, true)?.map_or(PROVIDER, |(_, t)| t))
}

/// The nearest hosted domain at (`at_too`) or above `host`, with its owner.
fn nearest_domain(r: &impl Reader, host: &str, at_too: bool) -> Result<Option<(String, TenantId)>> {
    let mut name = if at_too {
        host
    } else {
        match host.split_once('.') {
            Some((_, parent)) => parent,
            None => return Ok(None),
        }
    };
    loop {
        match domain::load_by_name(r, name) {
            Ok((_, t)) => return Ok(Some((name.to_string(), t.id))),
            Err(CoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent,
            _ => return Ok(None),
        }
    }
}

/// True if `name` is `of` or lies under it (`a.b.example` under `b.example`).
fn at_or_under(name: &str, of: &str) -> bool {
    name == of
        || name
            .strip_suffix(of)
            .is_some_and(|head| head.ends_with('.'))
}

/// What a name is claimed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimKind {
    /// A brand hostname, a certificate or an ACME order: the name must lie in a domain of the
    /// holder's subtree.
    Hostname,
    /// A new hosted domain: it may not lie in another tenant's domain, nor be, lie under or
    /// contain one of the platform's names.
    Domain,
}

/// Someone attaching `host` to `holder`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim<'a> {
    pub actor: &'a Actor,
    /// The tenant that will hold the name (the brand's, the new domain's, the certifier's).
    pub holder: TenantId,
    /// Lower-case, validated.
    pub host: &'a str,
    pub kind: ClaimKind,
}

/// The provider's own administrators, unnarrowed: they act for the platform and may give
/// any name to anyone.
pub(crate) fn acts_for_platform(actor: &Actor) -> bool {
    actor.principal.tenant() == PROVIDER
        && actor.principal.role == Role::Admin
        && actor.scope.subtree.is_none_or(|s| s == PROVIDER)
}

/// The platform's own host names: `configured` (the server's hostname and platform host)
/// and the hostnames of the provider's brand.
fn platform_names(r: &impl Reader, configured: &[String]) -> Result<Vec<String>> {
    let mut names: Vec<String> = configured.to_vec();
    let key = marque_core::directory::owned_key(PROVIDER, marque_core::directory::BRAND, 0);
    if let Some(b) = brand::load(r, &key)? {
        names.extend(b.hostnames);
    }
    Ok(names)
}

/// The ownership rule: refuses a claim on a name of the platform or of another tenant.
///
/// - The provider's administrators may claim anything.
/// - Nobody else may claim one of the platform's names or a name under one; nor create a
///   domain above one (owning `platform.example` would make `mail.platform.example` theirs).
/// - A hostname must lie in a hosted domain of the holder's subtree (the holder's own or its
///   descendants'); without such a domain, only a name the provider gave a brand of the
///   holder's subtree is the holder's.
/// - A new domain may not lie in another tenant's domain: only in the holder's own, or in an
///   ancestor's whose domains the actor administers (a reseller handing out `c.r.example`).
pub(crate) fn check_claim(r: &impl Reader, configured: &[String], c: Claim<'_>) -> Result<()> {
    if acts_for_platform(c.actor) {
        return Ok(());
    }
    let refuse = |reason: String| {
        Err(CoreError::HostnameNotOwned {
            host: c.host.to_string(),
            reason,
        })
    };
    for p in platform_names(r, configured)? {
        if c.host == p {
            return refuse("it is one of the platform's own host names".into());
        }
        if at_or_under(c.host, &p) {
            return refuse(format!("it lies under the platform's host name {p}"));
        }
        if c.kind == ClaimKind::Domain && at_or_under(&p, c.host) {
            return refuse(format!("it contains the platform's host name {p}"));
        }
    }
    let at_too = c.kind == ClaimKind::Hostname;
    match (nearest_domain(r, c.host, at_too)?, c.kind) {
        (Some((d, owner)), ClaimKind::Hostname) => {
            let t = tenant::load(r, owner)?;
            if t.path.contains(&c.holder) {
                Ok(())
            } else {
                refuse(format!(
                    "it lies in the domain {d}, which belongs to another tenant"
                ))
            }
        }
        (Some((d, owner)), ClaimKind::Domain) => {
            let t = tenant::load(r, owner)?;
            let holder = tenant::load(r, c.holder)?;
            let parent_of_holder = holder.path.contains(&owner);
            let (dom, _) = domain::load_by_name(r, &d)?;
            let administers = authorize(
                c.actor,
                Action::DomainUpdate,
                &Target::of(&t, Object::Domain(dom.id)),
            )
            .is_ok();
            if owner == c.holder || (parent_of_holder && administers) {
                Ok(())
            } else {
                refuse(format!(
                    "it lies in the domain {d}, which belongs to another tenant"
                ))
            }
        }
        (None, ClaimKind::Domain) => Ok(()),
        (None, ClaimKind::Hostname) => match brand::holder_of(r, c.host)? {
            Some(t) if tenant::load(r, t)?.path.contains(&c.holder) => Ok(()),
            _ => refuse(format!(
                "it lies in no domain of tenant {}; add the domain it belongs to first",
                c.holder
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::at_or_under;

    #[test]
    fn under_means_on_a_label_boundary() {
        assert!(at_or_under("mail.b.test", "b.test"));
        assert!(at_or_under("b.test", "b.test"));
        assert!(!at_or_under("mailb.test", "b.test"));
        assert!(!at_or_under("b.test", "mail.b.test"));
    }
}

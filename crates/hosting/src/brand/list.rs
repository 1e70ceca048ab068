//! The brand records a principal may see: those of its tenant's subtree (its own tenant's
//! included, readable by `TenantRead`) and of the domains in it (`DomainRead`), so that a
//! postmaster sees its domain's record and nothing else.

use serde::{Deserialize, Serialize};

use marque_store::{Direction, KeyReader, Keyspace, Range};

use marque_core::directory::{self as dir, Reader};
use marque_core::error::{CoreError, Result};
use marque_core::ids::{DomainId, TenantId};
use marque_core::policy::{Action, Object, Target, authorize};
use marque_core::principal::Actor;
use marque_core::tenant::{self, Tenant};
use marque_core::{PROVIDER, domain};

use super::{Brand, BrandOf};
use crate::Hosting;

/// One brand record and where it is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandEntry {
    pub of: BrandOf,
    /// The tenant owning the record (for a domain, the domain's tenant).
    pub tenant: TenantId,
    pub brand: Brand,
}

/// The records of one tenant the actor may read.
fn of_tenant(r: &impl Reader, actor: &Actor, t: &Tenant, out: &mut Vec<BrandEntry>) -> Result<()> {
    let records = r.scan(
        Keyspace::Directory,
        &Range::prefix(&dir::owned_prefix(t.id, dir::BRAND)),
        Direction::Forward,
        dir::SCAN_MAX,
    )?;
    for (k, v) in records {
        let mut kr = KeyReader::new(Keyspace::Directory, &k);
        kr.skip(9)?;
        let id = kr.u64()?;
        let brand: Brand = marque_store::decode(Keyspace::Directory, &v)?;
        let (of, object, action) = if id == 0 {
            (BrandOf::Tenant(t.id), Object::Tenant, Action::TenantRead)
        } else {
            match domain::load_by_id(r, DomainId(id)) {
                Ok((d, _)) => (
                    BrandOf::Domain(d.name),
                    Object::Domain(d.id),
                    Action::DomainRead,
                ),
                // The record of a deleted domain.
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        };
        if authorize(actor, action, &Target::of(t, object)).is_ok() {
            out.push(BrandEntry {
                of,
                tenant: t.id,
                brand,
            });
        }
    }
    Ok(())
}

impl Hosting {
    /// Every brand record the actor may read, tenant by tenant from its own down its subtree.
    pub async fn list_brands(&self, actor: &Actor) -> Result<Vec<BrandEntry>> {
        let actor = actor.clone();
        self.core
            .read(move |s| {
                let root = actor
                    .scope
                    .subtree
                    .unwrap_or_else(|| actor.principal.tenant());
                let mut out = Vec::new();
                let mut todo = vec![match tenant::load(s, root) {
                    Ok(t) => t,
                    Err(CoreError::NotFound { .. }) => tenant::load(s, PROVIDER)?,
                    Err(e) => return Err(e),
                }];
                while let Some(t) = todo.pop() {
                    of_tenant(s, &actor, &t, &mut out)?;
                    let mut children = tenant::children(s, t.id)?;
                    children.reverse();
                    todo.extend(children);
                }
                Ok(out)
            })
            .await
    }
}

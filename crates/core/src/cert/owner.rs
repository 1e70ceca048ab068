//! Which tenant owns a hostname: the owner of the nearest domain it lies in
//! (`mail.customer.tld` → `customer.tld`), else the provider.

use crate::directory::Reader;
use crate::domain;
use crate::error::Result;
use crate::ids::{PROVIDER, TenantId};

/// The tenant that owns `hostname` (lower-case, validated).
pub(crate) fn owner_of(r: &impl Reader, hostname: &str) -> Result<TenantId> {
    let mut name = hostname;
    loop {
        if let Ok((_, t)) = domain::load_by_name(r, name) {
            return Ok(t.id);
        }
        match name.split_once('.') {
            Some((_, parent)) if parent.contains('.') => name = parent,
            _ => return Ok(PROVIDER),
        }
    }
}

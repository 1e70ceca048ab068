//! First start: the provider (root tenant), its first administrator and that administrator's
//! API token.

use serde::{Deserialize, Serialize};

use marque_store::{Keyspace, Reader};

use crate::audit;
use crate::directory::{self as dir, Loc};
use crate::error::{CoreError, Result};
use crate::ids::{PROVIDER, StaffId, TenantId};
use crate::limits::Limits;
use crate::principal::{Actor, PrincipalId, Scope, Staff, StaffKind, StaffRecord};
use crate::tenant::{SupportLevel, Tenant, TenantKind, TenantState};
use crate::{Core, token};

/// The login of the provider's first administrator.
pub const ADMIN_LOGIN: &str = "admin";

/// What [`Core::bootstrap`] found or made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub provider: TenantId,
    /// The provider administrator's token, only when it was created by this call.
    pub token: Option<String>,
}

impl Core {
    /// On an empty directory, creates the provider, its administrator `admin` and a token for
    /// it: `admin_token` if given (at least [`token::MIN_SECRET`] characters), else a random
    /// one. Later calls change nothing and return no token.
    pub async fn bootstrap(&self, admin_token: Option<String>) -> Result<Bootstrap> {
        if let Some(t) = &admin_token
            && t.trim().chars().count() < token::MIN_SECRET
        {
            return Err(CoreError::invalid(
                "admin token",
                format!("shorter than {} characters", token::MIN_SECRET),
            ));
        }
        let secret = admin_token
            .map(|t| t.trim().to_string())
            .unwrap_or_else(token::generate);
        let hooks = self.hooks.clone();
        self.store
            .transact(move |txn| {
                let hooks = hooks.as_ref();
                if txn.exists(Keyspace::Directory, &dir::tenant_key(PROVIDER))? {
                    return Ok(Bootstrap { provider: PROVIDER, token: None });
                }
                let id = TenantId(txn.next_id("tenant")?);
                if id != PROVIDER {
                    return Err(CoreError::State {
                        what: "directory",
                        key: "provider".into(),
                        reason: format!("the provider is missing but tenant ids are already in use (next is {id})"),
                    });
                }
                let now = crate::now_ms();
                let provider = Tenant {
                    id,
                    name: "Provider".into(),
                    kind: TenantKind::Provider,
                    parent: None,
                    path: vec![id],
                    limits: Limits::default(),
                    plan: None,
                    billing: None,
                    support: SupportLevel::default(),
                    state: TenantState::Active,
                    managed_by: None,
                    created_ms: now,
                };
                dir::put(txn, Keyspace::Directory, dir::tenant_key(id), &provider)?;
                let staff_id = StaffId(txn.next_id("staff")?);
                let staff = Staff { id: staff_id, tenant: id, login: ADMIN_LOGIN.into(), kind: StaffKind::Admin, enabled: true, created_ms: now };
                let loc = Loc { tenant: id, domain: None };
                dir::put(txn, Keyspace::Directory, dir::owned_key(id, dir::STAFF, staff_id.0), &StaffRecord { staff, password_hash: None })?;
                dir::put(txn, Keyspace::Names, dir::login_key(ADMIN_LOGIN), &loc)?;
                dir::set_locator(txn, dir::STAFF, staff_id.0, loc)?;
                let operator = Actor::operator();
                let grant = token::Grant {
                    tenant: id,
                    principal: PrincipalId::Staff(staff_id),
                    name: "bootstrap",
                    scope: Scope::default(),
                    expires_ms: None,
                    by: &operator.principal.name,
                };
                token::insert(txn, &secret, grant)?;
                audit::record(txn, hooks, &operator, "bootstrap", &[id], &["tenant:1"], &provider)?;
                Ok(Bootstrap { provider: id, token: Some(secret) })
            })
            .await
    }
}

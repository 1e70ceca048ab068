//! API tokens: a random secret shown once, stored only as its SHA-256 (the secret has 256 bits
//! of entropy, so a fast hash is enough), scoped to a principal and optionally narrower.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use marque_store::{Keyspace, Txn};

use crate::Core;
use crate::audit;
use crate::directory::{self as dir, Loc, Reader};
use crate::error::{CoreError, Result};
use crate::ids::{TenantId, TokenId};
use crate::policy::{Action, Object, Target, check};
use crate::principal::{self, Actor, PrincipalId, Scope, Via};
use crate::tenant::{self, Tenant};

/// Secrets begin with this, so that they are recognisable in a leak scan.
pub const PREFIX: &str = "mq_";
/// Shortest secret accepted from outside (`MARQUE_ADMIN_TOKEN`).
pub const MIN_SECRET: usize = 16;

/// A token as stored (the secret itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: TokenId,
    pub tenant: TenantId,
    pub principal: PrincipalId,
    pub name: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    pub scope: Scope,
    pub expires_ms: Option<u64>,
    pub revoked: bool,
    pub created_ms: u64,
    pub created_by: String,
}

/// A new token.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub name: String,
    /// Whose rights it carries; the actor's own when `None`.
    pub principal: Option<PrincipalId>,
    /// Narrower than the principal: read-only, and/or one subtree.
    pub scope: Scope,
    pub expires_ms: Option<u64>,
}

/// SHA-256 of a secret.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A fresh random secret.
pub fn generate() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{PREFIX}{}", hex::encode(b))
}

/// The tenant of a principal and the target that stands for it.
fn principal_target(r: &impl Reader, id: PrincipalId) -> Result<(Tenant, Target)> {
    match id {
        PrincipalId::Operator => Err(CoreError::invalid(
            "principal",
            "the operator uses no tokens",
        )),
        PrincipalId::Staff(s) => {
            let rec = principal::load_staff(r, s)?;
            let t = tenant::load(r, rec.staff.tenant)?;
            let target = Target::of(&t, Object::Staff(s));
            Ok((t, target))
        }
        PrincipalId::Mailbox(a) => {
            let rec = crate::mailbox::load_by_id(r, a)?;
            let t = tenant::load(r, rec.mailbox.tenant)?;
            let target = Target::of(
                &t,
                Object::Mailbox {
                    domain: rec.mailbox.domain,
                    account: a,
                },
            );
            Ok((t, target))
        }
    }
}

/// What a new token grants, to whom, made by whom.
pub(crate) struct Grant<'a> {
    pub tenant: TenantId,
    pub principal: PrincipalId,
    pub name: &'a str,
    pub scope: Scope,
    pub expires_ms: Option<u64>,
    pub by: &'a str,
}

/// Writes a token with the given secret (permission already checked).
pub(crate) fn insert(txn: &mut Txn<'_>, secret: &str, g: Grant<'_>) -> Result<Token> {
    let Grant {
        tenant,
        principal,
        name,
        scope,
        expires_ms,
        by,
    } = g;
    let h = hash(secret);
    if txn.exists(Keyspace::Names, &dir::token_hash_key(&h))? {
        return Err(CoreError::AlreadyExists {
            what: "token",
            key: name.to_string(),
        });
    }
    let id = TokenId(txn.next_id("token")?);
    let token = Token {
        id,
        tenant,
        principal,
        name: name.to_string(),
        hash: hex::encode(h),
        scope,
        expires_ms,
        revoked: false,
        created_ms: crate::now_ms(),
        created_by: by.to_string(),
    };
    let loc = Loc {
        tenant,
        domain: None,
    };
    dir::put(
        txn,
        Keyspace::Directory,
        dir::owned_key(tenant, dir::TOKEN, id.0),
        &token,
    )?;
    dir::put(txn, Keyspace::Names, dir::token_hash_key(&h), &(loc, id))?;
    dir::set_locator(txn, dir::TOKEN, id.0, loc)?;
    Ok(token)
}

fn load(r: &impl Reader, id: TokenId) -> Result<Token> {
    let loc = dir::locate(r, dir::TOKEN, id.0)?.ok_or_else(|| CoreError::not_found("token", id))?;
    dir::get(
        r,
        Keyspace::Directory,
        &dir::owned_key(loc.tenant, dir::TOKEN, id.0),
    )?
    .ok_or_else(|| CoreError::not_found("token", id))
}

impl Core {
    /// Creates a token; returns it with its secret, which is shown this once and never stored.
    pub async fn create_token(&self, actor: &Actor, new: NewToken) -> Result<(Token, String)> {
        let name = crate::validate::name("name", &new.name)?;
        let secret = generate();
        let actor = actor.clone();
        let s2 = secret.clone();
        let hooks = self.hooks.clone();
        let token = self
            .store
            .transact(move |txn| {
                let hooks = hooks.as_ref();
                let whom = new.principal.unwrap_or(actor.principal.id);
                let (t, target) = principal_target(txn, whom)?;
                // Tokens for oneself need only TokenWrite; for others, the right to manage them.
                let action = if whom == actor.principal.id {
                    Action::TokenWrite
                } else if matches!(whom, PrincipalId::Staff(_)) {
                    Action::StaffWrite
                } else {
                    Action::MailboxUpdate
                };
                check(&actor, action, &target, "principal", format!("{whom:?}"))?;
                // A token for a postmaster carries its rights: only for those who may make one.
                if let PrincipalId::Mailbox(a) = whom
                    && whom != actor.principal.id
                {
                    let m = crate::mailbox::load_by_id(txn, a)?.mailbox;
                    if m.postmaster {
                        crate::mailbox::check_postmaster_grant(&actor, &target, &m.address)?;
                    }
                }
                // A token is never wider than the actor that makes it.
                let mut scope = new.scope;
                scope.read_only |= actor.scope.read_only;
                if let Some(sub) = scope.subtree {
                    let st = tenant::load(txn, sub)?;
                    let inside_actor = actor.scope.subtree.is_none_or(|a| st.path.contains(&a));
                    if !st.path.contains(&t.id) || !inside_actor {
                        return Err(CoreError::invalid(
                            "scope",
                            "the subtree lies outside what the token may reach",
                        ));
                    }
                } else {
                    scope.subtree = actor.scope.subtree;
                }
                let grant = Grant {
                    tenant: t.id,
                    principal: whom,
                    name: &name,
                    scope,
                    expires_ms: new.expires_ms,
                    by: &actor.principal.name,
                };
                let token = insert(txn, &s2, grant)?;
                audit::record(
                    txn,
                    hooks,
                    &actor,
                    "token.create",
                    &t.path,
                    &[&format!("token:{}", token.id)],
                    &token,
                )?;
                Ok(token)
            })
            .await?;
        Ok((token, secret))
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<()> {
        let actor = actor.clone();
        self.write(actor.clone(), move |txn, hooks| {
            let mut token = load(txn, id)?;
            let (t, target) = principal_target(txn, token.principal)?;
            let action = if token.principal == actor.principal.id {
                Action::TokenWrite
            } else {
                Action::StaffWrite
            };
            check(&actor, action, &target, "token", id)?;
            token.revoked = true;
            dir::put(
                txn,
                Keyspace::Directory,
                dir::owned_key(token.tenant, dir::TOKEN, id.0),
                &token,
            )?;
            audit::record(
                txn,
                hooks,
                &actor,
                "token.revoke",
                &t.path,
                &[&format!("token:{id}")],
                &token,
            )?;
            Ok(())
        })
        .await
    }

    /// Lists the actor's own tokens (hashes only).
    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<Token>> {
        let actor = actor.clone();
        self.read(move |s| {
            let all: Vec<Token> = dir::list(
                s,
                Keyspace::Directory,
                &dir::owned_prefix(actor.principal.tenant(), dir::TOKEN),
            )?;
            Ok(all
                .into_iter()
                .filter(|t| t.principal == actor.principal.id)
                .collect())
        })
        .await
    }

    /// Turns a bearer secret into an actor (source "api"; set the client's address with
    /// [`Actor::with_source`]). Unknown, expired and revoked tokens all fail alike.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Actor> {
        let h = hash(secret.trim());
        self.read(move |s| {
            let Some((loc, id)): Option<(Loc, TokenId)> =
                dir::get(s, Keyspace::Names, &dir::token_hash_key(&h))?
            else {
                return Err(CoreError::AuthFailed);
            };
            let token: Token = dir::get(
                s,
                Keyspace::Directory,
                &dir::owned_key(loc.tenant, dir::TOKEN, id.0),
            )?
            .ok_or(CoreError::AuthFailed)?;
            if token.revoked || token.expires_ms.is_some_and(|e| e <= crate::now_ms()) {
                return Err(CoreError::AuthFailed);
            }
            let principal = match principal::resolve(s, token.principal) {
                Ok(p) => p,
                Err(CoreError::NotFound { .. }) => return Err(CoreError::AuthFailed),
                Err(e) => return Err(e),
            };
            Ok(Actor {
                principal,
                source: "api".into(),
                via: Via::Token(token.id),
                scope: token.scope,
            })
        })
        .await
    }
}

//! Where the core keeps its records: key layout and typed reads shared by transactions and
//! plain reads. The features built over the core (marque-hosting) keep theirs in the same
//! layout, through the public helpers here: one table of tags for the whole keyspace.
//!
//! `Keyspace::Directory` keys begin with the owning tenant, so a tenant's records are one range:
//!
//! | key                                 | record |
//! |-------------------------------------|--------|
//! | `tenant · 'T'`                      | [`crate::tenant::Tenant`] |
//! | `parent · 'c' · child`              | child link (empty) |
//! | `tenant · 'd' · domain`             | [`crate::domain::Domain`] |
//! | `tenant · 'm' · domain · account`   | [`crate::mailbox::Mailbox`] |
//! | `tenant · 'a' · domain · alias`     | [`crate::alias::Alias`] |
//! | `tenant · 'l' · domain · list`      | [`crate::list::List`] |
//! | `tenant · 'p' · plan`               | [`crate::plan::Plan`] |
//! | `tenant · 's' · staff`              | [`crate::principal::Staff`] |
//! | `tenant · 'k' · token`              | [`crate::token::Token`] |
//! | `tenant · 'v' · activation`         | [`crate::activation::Activation`] |
//! | `tenant · 'e' · time · id`          | [`crate::activation::ActivationEvent`] |
//! | `tenant · '$' · entry`              | [`crate::credit::LedgerEntry`] |
//! | `tenant · 'b' · 0`                  | the tenant's brand (marque-hosting) |
//! | `tenant · 'b' · domain`             | a domain's brand (marque-hosting) |
//! | `tenant · 'i' · logo`               | a brand's logo image (marque-hosting) |
//! | `tenant · 'o' · 0` / `· domain`     | an outbound identity (marque-hosting) |
//! | `tenant · 'f' · staff`              | a staff member's TOTP secret |
//! | `tenant · 'N' · domain`             | a domain's stored DNS check (marque-hosting) |
//! | `tenant · 'K' · domain`             | a domain's DKIM keys (marque-hosting) |
//! | `tenant · 'Q' · account`            | when a mailbox was last reported over quota |
//! | `tenant · 'w'`, `'g'`               | webhooks, their delivery log (marque-hosting) |
//! | `0 · 'O' · due · delivery`          | the webhook outbox (marque-hosting; tenant 0 is never used) |
//!
//! `Keyspace::Names` holds the globally unique names and the id → owner locators:
//! `'D' · domain name`, `'@' · address`, `'n' · login`, `'h' · token hash`, `'#' · kind · id`,
//! `'B' · brand hostname` (→ the brand holding it).
//!
//! The core's own counters (`Keyspace::Counters`) start with `'C' · tenant`: the credit balance
//! and the monthly activation counts.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use marque_store::tags::{books, counters, names};
use marque_store::{Direction, Key, Keyspace, Range, Txn};

use crate::error::{CoreError, Result};
use crate::ids::{AccountId, DomainId, TenantId};

/// Reads that work on the store and inside a transaction alike.
pub use marque_store::Reader;

/// Most records one listing returns.
pub const SCAN_MAX: usize = 100_000;

/// Reads and decodes one record.
pub fn get<T: DeserializeOwned>(r: &impl Reader, ks: Keyspace, key: &[u8]) -> Result<Option<T>> {
    match r.get(ks, key)? {
        Some(v) => Ok(Some(marque_store::decode(ks, &v)?)),
        None => Ok(None),
    }
}

/// Reads and decodes every record under `prefix`.
pub fn list<T: DeserializeOwned>(r: &impl Reader, ks: Keyspace, prefix: &[u8]) -> Result<Vec<T>> {
    r.scan(ks, &Range::prefix(prefix), Direction::Forward, SCAN_MAX)?
        .into_iter()
        .map(|(_, v)| marque_store::decode(ks, &v).map_err(CoreError::from))
        .collect()
}

/// True if anything lies under `prefix`.
pub fn any(r: &impl Reader, ks: Keyspace, prefix: &[u8]) -> Result<bool> {
    Ok(!r
        .scan(ks, &Range::prefix(prefix), Direction::Forward, 1)?
        .is_empty())
}

/// Writes a record.
pub fn put<T: Serialize>(txn: &mut Txn<'_>, ks: Keyspace, key: Vec<u8>, value: &T) -> Result<()> {
    txn.put_value(ks, key, value)?;
    Ok(())
}

// Directory keys.

fn owner(t: TenantId) -> Key {
    Key::new().u64(t.0)
}
/// A tenant's record (`tenant · 'T'`).
pub fn tenant_key(t: TenantId) -> Vec<u8> {
    owner(t).tag(TENANT).into_bytes()
}
pub(crate) fn child_key(parent: TenantId, child: TenantId) -> Vec<u8> {
    owner(parent).tag(CHILD).u64(child.0).into_bytes()
}
pub(crate) fn children_prefix(parent: TenantId) -> Vec<u8> {
    owner(parent).tag(CHILD).into_bytes()
}
pub(crate) fn domain_key(t: TenantId, d: DomainId) -> Vec<u8> {
    owner(t).tag(DOMAIN).u64(d.0).into_bytes()
}
/// Every domain of a tenant (`tenant · 'd'`).
pub fn domains_prefix(t: TenantId) -> Vec<u8> {
    owner(t).tag(DOMAIN).into_bytes()
}
/// Mailboxes ([`MAILBOX`]), aliases ([`ALIAS`]) and lists ([`LIST`]) of a domain share this shape.
pub(crate) fn in_domain_key(t: TenantId, tag: u8, d: DomainId, id: u64) -> Vec<u8> {
    owner(t).tag(tag).u64(d.0).u64(id).into_bytes()
}
/// Every record of one kind (`tag`) in a domain.
pub fn in_domain_prefix(t: TenantId, tag: u8, d: DomainId) -> Vec<u8> {
    owner(t).tag(tag).u64(d.0).into_bytes()
}
/// Records directly under a tenant: plans, staff, tokens, activations, ledger entries...
pub fn owned_key(t: TenantId, tag: u8, id: u64) -> Vec<u8> {
    owner(t).tag(tag).u64(id).into_bytes()
}
pub fn owned_prefix(t: TenantId, tag: u8) -> Vec<u8> {
    owner(t).tag(tag).into_bytes()
}

// The record tags of this keyspace are assigned in the store's registry, with those of the
// hosting features (marque-hosting), so that one table holds every tag of the keyspace.
pub use marque_store::tags::directory::{
    ACTIVATION, ALIAS, BRAND, CHILD, DOMAIN, EVENT, LEDGER, LIST, LOGO, MAILBOX, OVER_QUOTA, PLAN,
    STAFF, TENANT, TOKEN, TOTP, WEBHOOK, WEBHOOK_LOG, WEBHOOK_OUTBOX,
};

// Names.

pub(crate) fn domain_name_key(name: &str) -> Vec<u8> {
    Key::new().tag(names::DOMAIN).str(name).into_bytes()
}
pub(crate) fn address_key(address: &str) -> Vec<u8> {
    Key::new().tag(names::ADDRESS).str(address).into_bytes()
}
pub(crate) fn login_key(login: &str) -> Vec<u8> {
    Key::new().tag(names::LOGIN).str(login).into_bytes()
}
pub(crate) fn token_hash_key(hash: &[u8]) -> Vec<u8> {
    Key::new().tag(names::TOKEN_HASH).bytes(hash).into_bytes()
}
/// A brand hostname (`'B' · hostname`, marque-hosting) → the brand holding it.
pub fn brand_host_key(hostname: &str) -> Vec<u8> {
    Key::new().tag(names::BRAND_HOST).str(hostname).into_bytes()
}
/// Every brand hostname (marque-hosting).
pub fn brand_hosts_prefix() -> Vec<u8> {
    Key::new().tag(names::BRAND_HOST).into_bytes()
}
pub fn locator_key(kind: u8, id: u64) -> Vec<u8> {
    Key::new()
        .tag(names::LOCATOR)
        .tag(kind)
        .u64(id)
        .into_bytes()
}

/// Where an object lives: its owning tenant and, for what lives in a domain, the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loc {
    pub tenant: TenantId,
    pub domain: Option<DomainId>,
}

/// What an address in the shared address space names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AddressLoc {
    Mailbox {
        tenant: TenantId,
        domain: DomainId,
        account: AccountId,
    },
    Alias {
        tenant: TenantId,
        domain: DomainId,
        id: u64,
    },
    List {
        tenant: TenantId,
        domain: DomainId,
        id: u64,
    },
}

/// Reads the owner locator of an object id (`kind` is the record's tag).
pub fn locate(r: &impl Reader, kind: u8, id: u64) -> Result<Option<Loc>> {
    get(r, Keyspace::Names, &locator_key(kind, id))
}

/// Writes the owner locator of an object id.
pub fn set_locator(txn: &mut Txn<'_>, kind: u8, id: u64, loc: Loc) -> Result<()> {
    put(txn, Keyspace::Names, locator_key(kind, id), &loc)
}

// The core's counters.

/// The credit balance of a tenant.
pub(crate) fn credit_counter(t: TenantId) -> Vec<u8> {
    Key::new()
        .tag(counters::BOOKS)
        .u64(t.0)
        .tag(books::CREDIT)
        .into_bytes()
}

/// Activations (`1`) or deactivations (`2`) in a month (`yyyymm`) in a tenant's subtree.
pub(crate) fn monthly_counter(t: TenantId, month: u32, kind: u8) -> Vec<u8> {
    Key::new()
        .tag(counters::BOOKS)
        .u64(t.0)
        .tag(books::MONTHLY)
        .u32(month)
        .tag(kind)
        .into_bytes()
}

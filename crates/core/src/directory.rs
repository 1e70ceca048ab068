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
//! | `0 · 'o' · due · delivery`          | the webhook outbox (marque-hosting; tenant 0 is never used) |
//!
//! `Keyspace::Names` holds the globally unique names and the id → owner locators:
//! `'D' · domain name`, `'@' · address`, `'n' · login`, `'h' · token hash`, `'#' · kind · id`,
//! `'B' · brand hostname` (→ the brand holding it).
//!
//! The core's own counters (`Keyspace::Counters`) start with `'C' · tenant`: the credit balance
//! and the monthly activation counts.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

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
    owner(t).tag(b'T').into_bytes()
}
pub(crate) fn child_key(parent: TenantId, child: TenantId) -> Vec<u8> {
    owner(parent).tag(b'c').u64(child.0).into_bytes()
}
pub(crate) fn children_prefix(parent: TenantId) -> Vec<u8> {
    owner(parent).tag(b'c').into_bytes()
}
pub(crate) fn domain_key(t: TenantId, d: DomainId) -> Vec<u8> {
    owner(t).tag(b'd').u64(d.0).into_bytes()
}
/// Every domain of a tenant (`tenant · 'd'`).
pub fn domains_prefix(t: TenantId) -> Vec<u8> {
    owner(t).tag(b'd').into_bytes()
}
/// Mailboxes (`b'm'`), aliases (`b'a'`) and lists (`b'l'`) of a domain share this shape.
pub(crate) fn in_domain_key(t: TenantId, tag: u8, d: DomainId, id: u64) -> Vec<u8> {
    owner(t).tag(tag).u64(d.0).u64(id).into_bytes()
}
/// Every record of one kind (`tag`) in a domain.
pub fn in_domain_prefix(t: TenantId, tag: u8, d: DomainId) -> Vec<u8> {
    owner(t).tag(tag).u64(d.0).into_bytes()
}
/// Plans (`b'p'`), staff (`b's'`), tokens (`b'k'`), activations (`b'v'`), ledger (`b'$'`).
pub fn owned_key(t: TenantId, tag: u8, id: u64) -> Vec<u8> {
    owner(t).tag(tag).u64(id).into_bytes()
}
pub fn owned_prefix(t: TenantId, tag: u8) -> Vec<u8> {
    owner(t).tag(tag).into_bytes()
}

/// Mailboxes (`tenant · 'm' · domain · account`).
pub const MAILBOX: u8 = b'm';
pub(crate) const ALIAS: u8 = b'a';
pub(crate) const LIST: u8 = b'l';
pub(crate) const PLAN: u8 = b'p';
pub(crate) const STAFF: u8 = b's';
pub(crate) const TOKEN: u8 = b'k';
pub(crate) const ACTIVATION: u8 = b'v';
pub(crate) const EVENT: u8 = b'e';
pub(crate) const LEDGER: u8 = b'$';
/// A staff member's TOTP secret (RFC 6238), kept beside its staff record.
pub(crate) const TOTP: u8 = b'f';
/// When a mailbox was last reported over quota ([`crate::Core::report_over_quota`]).
pub(crate) const OVER_QUOTA: u8 = b'Q';

// The tags of the records the hosting features keep (marque-hosting), assigned here so that
// one table holds every tag of the keyspace.

/// A tenant's webhooks (`tenant · 'w' · id`).
pub const WEBHOOK: u8 = b'w';
/// A webhook's delivery log (`tenant · 'g' · webhook · n`) and its counter.
pub const WEBHOOK_LOG: u8 = b'g';
/// The webhook outbox (`0 · 'o' · due · delivery`; tenant 0 is never used).
pub const WEBHOOK_OUTBOX: u8 = b'o';
/// A tenant's or a domain's brand (`tenant · 'b' · 0` / `· domain`).
pub const BRAND: u8 = b'b';
/// A brand's logo image (`tenant · 'i' · logo`).
pub const LOGO: u8 = b'i';

// Names.

pub(crate) fn domain_name_key(name: &str) -> Vec<u8> {
    Key::new().tag(b'D').str(name).into_bytes()
}
pub(crate) fn address_key(address: &str) -> Vec<u8> {
    Key::new().tag(b'@').str(address).into_bytes()
}
pub(crate) fn login_key(login: &str) -> Vec<u8> {
    Key::new().tag(b'n').str(login).into_bytes()
}
pub(crate) fn token_hash_key(hash: &[u8]) -> Vec<u8> {
    Key::new().tag(b'h').bytes(hash).into_bytes()
}
/// A brand hostname (`'B' · hostname`, marque-hosting) → the brand holding it.
pub fn brand_host_key(hostname: &str) -> Vec<u8> {
    Key::new().tag(b'B').str(hostname).into_bytes()
}
/// Every brand hostname (marque-hosting).
pub fn brand_hosts_prefix() -> Vec<u8> {
    Key::new().tag(b'B').into_bytes()
}
pub fn locator_key(kind: u8, id: u64) -> Vec<u8> {
    Key::new().tag(b'#').tag(kind).u64(id).into_bytes()
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
    Key::new().tag(b'C').u64(t.0).tag(b'$').into_bytes()
}

/// Activations (`1`) or deactivations (`2`) in a month (`yyyymm`) in a tenant's subtree.
pub(crate) fn monthly_counter(t: TenantId, month: u32, kind: u8) -> Vec<u8> {
    Key::new()
        .tag(b'C')
        .u64(t.0)
        .tag(b'M')
        .u32(month)
        .tag(kind)
        .into_bytes()
}

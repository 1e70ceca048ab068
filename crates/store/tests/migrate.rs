//! Data written in an older layout is brought up to date when the store opens, in one step,
//! and a store written by a newer build is refused.

use std::sync::Arc;

use marque_store::backend::rocks::{RocksBackend, RocksOptions};
use marque_store::backend::{Change, Commit, WriteSet};
use marque_store::sieve_global::{self, Phase, Scope};
use marque_store::{
    AccountId, Backend, Direction, DomainId, Durability, Key, Keyspace, Range, Store, StoreOptions,
    TenantId, migrate, sieve, tags,
};

const TENANT: u64 = 5;
const ACCOUNT: u64 = 9;

fn key(owner: u64, tag: u8) -> Key {
    Key::new().u64(owner).tag(tag)
}

/// The records whose tags changed from version 1 to 2, written as version 1 wrote them, next
/// to the records that kept the tag they shared.
fn version_1_records() -> Vec<(Keyspace, Vec<u8>, Vec<u8>)> {
    let d = Keyspace::Directory;
    let m = Keyspace::Mailboxes;
    vec![
        // A global Sieve script for the tenant (before) and one for its domain 3 (after).
        (
            d,
            key(TENANT, b'v').tag(b't').tag(b'b').into_bytes(),
            b"tenant script".to_vec(),
        ),
        (
            d,
            key(TENANT, b'v').tag(b'd').u64(3).tag(b'a').into_bytes(),
            b"domain script".to_vec(),
        ),
        // An activation, which keeps 'v'.
        (
            d,
            key(TENANT, b'v').u64(1).into_bytes(),
            b"activation".to_vec(),
        ),
        // A webhook outbox entry (owner 0), and an outbound identity, which keeps 'o'.
        (
            d,
            key(0, b'o').u64(1_700_000_000_000).u64(4).into_bytes(),
            b"outbox".to_vec(),
        ),
        (
            d,
            key(TENANT, b'o').u64(0).into_bytes(),
            b"identity".to_vec(),
        ),
        // Sieve settings, and a seen id, which keeps 'X'.
        (m, key(ACCOUNT, b'X').into_bytes(), b"settings".to_vec()),
        (
            m,
            key(ACCOUNT, b'X').bytes(&[7; 32]).into_bytes(),
            99u64.to_be_bytes().to_vec(),
        ),
    ]
}

fn write_raw(path: &std::path::Path, records: Vec<(Keyspace, Vec<u8>, Vec<u8>)>) {
    let backend = RocksBackend::open(path, &RocksOptions::default()).unwrap();
    let mut set = WriteSet::new();
    for (ks, k, v) in records {
        set.insert((ks, k), Change::Put(v));
    }
    let txn = backend.begin().unwrap();
    txn.commit(Commit {
        writes: set,
        durability: Durability::Sync,
        events: Vec::new(),
    })
    .unwrap();
}

fn open(path: &std::path::Path) -> marque_store::Result<Store> {
    Store::open(path, StoreOptions::default())
}

fn under(store: &Store, ks: Keyspace, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .scan(ks, &Range::prefix(prefix), Direction::Forward, 100)
        .unwrap()
}

fn format(store: &Store) -> Option<Vec<u8>> {
    store
        .get(
            Keyspace::Meta,
            &Key::new().tag(tags::meta::FORMAT).into_bytes(),
        )
        .unwrap()
}

#[test]
fn version_1_records_move_to_their_own_tags() {
    let dir = tempfile::tempdir().unwrap();
    write_raw(dir.path(), version_1_records());
    let store = open(dir.path()).unwrap();

    let t = TenantId(TENANT);
    assert_eq!(
        sieve_global::get(&store, Scope::Tenant(t), Phase::Before).unwrap(),
        Some(b"tenant script".to_vec())
    );
    let domain = Scope::Domain {
        tenant: t,
        domain: DomainId(3),
    };
    assert_eq!(
        sieve_global::get(&store, domain, Phase::After).unwrap(),
        Some(b"domain script".to_vec())
    );
    assert_eq!(
        sieve::settings(&store, AccountId(ACCOUNT)).unwrap(),
        Some(b"settings".to_vec())
    );

    // What kept its tag is where it was; what moved is gone from the old key.
    let d = Keyspace::Directory;
    let all_v = under(&store, d, &key(TENANT, b'v').into_bytes());
    assert_eq!(all_v.len(), 1, "only the activation is left under 'v'");
    assert_eq!(all_v[0].1, b"activation");
    let outbox = key(0, tags::directory::WEBHOOK_OUTBOX)
        .u64(1_700_000_000_000)
        .u64(4);
    assert_eq!(
        store.get(d, &outbox.into_bytes()).unwrap(),
        Some(b"outbox".to_vec())
    );
    assert!(under(&store, d, &key(0, b'o').into_bytes()).is_empty());
    assert_eq!(
        store
            .get(d, &key(TENANT, b'o').u64(0).into_bytes())
            .unwrap(),
        Some(b"identity".to_vec())
    );
    let m = Keyspace::Mailboxes;
    let all_x = under(&store, m, &key(ACCOUNT, b'X').into_bytes());
    assert_eq!(all_x.len(), 1, "only the seen id is left under 'X'");
    assert_eq!(all_x[0].1, 99u64.to_be_bytes());

    assert_eq!(format(&store), Some(migrate::FORMAT.to_be_bytes().to_vec()));

    // Opening again changes nothing.
    drop(store);
    let store = open(dir.path()).unwrap();
    assert_eq!(
        sieve_global::get(&store, Scope::Tenant(t), Phase::Before).unwrap(),
        Some(b"tenant script".to_vec())
    );
    assert_eq!(under(&store, d, &key(TENANT, b'v').into_bytes()).len(), 1);
}

#[test]
fn a_new_store_records_the_current_layout() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).unwrap();
    assert_eq!(format(&store), Some(migrate::FORMAT.to_be_bytes().to_vec()));
}

#[test]
fn a_store_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = migrate::FORMAT + 1;
    write_raw(
        dir.path(),
        vec![(
            Keyspace::Meta,
            Key::new().tag(tags::meta::FORMAT).into_bytes(),
            newer.to_be_bytes().to_vec(),
        )],
    );
    let err = open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn the_backend_is_shared_not_reopened() {
    // The migration runs through the store's own writer: a store over a backend handed in
    // (as other engines are) is brought up to date the same way.
    let dir = tempfile::tempdir().unwrap();
    write_raw(dir.path(), version_1_records());
    let backend: Arc<dyn Backend> =
        Arc::new(RocksBackend::open(dir.path(), &RocksOptions::default()).unwrap());
    let store = Store::with_backend(backend, dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(
        sieve::settings(&store, AccountId(ACCOUNT)).unwrap(),
        Some(b"settings".to_vec())
    );
}

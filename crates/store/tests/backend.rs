//! The backend boundary itself, on every backend: byte order of keys, ranges and scans in both
//! directions, large atomic groups; and on PostgreSQL what only a shared database has: several
//! stores (processes) on one database staying serializable, the schema version, and a plain
//! error when the database cannot be reached.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use marque_store::{
    BackendKind, Direction, Durability, Error, Keyspace, PostgresOptions, Range, Reader, Store,
    StoreOptions,
};

#[macro_use]
mod common;

use common::{Engine, Place};

/// Keys whose byte order differs from any text or signed order: zero and 0xff bytes, prefixes
/// of each other, the empty key.
fn awkward_keys() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xff],
        vec![0x01],
        vec![0x7f],
        vec![0x7f, 0x00],
        vec![0x80],
        vec![0xfe, 0xff, 0xff],
        vec![0xff],
        vec![0xff, 0x00],
        vec![0xff, 0xff],
        vec![0xff, 0xff, 0xff, 0xff],
    ]
}

fn keys(rows: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    rows.iter().map(|(k, _)| k.clone()).collect()
}

async fn put_all(store: &Store, ks: Keyspace, keys: Vec<Vec<u8>>) {
    store
        .transact(move |t| -> marque_store::Result<()> {
            for k in keys {
                let v = k.iter().rev().copied().collect();
                t.put(ks, k, v);
            }
            Ok(())
        })
        .await
        .unwrap();
}

on_each_backend! {
    #[tokio::test]
    async fn keys_keep_their_byte_order(place) {
        let store = place.open();
        let mut sorted = awkward_keys();
        // Written in a scrambled order.
        let mut scrambled = sorted.clone();
        scrambled.reverse();
        scrambled.rotate_left(5);
        put_all(&store, Keyspace::Names, scrambled).await;
        sorted.sort();
        let all = Range { start: Vec::new(), end: None };
        let fwd = store.scan(Keyspace::Names, &all, Direction::Forward, usize::MAX).unwrap();
        assert_eq!(keys(&fwd), sorted);
        for (k, v) in &fwd {
            assert_eq!(v, &k.iter().rev().copied().collect::<Vec<_>>());
        }
        let rev = store.scan(Keyspace::Names, &all, Direction::Reverse, usize::MAX).unwrap();
        let mut expect = sorted.clone();
        expect.reverse();
        assert_eq!(keys(&rev), expect);
        // Limits in both directions.
        let first = store.scan(Keyspace::Names, &all, Direction::Forward, 3).unwrap();
        assert_eq!(keys(&first), sorted[..3].to_vec());
        let last = store.scan(Keyspace::Names, &all, Direction::Reverse, 2).unwrap();
        assert_eq!(keys(&last), vec![vec![0xff, 0xff, 0xff, 0xff], vec![0xff, 0xff]]);
        assert!(store.scan(Keyspace::Names, &all, Direction::Forward, 0).unwrap().is_empty());
        // The empty key and a key of one zero byte are different keys.
        assert_eq!(store.get(Keyspace::Names, &[]).unwrap(), Some(vec![]));
        assert_eq!(store.get(Keyspace::Names, &[0x00]).unwrap(), Some(vec![0x00]));
        assert_eq!(store.get(Keyspace::Names, &[0x00, 0x01]).unwrap(), None);
        // Another keyspace is another table or column family.
        assert_eq!(store.get(Keyspace::Directory, &[0x00]).unwrap(), None);
    }

    #[tokio::test]
    async fn prefixes_and_ranges_select_exactly_their_keys(place) {
        let store = place.open();
        put_all(&store, Keyspace::Directory, awkward_keys()).await;
        let scan = |range: Range, dir: Direction| {
            keys(&store.scan(Keyspace::Directory, &range, dir, usize::MAX).unwrap())
        };
        assert_eq!(
            scan(Range::prefix(&[0x00]), Direction::Forward),
            vec![vec![0x00], vec![0x00, 0x00], vec![0x00, 0xff]]
        );
        assert_eq!(
            scan(Range::prefix(&[0x7f]), Direction::Reverse),
            vec![vec![0x7f, 0x00], vec![0x7f]]
        );
        // A prefix of only 0xff bytes has no upper bound: it runs to the end.
        assert_eq!(
            scan(Range::prefix(&[0xff, 0xff]), Direction::Forward),
            vec![vec![0xff, 0xff], vec![0xff, 0xff, 0xff, 0xff]]
        );
        // [start, end): the start is in, the end is out.
        assert_eq!(
            scan(Range::between(vec![0x00, 0xff], vec![0x7f, 0x00]), Direction::Forward),
            vec![vec![0x00, 0xff], vec![0x01], vec![0x7f]]
        );
        assert_eq!(
            scan(Range::between(vec![0x80], vec![0x80]), Direction::Forward),
            Vec::<Vec<u8>>::new()
        );
    }

    #[tokio::test]
    async fn a_large_group_lands_whole_and_deletes_with_it(place) {
        let store = place.open();
        let n = 1500u32;
        store
            .transact(move |t| -> marque_store::Result<()> {
                for i in 0..n {
                    t.put(Keyspace::Logs, i.to_be_bytes().to_vec(), vec![1; (i % 97) as usize]);
                }
                t.put(Keyspace::Blobs, b"big".to_vec(), vec![7; 3 << 20]);
                Ok(())
            })
            .await
            .unwrap();
        store
            .transact(move |t| -> marque_store::Result<()> {
                for i in (0..n).step_by(2) {
                    t.delete(Keyspace::Logs, i.to_be_bytes().to_vec());
                }
                // Overwrites in the same group as deletes.
                for i in (1..n).step_by(2) {
                    t.put(Keyspace::Logs, i.to_be_bytes().to_vec(), vec![2]);
                }
                Ok(())
            })
            .await
            .unwrap();
        let all = Range { start: Vec::new(), end: None };
        let rows = store.scan(Keyspace::Logs, &all, Direction::Forward, usize::MAX).unwrap();
        assert_eq!(rows.len(), (n / 2) as usize);
        assert!(rows.iter().all(|(k, v)| k[3] % 2 == 1 && v == &vec![2]));
        assert_eq!(store.get(Keyspace::Blobs, b"big").unwrap().map(|v| v.len()), Some(3 << 20));
    }

    #[tokio::test]
    async fn nosync_writes_are_readable_and_survive_reopen(place) {
        let options = StoreOptions { durability: Durability::NoSync, ..StoreOptions::default() };
        {
            let store = place.open_with(options.clone());
            put_all(&store, Keyspace::Meta, vec![b"a".to_vec(), b"b".to_vec()]).await;
            assert!(store.get(Keyspace::Meta, b"b").unwrap().is_some());
            store.flush().unwrap();
        }
        let store = place.open_with(options);
        assert!(store.get(Keyspace::Meta, b"a").unwrap().is_some());
    }

    #[tokio::test]
    async fn the_first_open_creates_the_store_and_later_ones_do_not(place) {
        let first = place.open();
        assert!(first.created());
        put_all(&first, Keyspace::Meta, vec![b"x".to_vec()]).await;
        drop(first);
        let again = place.open();
        assert!(!again.created());
        assert!(again.get(Keyspace::Meta, b"x").unwrap().is_some());
    }
}

/// Two stores on one database are two processes as far as the database knows: separate pools,
/// separate writer threads. Read-modify-write closures on both must lose no update, and a
/// limit checked on both must hold, which only the cluster-wide writer lock guarantees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_sharing_a_database_stay_serializable() {
    let place = Place::new(Engine::Postgres);
    let stores = [place.open(), place.open(), place.open()];
    let won = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..24usize {
        let s = stores[w % stores.len()].clone();
        let won = won.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                s.transact(|t| -> marque_store::Result<()> {
                    let v = t.get_value::<u64>(Keyspace::Directory, b"n")?.unwrap_or(0);
                    t.put_value(Keyspace::Directory, b"n".to_vec(), &(v + 1))
                })
                .await
                .unwrap();
            }
            match s.transact(|t| t.add_within(b"seats", 1, 7, "seats")).await {
                Ok(_) => {
                    won.fetch_add(1, Ordering::SeqCst);
                }
                Err(Error::LimitExceeded { .. }) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for s in &stores {
        assert_eq!(
            s.get_value::<u64>(Keyspace::Directory, b"n").unwrap(),
            Some(240)
        );
        assert_eq!(Reader::counter(s, b"seats").unwrap(), 7);
    }
    assert_eq!(won.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn the_schema_is_versioned_and_tables_are_bytea() {
    let place = Place::new(Engine::Postgres);
    let _store = place.open();
    let url = place.url().unwrap().to_string();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let v: i32 = client
        .query_one("SELECT version FROM marque_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, marque_store::backend::postgres::SCHEMA_VERSION);
    let rows = client
        .query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns \
             WHERE table_name LIKE 'ks_%' ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), Keyspace::ALL.len() * 2);
    for r in rows {
        assert_eq!(r.get::<_, String>(2), "bytea");
    }
    // A database from a newer version is refused, not misread.
    client
        .execute("UPDATE marque_schema SET version = version + 1", &[])
        .await
        .unwrap();
    let err = Store::open(place.dir(), place.options(StoreOptions::default())).unwrap_err();
    assert!(err.to_string().contains("newer than this marque"), "{err}");
}

#[test]
fn an_unreachable_database_is_named_in_the_error() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = StoreOptions {
        backend: BackendKind::Postgres(PostgresOptions {
            url: format!("postgres://marque:secret@127.0.0.1:{port}/mail"),
            ..PostgresOptions::default()
        }),
        ..StoreOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path(), options).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/mail as marque"
        )),
        "{err}"
    );
    // The cause is there too, not only "error connecting to server".
    assert!(err.contains("Connection refused"), "{err}");
    assert!(!err.contains("secret"), "the password leaked: {err}");
}

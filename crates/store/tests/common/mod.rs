//! Running the store's tests on every backend.
//!
//! [`on_each_backend!`] turns each test written once into one test per backend (`name::rocksdb`,
//! `name::postgres`); the test's body gets a [`Place`], an empty store location on that
//! backend, which it can open (and reopen) any number of times.

#![allow(dead_code)]

use marque_store::{BackendKind, PostgresOptions, Store, StoreOptions};
use marque_tests::postgres::TestDatabase;

/// The engines every store test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    RocksDb,
    Postgres,
}

/// An empty place for a store: a temporary directory, and on PostgreSQL a fresh database.
pub struct Place {
    pub engine: Engine,
    dir: tempfile::TempDir,
    db: Option<TestDatabase>,
}

impl Place {
    pub fn new(engine: Engine) -> Place {
        let db = (engine == Engine::Postgres).then(marque_tests::postgres::database);
        Place {
            engine,
            dir: tempfile::tempdir().expect("temporary directory"),
            db,
        }
    }

    /// `options` pointed at this place's backend.
    pub fn options(&self, options: StoreOptions) -> StoreOptions {
        let backend = match &self.db {
            None => BackendKind::RocksDb,
            Some(db) => BackendKind::Postgres(PostgresOptions {
                url: db.url().to_string(),
                pool_size: 4,
                ca_file: None,
            }),
        };
        StoreOptions { backend, ..options }
    }

    /// Opens the store here with default options.
    pub fn open(&self) -> Store {
        self.open_with(StoreOptions::default())
    }

    /// Opens the store here with `options` (their backend is replaced by this place's).
    pub fn open_with(&self, options: StoreOptions) -> Store {
        Store::open(self.dir.path(), self.options(options)).expect("open the store")
    }

    /// The URL of the database, on PostgreSQL.
    pub fn url(&self) -> Option<&str> {
        self.db.as_ref().map(TestDatabase::url)
    }

    /// The directory (RocksDB's data).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Writes each test once and runs it on every backend:
///
/// ```ignore
/// on_each_backend! {
///     #[tokio::test]
///     async fn name(place) { let store = place.open(); ... }
/// }
/// ```
macro_rules! on_each_backend {
    ($($(#[$m:meta])* async fn $name:ident($place:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$m])*
            async fn rocksdb() {
                let $place = $crate::common::Place::new($crate::common::Engine::RocksDb);
                $body
            }
            $(#[$m])*
            async fn postgres() {
                let $place = $crate::common::Place::new($crate::common::Engine::Postgres);
                $body
            }
        }
    )*};
    ($($(#[$m:meta])* fn $name:ident($place:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$m])*
            fn rocksdb() {
                let $place = $crate::common::Place::new($crate::common::Engine::RocksDb);
                $body
            }
            $(#[$m])*
            fn postgres() {
                let $place = $crate::common::Place::new($crate::common::Engine::Postgres);
                $body
            }
        }
    )*};
}

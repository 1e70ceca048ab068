//! `[store]`: which engine holds the data, and its tuning.

use marque_store::{BackendKind, Durability, PostgresOptions};

use super::validate::{Report, positive};
use super::{Store, raw};

/// Most connections one process may pool to PostgreSQL.
const MAX_POOL: i64 = 1000;

pub(super) fn check(report: &mut Report, raw: raw::Store) -> Store {
    let backend = check_backend(report, &raw);
    let durability = match raw.durability.as_deref() {
        None | Some("sync") => Durability::Sync,
        Some("nosync") => Durability::NoSync,
        Some(other) => {
            report.add(
                "store.durability",
                format!("unknown durability \"{other}\" (expected \"sync\" or \"nosync\")"),
            );
            Durability::Sync
        }
    };
    let block_cache_mb = positive(report, "store.block_cache_mb", raw.block_cache_mb, 64);
    let meta_cache_mb = match raw.meta_cache_mb {
        None => 64,
        Some(n) if (0..=65_536).contains(&n) => usize::try_from(n).unwrap_or(64),
        Some(n) => {
            report.add("store.meta_cache_mb", format!("{n} is outside 0 to 65536"));
            64
        }
    };
    let threads = positive(
        report,
        "store.background_threads",
        raw.background_threads,
        2,
    );
    if threads > 64 {
        report.add(
            "store.background_threads",
            format!("{threads} is more than 64"),
        );
    }
    Store {
        backend,
        durability,
        block_cache_mb,
        meta_cache_mb,
        background_threads: i32::try_from(threads.min(64)).unwrap_or(2),
    }
}

/// `backend`, and for PostgreSQL `url`, `pool_size` and `ca_file`.
fn check_backend(report: &mut Report, raw: &raw::Store) -> BackendKind {
    match raw.backend.as_deref() {
        None | Some("rocksdb") => {
            for (key, set) in [
                ("url", raw.url.is_some()),
                ("pool_size", raw.pool_size.is_some()),
                ("ca_file", raw.ca_file.is_some()),
            ] {
                if set {
                    report.add(
                        format!("store.{key}"),
                        "only used with backend = \"postgres\"",
                    );
                }
            }
            BackendKind::RocksDb
        }
        Some("postgres") => {
            let url = match raw.url.as_deref() {
                None | Some("") => {
                    report.add(
                        "store.url",
                        "missing: backend = \"postgres\" needs the database's URL \
                         (postgres://user@host/database)",
                    );
                    String::new()
                }
                Some(url) => {
                    if let Err(e) = PostgresOptions::check_url(url) {
                        // The error names the problem, never the URL (it may hold a password).
                        report.add("store.url", e.to_string());
                    }
                    url.to_string()
                }
            };
            let defaults = PostgresOptions::default();
            let pool_size = match raw.pool_size {
                None => defaults.pool_size,
                Some(n) if (2..=MAX_POOL).contains(&n) => {
                    usize::try_from(n).unwrap_or(defaults.pool_size)
                }
                Some(n) => {
                    report.add(
                        "store.pool_size",
                        format!("{n} is outside 2 to {MAX_POOL} (the writer holds one)"),
                    );
                    defaults.pool_size
                }
            };
            if let Some(path) = &raw.ca_file
                && !path.is_file()
            {
                report.add(
                    "store.ca_file",
                    format!("{} is not a readable file", path.display()),
                );
            }
            BackendKind::Postgres(PostgresOptions {
                url,
                pool_size,
                ca_file: raw.ca_file.clone(),
            })
        }
        Some(other) => {
            report.add(
                "store.backend",
                format!("unknown backend \"{other}\" (expected \"rocksdb\" or \"postgres\")"),
            );
            BackendKind::RocksDb
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::parse;
    use marque_store::BackendKind;

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => Vec::new(),
            Err(p) => p.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn rocksdb_is_the_default() {
        let c = parse("").unwrap();
        assert_eq!(c.store.backend, BackendKind::RocksDb);
        let c = parse("[store]\nbackend = \"rocksdb\"\n").unwrap();
        assert_eq!(c.store.backend, BackendKind::RocksDb);
    }

    #[test]
    fn postgres_takes_its_url_and_pool_size() {
        let c = parse(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://marque@db.example:5433/mail?sslmode=require\"\npool_size = 16\n",
        )
        .unwrap();
        let BackendKind::Postgres(pg) = &c.store.backend else {
            panic!("not postgres");
        };
        assert_eq!(
            pg.url,
            "postgres://marque@db.example:5433/mail?sslmode=require"
        );
        assert_eq!(pg.pool_size, 16);
        assert!(
            c.summary()
                .contains("PostgreSQL, durability sync, pool of 16")
        );
    }

    #[test]
    fn backend_problems_are_reported_plainly() {
        assert_eq!(
            problems("[store]\nbackend = \"mysql\"\n"),
            ["store.backend: unknown backend \"mysql\" (expected \"rocksdb\" or \"postgres\")"]
        );
        assert_eq!(
            problems("[store]\nbackend = \"postgres\"\n"),
            [
                "store.url: missing: backend = \"postgres\" needs the database's URL \
                 (postgres://user@host/database)"
            ]
        );
        let p = problems(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://h/d?sslmode=sometimes\"\npool_size = 1\nca_file = \"/nonexistent/ca.pem\"\n",
        );
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("store.url: invalid argument: PostgreSQL URL"),
            "{p:?}"
        );
        assert_eq!(
            p[1],
            "store.pool_size: 1 is outside 2 to 1000 (the writer holds one)"
        );
        assert_eq!(
            p[2],
            "store.ca_file: /nonexistent/ca.pem is not a readable file"
        );
        assert_eq!(
            problems("[store]\nurl = \"postgres://h/d\"\n"),
            ["store.url: only used with backend = \"postgres\""]
        );
    }
}

//! Removal of what the API and the panel keep in the store for a while: rate-limit buckets
//! that have refilled, token-use marks, remembered responses past their time, expired panel
//! sessions and sign-ins. Each record also reads as absent once expired, so a purge that runs
//! late (or on several processes at once) changes no answer, only the space taken.

use std::time::Duration;

use marque_session::ShutdownSignal;
use marque_store::lease::NamedLease;
use marque_store::{Direction, Key, Keyspace, Range, Store, now_ms};

use crate::panel::{Lifetimes, Sessions};
use crate::state::Settings;

/// Records one purge looks at per kind (the rest wait for the next purge).
const PAGE: usize = 50_000;

/// In one transaction, removes the records of `Keyspace::Meta` under `tag` whose value
/// `expired` says has expired (up to [`PAGE`] looked at); returns how many.
pub(crate) async fn remove_expired(
    store: &Store,
    tag: u8,
    expired: impl Fn(&[u8]) -> bool + Send + 'static,
) -> marque_store::Result<usize> {
    store
        .transact(move |txn| {
            let prefix = Key::new().tag(tag).into_bytes();
            let all = txn.scan(
                Keyspace::Meta,
                &Range::prefix(&prefix),
                Direction::Forward,
                PAGE,
            )?;
            let mut n = 0;
            for (k, v) in all {
                if expired(&v) {
                    txn.delete(Keyspace::Meta, k);
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
}

/// The name of the purge's task lease.
pub const TASK: &str = "housekeeping";

/// How often [`run`] purges.
pub const EVERY: Duration = Duration::from_secs(5 * 60);

/// Removes every expired record once; returns how many.
pub async fn purge(store: &Store, settings: Settings) -> marque_store::Result<usize> {
    let mark_ms = settings.token_use_every.as_millis() as u64;
    let ttl_ms = settings.idempotency_ttl.as_millis() as u64;
    let sessions = Sessions::new(store.clone(), Lifetimes::default());
    Ok(crate::limiter::purge(store, settings, mark_ms).await?
        + crate::idempotency::purge(store, ttl_ms).await?
        + sessions.purge(now_ms()).await?)
}

/// Purges every [`EVERY`] until `stop`; with a `lease` (the task lease, kept beside it by
/// [`NamedLease::keep`]), only while this process holds it, so that of several processes on
/// one store one purges at a time.
pub async fn run(
    store: Store,
    settings: Settings,
    lease: Option<NamedLease>,
    mut stop: ShutdownSignal,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait() => break,
        }
        tokio::select! {
            _ = NamedLease::until_held(lease.as_ref()) => {}
            _ = stop.wait() => break,
        }
        match purge(&store, settings).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(removed = n, "expired API and panel records removed"),
            Err(e) => {
                tracing::warn!(error = %e, "expired API and panel records could not be removed")
            }
        }
    }
}

//! Hourly sending limits per submission user: messages and recipients over a sliding hour.
//!
//! The counts live in the store, under [`meta::SUBMISSION_COUNT`] in [`Keyspace::Meta`], so
//! that every process on the same data counts together and a restart forgets nothing. Each
//! user has one counter per minute and per kind (`tag · kind · login · minute`); the hour is
//! the sum of the last sixty minutes, so a count leaves the window between 59 and 60 minutes
//! after it was made. Checking the hour and adding to it are one store transaction: two
//! sessions, in one process or in two, cannot both take the last place. Minutes that have left
//! the window are deleted whenever the user's counters are read, so a user keeps at most
//! sixty counters of each kind.
//!
//! A message is counted when `MAIL` is accepted and given back if its transaction ends
//! without the message being accepted (refused or failed `DATA`, `RSET`, `QUIT`, a dropped
//! connection): what stays counted is what was sent. A recipient is counted at each `RCPT`.

use marque_store::tags::meta;
use marque_store::{Direction, Error, Key, Keyspace, Range, Store, Txn};

/// One counter covers this many milliseconds.
const MINUTE_MS: u64 = 60_000;
/// Minutes in the sliding window.
const WINDOW_MINUTES: u64 = 60;
/// More counters than one user can hold, as a bound on one read.
const MAX_COUNTERS: usize = 4 * WINDOW_MINUTES as usize;

/// The kind of a counter, after [`meta::SUBMISSION_COUNT`].
const MESSAGES: u8 = b'm';
const RECIPIENTS: u8 = b'r';

/// `[submission]` limits; zero means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Messages one user may send in a sliding hour.
    pub max_messages_per_hour: u32,
    /// `RCPT` commands one user may give in a sliding hour.
    pub max_recipients_per_hour: u32,
}

/// A message counted at `MAIL`, to give back if it is not sent after all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    user: String,
    minute: u64,
}

/// What [`RateLimits::take_message`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The message is counted.
    Counted(Counted),
    /// There is no message limit; nothing was counted.
    Unlimited,
    /// The user has sent its limit in the last hour.
    OverLimit,
}

/// The hourly limits of every submission user, counted in the store.
#[derive(Debug, Clone)]
pub struct RateLimits {
    limits: Limits,
    store: Store,
}

impl RateLimits {
    /// Limits counted in `store`.
    pub fn new(store: Store, limits: Limits) -> Self {
        RateLimits { limits, store }
    }

    /// The configured limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts one more message of `user` at `now_ms` (milliseconds since the Unix epoch) if
    /// the hour allows it.
    pub async fn take_message(&self, user: &str, now_ms: u64) -> Result<Taken, Error> {
        let max = self.limits.max_messages_per_hour;
        if max == 0 {
            return Ok(Taken::Unlimited);
        }
        let user = user.to_string();
        self.store
            .transact(move |txn| {
                Ok(
                    take(txn, MESSAGES, &user, max, now_ms)?.map_or(Taken::OverLimit, |minute| {
                        Taken::Counted(Counted { user, minute })
                    }),
                )
            })
            .await
    }

    /// Gives back a message counted by [`Self::take_message`] that was not sent.
    pub async fn give_back(&self, counted: Counted) -> Result<(), Error> {
        self.store
            .transact(move |txn| {
                let key = counter_key(MESSAGES, &counted.user, counted.minute);
                match read(txn, &key)? {
                    0 | 1 => txn.delete(Keyspace::Meta, key),
                    n => txn.put(Keyspace::Meta, key, (n - 1).to_le_bytes().to_vec()),
                }
                Ok(())
            })
            .await
    }

    /// Counts one more recipient of `user` at `now_ms` if the hour allows it; false if it
    /// does not.
    pub async fn take_recipient(&self, user: &str, now_ms: u64) -> Result<bool, Error> {
        let max = self.limits.max_recipients_per_hour;
        if max == 0 {
            return Ok(true);
        }
        let user = user.to_string();
        self.store
            .transact(move |txn| Ok(take(txn, RECIPIENTS, &user, max, now_ms)?.is_some()))
            .await
    }
}

/// The counters of one user and kind.
fn user_prefix(kind: u8, user: &str) -> Vec<u8> {
    Key::new()
        .tag(meta::SUBMISSION_COUNT)
        .tag(kind)
        .str(user)
        .into_bytes()
}

fn counter_key(kind: u8, user: &str, minute: u64) -> Vec<u8> {
    let mut key = user_prefix(kind, user);
    key.extend_from_slice(&minute.to_be_bytes());
    key
}

fn corrupt(reason: String) -> Error {
    Error::Corrupt {
        keyspace: Keyspace::Meta,
        reason,
    }
}

fn decode(v: &[u8]) -> Result<u64, Error> {
    let a: [u8; 8] = v
        .try_into()
        .map_err(|_| corrupt(format!("submission counter of {} bytes", v.len())))?;
    Ok(u64::from_le_bytes(a))
}

fn read(txn: &Txn<'_>, key: &[u8]) -> Result<u64, Error> {
    txn.get(Keyspace::Meta, key)?.map_or(Ok(0), |v| decode(&v))
}

/// In one transaction: sums the user's counters of the last hour, deleting older ones, and
/// adds one to the current minute's if the sum is under `max`. Returns that minute, or
/// `None` if the hour is full.
fn take(
    txn: &mut Txn<'_>,
    kind: u8,
    user: &str,
    max: u32,
    now_ms: u64,
) -> Result<Option<u64>, Error> {
    let now = now_ms / MINUTE_MS;
    let prefix = user_prefix(kind, user);
    let rows = txn.scan(
        Keyspace::Meta,
        &Range::prefix(&prefix),
        Direction::Forward,
        MAX_COUNTERS,
    )?;
    let mut used: u64 = 0;
    for (key, value) in rows {
        let minute: [u8; 8] = key[prefix.len()..]
            .try_into()
            .map_err(|_| corrupt("submission counter key".into()))?;
        if u64::from_be_bytes(minute) + WINDOW_MINUTES <= now {
            txn.delete(Keyspace::Meta, key);
        } else {
            used = used.saturating_add(decode(&value)?);
        }
    }
    if used >= u64::from(max) {
        return Ok(None);
    }
    let key = counter_key(kind, user, now);
    let n = read(txn, &key)? + 1;
    txn.put(Keyspace::Meta, key, n.to_le_bytes().to_vec());
    Ok(Some(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use marque_store::StoreOptions;

    const T0: u64 = 1_800_000_000_000;

    fn open(dir: &tempfile::TempDir, limits: Limits) -> RateLimits {
        let store = Store::open(&dir.path().join("store"), StoreOptions::default()).expect("open");
        RateLimits::new(store, limits)
    }

    fn counters(r: &RateLimits, kind: u8, user: &str) -> usize {
        r.store
            .scan(
                Keyspace::Meta,
                &Range::prefix(&user_prefix(kind, user)),
                Direction::Forward,
                1000,
            )
            .expect("scan")
            .len()
    }

    #[tokio::test]
    async fn messages_and_recipients_over_a_sliding_hour() {
        let dir = tempfile::tempdir().unwrap();
        let r = open(
            &dir,
            Limits {
                max_messages_per_hour: 2,
                max_recipients_per_hour: 3,
            },
        );
        let min = |m: u64| T0 + m * MINUTE_MS;
        assert!(matches!(
            r.take_message("a", min(0)).await,
            Ok(Taken::Counted(_))
        ));
        assert!(matches!(
            r.take_message("a", min(1)).await,
            Ok(Taken::Counted(_))
        ));
        assert_eq!(r.take_message("a", min(2)).await.unwrap(), Taken::OverLimit);
        assert!(
            matches!(r.take_message("b", min(2)).await, Ok(Taken::Counted(_))),
            "other users are not affected"
        );
        // The first message leaves the window an hour later; the second a minute after.
        assert_eq!(
            r.take_message("a", min(59)).await.unwrap(),
            Taken::OverLimit
        );
        assert!(matches!(
            r.take_message("a", min(60)).await,
            Ok(Taken::Counted(_))
        ));
        assert_eq!(
            r.take_message("a", min(60)).await.unwrap(),
            Taken::OverLimit
        );
        assert_eq!(counters(&r, MESSAGES, "a"), 2, "minute 0 was deleted");
        for i in 0..3 {
            assert!(r.take_recipient("a", T0 + i).await.unwrap());
        }
        assert!(!r.take_recipient("a", T0 + 10).await.unwrap());
        assert!(r.take_recipient("a", min(60)).await.unwrap());
    }

    #[tokio::test]
    async fn a_message_given_back_frees_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let r = open(
            &dir,
            Limits {
                max_messages_per_hour: 1,
                max_recipients_per_hour: 0,
            },
        );
        let Taken::Counted(c) = r.take_message("a", T0).await.unwrap() else {
            panic!("not counted");
        };
        assert_eq!(r.take_message("a", T0).await.unwrap(), Taken::OverLimit);
        r.give_back(c).await.unwrap();
        assert_eq!(counters(&r, MESSAGES, "a"), 0);
        assert!(matches!(
            r.take_message("a", T0).await,
            Ok(Taken::Counted(_))
        ));
    }

    #[tokio::test]
    async fn zero_means_unlimited() {
        let dir = tempfile::tempdir().unwrap();
        let r = open(&dir, Limits::default());
        for _ in 0..100 {
            assert_eq!(r.take_message("a", T0).await.unwrap(), Taken::Unlimited);
            assert!(r.take_recipient("a", T0).await.unwrap());
        }
        assert_eq!(
            counters(&r, MESSAGES, "a") + counters(&r, RECIPIENTS, "a"),
            0
        );
    }

    #[test]
    fn a_login_is_not_a_prefix_of_another() {
        let ann = user_prefix(MESSAGES, "ann");
        assert!(!counter_key(MESSAGES, "anne", 5).starts_with(&ann));
        assert!(counter_key(MESSAGES, "ann", 5).starts_with(&ann));
        assert_ne!(user_prefix(MESSAGES, "ann"), user_prefix(RECIPIENTS, "ann"));
    }
}

//! Panel sessions: a random 256-bit id in a cookie, the signed-in [`Actor`] and a CSRF token
//! kept server-side with an idle and an absolute expiry.
//!
//! Sessions live in the store, under the hash of their id (a copy of the data holds no usable
//! cookie), so that every process serving the panel on the same data knows every session and
//! a restart signs nobody out. The idle clock is written at most once per [`TOUCH_EVERY_MS`]
//! of use, so that browsing writes little. Expired sessions and sign-ins are removed as they
//! are met and by [`Sessions::purge`].

use marque_core::Actor;
use marque_store::tags::meta;
use marque_store::{Direction, Key, Keyspace, Range, Store};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "marque_panel";

/// The idle clock of a session in use is written at most this often (or a tenth of the idle
/// lifetime, if that is shorter).
pub const TOUCH_EVERY_MS: u64 = 60 * 1000;

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Without a request for this long, a session ends.
    pub idle_ms: u64,
    /// However busy, a session ends this long after sign-in.
    pub absolute_ms: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            idle_ms: 30 * 60 * 1000,
            absolute_ms: 12 * 3600 * 1000,
        }
    }
}

/// One signed-in session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The id (the cookie's value); not stored, only its hash is.
    #[serde(skip)]
    pub id: String,
    pub actor: Actor,
    /// The token every form must carry (synchronizer token pattern).
    pub csrf: String,
    /// Sign-in and last use, in milliseconds since the epoch.
    pub created_ms: u64,
    pub seen_ms: u64,
    /// A message for the next page (after a form's redirect): `(is_error, text)`.
    pub flash: Option<(bool, String)>,
}

/// A sign-in waiting for its TOTP code: the actor, since when, tries so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    actor: Actor,
    since_ms: u64,
    tries: u8,
}

/// How long a sign-in waits for its TOTP code.
pub const PENDING_FOR_MS: u64 = 5 * 60 * 1000;

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn key(tag: u8, id: &str) -> Vec<u8> {
    Key::new()
        .tag(tag)
        .bytes(&Sha256::digest(id.as_bytes()))
        .into_bytes()
}

/// The session table, in the store.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: Store,
    lifetimes: Lifetimes,
}

type StoreResult<T> = marque_store::Result<T>;

impl Sessions {
    /// The table in `store`, with these lifetimes.
    pub fn new(store: Store, lifetimes: Lifetimes) -> Self {
        Sessions { store, lifetimes }
    }

    fn alive(&self, s: &Session, now_ms: u64) -> bool {
        now_ms.saturating_sub(s.seen_ms) < self.lifetimes.idle_ms
            && now_ms.saturating_sub(s.created_ms) < self.lifetimes.absolute_ms
    }

    /// Opens a session for `actor` at `now_ms`.
    pub async fn open(&self, actor: Actor, now_ms: u64) -> StoreResult<Session> {
        let s = Session {
            id: random_token(),
            actor,
            csrf: random_token(),
            created_ms: now_ms,
            seen_ms: now_ms,
            flash: None,
        };
        let (k, record) = (key(meta::PANEL_SESSION, &s.id), s.clone());
        self.store
            .transact(move |txn| txn.put_value(Keyspace::Meta, k, &record))
            .await?;
        Ok(s)
    }

    /// Reads session `id` in a transaction and lets `change` alter it; an expired session is
    /// removed and reads as `None`.
    async fn update<T: Send + 'static>(
        &self,
        id: &str,
        now_ms: u64,
        change: impl FnOnce(&mut Session) -> (bool, T) + Send + 'static,
    ) -> StoreResult<Option<T>> {
        let k = key(meta::PANEL_SESSION, id);
        let (this, id) = (self.clone(), id.to_string());
        self.store
            .transact(move |txn| {
                let Some(v) = txn.get(Keyspace::Meta, &k)? else {
                    return Ok(None);
                };
                let mut s: Session = marque_store::decode(Keyspace::Meta, &v)?;
                s.id = id;
                if !this.alive(&s, now_ms) {
                    txn.delete(Keyspace::Meta, k);
                    return Ok(None);
                }
                let (changed, out) = change(&mut s);
                if changed {
                    txn.put_value(Keyspace::Meta, k, &s)?;
                }
                Ok(Some(out))
            })
            .await
    }

    /// The live session `id` at `now_ms`, its idle clock restarted, with the message left
    /// for this page (taken: the next page will not show it again); `None` if unknown or
    /// expired.
    pub async fn touch(&self, id: &str, now_ms: u64) -> StoreResult<Option<Session>> {
        let idle_ms = self.lifetimes.idle_ms;
        self.update(id, now_ms, move |s| {
            let every = TOUCH_EVERY_MS.min(idle_ms / 10);
            let due = now_ms.saturating_sub(s.seen_ms) >= every;
            if due {
                s.seen_ms = now_ms;
            }
            let page = s.clone();
            let flash = s.flash.take().is_some();
            (due || flash, page)
        })
        .await
    }

    /// Replaces the actor of session `id` (after a password change, say).
    pub async fn set_actor(&self, id: &str, actor: Actor, now_ms: u64) -> StoreResult<()> {
        self.update(id, now_ms, move |s| {
            s.actor = actor;
            (true, ())
        })
        .await
        .map(|_| ())
    }

    /// Leaves a message for the next page of session `id`.
    pub async fn set_flash(
        &self,
        id: &str,
        error: bool,
        text: String,
        now_ms: u64,
    ) -> StoreResult<()> {
        self.update(id, now_ms, move |s| {
            s.flash = Some((error, text));
            (true, ())
        })
        .await
        .map(|_| ())
    }

    /// Ends session `id`.
    pub async fn close(&self, id: &str) -> StoreResult<()> {
        let k = key(meta::PANEL_SESSION, id);
        self.store
            .transact(move |txn| {
                txn.delete(Keyspace::Meta, k);
                Ok(())
            })
            .await
    }

    /// Holds a sign-in whose password checked until its TOTP code comes; returns its token.
    pub async fn pending_open(&self, actor: Actor, now_ms: u64) -> StoreResult<String> {
        let token = random_token();
        let k = key(meta::PANEL_PENDING, &token);
        let p = Pending {
            actor,
            since_ms: now_ms,
            tries: 0,
        };
        self.store
            .transact(move |txn| txn.put_value(Keyspace::Meta, k, &p))
            .await?;
        Ok(token)
    }

    /// Counts one try at pending sign-in `token`: its actor and the tries so far (this one
    /// included); `None` if unknown or expired.
    pub async fn pending_try(&self, token: &str, now_ms: u64) -> StoreResult<Option<(Actor, u8)>> {
        let k = key(meta::PANEL_PENDING, token);
        self.store
            .transact(move |txn| {
                let Some(v) = txn.get(Keyspace::Meta, &k)? else {
                    return Ok(None);
                };
                let mut p: Pending = marque_store::decode(Keyspace::Meta, &v)?;
                if now_ms.saturating_sub(p.since_ms) >= PENDING_FOR_MS {
                    txn.delete(Keyspace::Meta, k);
                    return Ok(None);
                }
                p.tries = p.tries.saturating_add(1);
                txn.put_value(Keyspace::Meta, k, &p)?;
                Ok(Some((p.actor, p.tries)))
            })
            .await
    }

    /// Forgets pending sign-in `token`.
    pub async fn pending_drop(&self, token: &str) -> StoreResult<()> {
        let k = key(meta::PANEL_PENDING, token);
        self.store
            .transact(move |txn| {
                txn.delete(Keyspace::Meta, k);
                Ok(())
            })
            .await
    }

    /// How many sessions are held, expired ones not yet purged included.
    pub fn count(&self) -> StoreResult<usize> {
        let prefix = Key::new().tag(meta::PANEL_SESSION).into_bytes();
        Ok(self
            .store
            .scan(
                Keyspace::Meta,
                &Range::prefix(&prefix),
                Direction::Forward,
                usize::MAX,
            )?
            .len())
    }

    /// Removes the sessions and the pending sign-ins that have expired at `now_ms`; returns how
    /// many.
    pub async fn purge(&self, now_ms: u64) -> StoreResult<usize> {
        let this = self.clone();
        let sessions =
            crate::housekeeping::remove_expired(&self.store, meta::PANEL_SESSION, move |v| {
                marque_store::decode::<Session>(Keyspace::Meta, v)
                    .map_or(true, |s| !this.alive(&s, now_ms))
            });
        let pending =
            crate::housekeeping::remove_expired(&self.store, meta::PANEL_PENDING, move |v| {
                marque_store::decode::<Pending>(Keyspace::Meta, v).map_or(true, |p| {
                    now_ms.saturating_sub(p.since_ms) >= PENDING_FOR_MS
                })
            });
        Ok(sessions.await? + pending.await?)
    }
}

/// The session id from a `Cookie` header (RFC 6265 §5.4: `name=value` pairs separated by `; `).
pub fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == COOKIE && !v.is_empty()).then_some(v)
    })
}

/// The `Set-Cookie` value for a session (RFC 6265 §4.1): not readable by scripts, not sent
/// cross-site, only under `/admin`, and only over TLS when the panel was reached over TLS.
pub fn set_cookie(id: &str, tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/admin{secure}")
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(tls: bool) -> String {
    let secure = if tls { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(dir: &tempfile::TempDir) -> Sessions {
        let store = Store::open(dir.path(), Default::default()).unwrap();
        Sessions::new(
            store,
            Lifetimes {
                idle_ms: 60_000,
                absolute_ms: 300_000,
            },
        )
    }

    const T0: u64 = 1_700_000_000_000;

    #[tokio::test]
    async fn idle_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir);
        let s = t.open(Actor::operator(), T0).await.unwrap();
        assert!(t.touch(&s.id, T0 + 59_000).await.unwrap().is_some());
        // The idle clock restarted at 59 s.
        assert!(t.touch(&s.id, T0 + 118_000).await.unwrap().is_some());
        assert!(t.touch(&s.id, T0 + 179_000).await.unwrap().is_none());
        assert_eq!(t.count().unwrap(), 0, "an expired session is dropped");
    }

    #[tokio::test]
    async fn absolute_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir);
        let s = t.open(Actor::operator(), T0).await.unwrap();
        for step in 1..=4 {
            let at = T0 + step * 50_000;
            assert!(t.touch(&s.id, at).await.unwrap().is_some());
        }
        assert!(t.touch(&s.id, T0 + 300_000).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn ids_are_random_and_closed_sessions_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir);
        let a = t.open(Actor::operator(), T0).await.unwrap();
        let b = t.open(Actor::operator(), T0).await.unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_eq!(a.id.len(), 64);
        t.close(&a.id).await.unwrap();
        assert!(t.touch(&a.id, T0).await.unwrap().is_none());
        let back = t.touch(&b.id, T0).await.unwrap().unwrap();
        assert_eq!((back.id, back.csrf, back.actor), (b.id, b.csrf, b.actor));
    }

    #[tokio::test]
    async fn a_session_outlives_its_table_and_the_store_holds_no_cookie() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let t = table(&dir);
            let s = t.open(Actor::operator(), T0).await.unwrap();
            t.set_flash(&s.id, true, "saved".into(), T0).await.unwrap();
            s.id
        };
        // Another table over the same data (another process, or after a restart).
        let t = table(&dir);
        let page = t.touch(&id, T0 + 1_000).await.unwrap().unwrap();
        assert_eq!(page.flash, Some((true, "saved".to_string())));
        let next = t.touch(&id, T0 + 2_000).await.unwrap().unwrap();
        assert_eq!(next.flash, None, "a message is shown once");
        let prefix = Key::new().tag(meta::PANEL_SESSION).into_bytes();
        let raw = t
            .store
            .scan(
                Keyspace::Meta,
                &Range::prefix(&prefix),
                Direction::Forward,
                10,
            )
            .unwrap();
        assert_eq!(raw.len(), 1);
        let hex_id = id.as_bytes();
        assert!(
            !raw[0].0.windows(hex_id.len()).any(|w| w == hex_id)
                && !raw[0].1.windows(hex_id.len()).any(|w| w == hex_id),
            "the id is stored only as its hash"
        );
    }

    #[tokio::test]
    async fn pending_sign_ins_count_tries_and_expire_and_purge_removes_the_dead() {
        let dir = tempfile::tempdir().unwrap();
        let t = table(&dir);
        let p = t.pending_open(Actor::operator(), T0).await.unwrap();
        assert_eq!(t.pending_try(&p, T0).await.unwrap().unwrap().1, 1);
        assert_eq!(t.pending_try(&p, T0 + 1).await.unwrap().unwrap().1, 2);
        assert!(
            t.pending_try(&p, T0 + PENDING_FOR_MS)
                .await
                .unwrap()
                .is_none()
        );
        let q = t.pending_open(Actor::operator(), T0).await.unwrap();
        let live = t.open(Actor::operator(), T0 + 250_000).await.unwrap();
        t.open(Actor::operator(), T0).await.unwrap();
        // At T0 + 290 s: the session from T0 is idle past 60 s, the pending sign-in is alive.
        assert_eq!(t.purge(T0 + 290_000).await.unwrap(), 1);
        assert!(t.pending_try(&q, T0 + 290_000).await.unwrap().is_some());
        assert!(t.touch(&live.id, T0 + 290_000).await.unwrap().is_some());
        assert_eq!(t.count().unwrap(), 1);
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie_value("a=1; marque_panel=xyz; b=2"), Some("xyz"));
        assert_eq!(cookie_value("marque_panel="), None);
        assert_eq!(cookie_value("other=1"), None);
        let c = set_cookie("abc", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(!set_cookie("abc", false).contains("Secure"));
    }
}

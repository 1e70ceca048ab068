//! Panel sessions: a random 256-bit id in a cookie, the signed-in [`Actor`] and a CSRF token
//! kept server-side with an idle and an absolute expiry.
//!
//! Sessions live in memory: a restart signs everybody out (they sign in again; nothing else is
//! lost). Memory stays bounded: past [`MAX_SESSIONS`], expired sessions are dropped, then the
//! least recently used.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use marque_core::Actor;
use parking_lot::Mutex;
use rand::RngCore;

/// The cookie's name.
pub const COOKIE: &str = "marque_panel";

/// At most this many sessions are kept.
pub const MAX_SESSIONS: usize = 100_000;

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Without a request for this long, a session ends.
    pub idle: Duration,
    /// However busy, a session ends this long after sign-in.
    pub absolute: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// One signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub actor: Actor,
    /// The token every form must carry (synchronizer token pattern).
    pub csrf: String,
    pub created: Instant,
    pub seen: Instant,
    /// A message for the next page (after a form's redirect): `(is_error, text)`.
    pub flash: Option<(bool, String)>,
}

/// The server-side session table.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
    /// Sign-ins waiting for their TOTP code: the actor, when, how many tries so far.
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    lifetimes: Lifetimes,
}

/// A sign-in waiting for its TOTP code: the actor, since when, tries so far.
type Pending = (Actor, Instant, u8);

/// How long a sign-in waits for its TOTP code.
pub const PENDING_FOR: Duration = Duration::from_secs(5 * 60);

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

impl Sessions {
    /// An empty table with these lifetimes.
    pub fn new(lifetimes: Lifetimes) -> Self {
        Sessions {
            inner: Arc::default(),
            pending: Arc::default(),
            lifetimes,
        }
    }

    /// Opens a session for `actor` at `now`.
    pub fn open(&self, actor: Actor, now: Instant) -> Session {
        let s = Session {
            id: random_token(),
            actor,
            csrf: random_token(),
            created: now,
            seen: now,
            flash: None,
        };
        let mut all = self.inner.lock();
        if all.len() >= MAX_SESSIONS {
            let l = self.lifetimes;
            all.retain(|_, s| alive(s, l, now));
            if all.len() >= MAX_SESSIONS
                && let Some(oldest) = all.values().min_by_key(|s| s.seen).map(|s| s.id.clone())
            {
                all.remove(&oldest);
            }
        }
        all.insert(s.id.clone(), s.clone());
        s
    }

    /// The live session `id` at `now`, its idle clock restarted; `None` if unknown or expired
    /// (an expired one is removed).
    pub fn touch(&self, id: &str, now: Instant) -> Option<Session> {
        let mut all = self.inner.lock();
        let s = all.get_mut(id)?;
        if !alive(s, self.lifetimes, now) {
            all.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    /// Replaces the actor of session `id` (after a password change, say).
    pub fn set_actor(&self, id: &str, actor: Actor) {
        if let Some(s) = self.inner.lock().get_mut(id) {
            s.actor = actor;
        }
    }

    /// Holds a sign-in whose password checked until its TOTP code comes; returns its token.
    pub fn pending_open(&self, actor: Actor, now: Instant) -> String {
        let token = random_token();
        let mut all = self.pending.lock();
        if all.len() >= MAX_SESSIONS {
            all.retain(|_, p| now.saturating_duration_since(p.1) < PENDING_FOR);
            if all.len() >= MAX_SESSIONS {
                all.clear();
            }
        }
        all.insert(token.clone(), (actor, now, 0));
        token
    }

    /// Counts one try at pending sign-in `token`: its actor and the tries so far (this one
    /// included); `None` if unknown or expired.
    pub fn pending_try(&self, token: &str, now: Instant) -> Option<(Actor, u8)> {
        let mut all = self.pending.lock();
        let p = all.get_mut(token)?;
        if now.saturating_duration_since(p.1) >= PENDING_FOR {
            all.remove(token);
            return None;
        }
        p.2 = p.2.saturating_add(1);
        Some((p.0.clone(), p.2))
    }

    /// Forgets pending sign-in `token`.
    pub fn pending_drop(&self, token: &str) {
        self.pending.lock().remove(token);
    }

    /// Leaves a message for the next page of session `id`.
    pub fn set_flash(&self, id: &str, error: bool, text: impl Into<String>) {
        if let Some(s) = self.inner.lock().get_mut(id) {
            s.flash = Some((error, text.into()));
        }
    }

    /// Takes the message left for session `id`.
    pub fn take_flash(&self, id: &str) -> Option<(bool, String)> {
        self.inner.lock().get_mut(id).and_then(|s| s.flash.take())
    }

    /// Ends session `id`.
    pub fn close(&self, id: &str) {
        self.inner.lock().remove(id);
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.inner.lock().len()
    }

    /// True if none are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn alive(s: &Session, l: Lifetimes, now: Instant) -> bool {
    now.saturating_duration_since(s.seen) < l.idle
        && now.saturating_duration_since(s.created) < l.absolute
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

    fn table() -> Sessions {
        Sessions::new(Lifetimes {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(300),
        })
    }

    #[test]
    fn idle_expiry() {
        let t = table();
        let now = Instant::now();
        let s = t.open(Actor::operator(), now);
        assert!(t.touch(&s.id, now + Duration::from_secs(59)).is_some());
        // The idle clock restarted at 59 s.
        assert!(t.touch(&s.id, now + Duration::from_secs(118)).is_some());
        assert!(t.touch(&s.id, now + Duration::from_secs(179)).is_none());
        assert!(t.is_empty(), "an expired session is dropped");
    }

    #[test]
    fn absolute_expiry() {
        let t = table();
        let now = Instant::now();
        let s = t.open(Actor::operator(), now);
        for step in 1..=4 {
            assert!(
                t.touch(&s.id, now + Duration::from_secs(step * 50))
                    .is_some()
            );
        }
        assert!(t.touch(&s.id, now + Duration::from_secs(300)).is_none());
    }

    #[test]
    fn ids_are_random_and_closed_sessions_are_gone() {
        let t = table();
        let now = Instant::now();
        let a = t.open(Actor::operator(), now);
        let b = t.open(Actor::operator(), now);
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_eq!(a.id.len(), 64);
        t.close(&a.id);
        assert!(t.touch(&a.id, now).is_none());
        assert!(t.touch(&b.id, now).is_some());
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

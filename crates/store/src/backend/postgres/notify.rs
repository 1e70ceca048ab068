//! Change events between processes: `NOTIFY` inside the committing transaction, and one
//! `LISTEN` connection per store that publishes the other processes' events locally.
//!
//! # Payload
//! A notification payload is text (PostgreSQL's `NOTIFY` takes text of under 8000 bytes):
//! `1 <origin> <event> <event>...`, where `1` is the format, `<origin>` is the sending store's
//! random id in hexadecimal (a store skips its own notifications: its writer thread has
//! already published them), and each event is `<account>.<mailbox>.<kind letter>.<modseq>`
//! in decimal. A group with more events than fit in one payload sends several.
//!
//! # Listener
//! The listener is a connection of its own (application name `marque-listen`), outside the
//! pool, driven on the backend's runtime. When it dies (the server restarted, a network cut,
//! `pg_terminate_backend`), the listener asks the notifier for a resync, waits a little (longer
//! after each failure, up to [`MAX_BACKOFF`]) and connects again; once `LISTEN` is in place it
//! asks for a resync again, since events sent while it was away are lost.

use std::time::Duration;

use deadpool_postgres::Object;
use futures_util::future::poll_fn;
use tokio_postgres::AsyncMessage;

use crate::error::Result;
use crate::ids::{AccountId, MailboxId};
use crate::notify::{Event, EventKind, Notifier};

/// The channel every store sends and listens on.
pub const CHANNEL: &str = "marque_changes";
/// The application name of the listener's connection (`pg_stat_activity.application_name`).
pub const APPLICATION_NAME: &str = "marque-listen";
/// The payload format this build writes and reads.
const FORMAT: &str = "1";
/// Payloads stay under PostgreSQL's limit of 8000 bytes, with room to spare.
const MAX_PAYLOAD: usize = 7000;
/// The longest wait between two connection attempts of the listener.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The first wait after a connection dies.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// How long an idle listener connection goes before TCP keepalives probe it, so that a
/// connection cut without a word is noticed.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// A random id for one store, told apart from every other store on the database.
pub(super) fn new_origin() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // std's `RandomState` is seeded from the operating system's randomness.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// The payloads that carry `events` from `origin`, each under [`MAX_PAYLOAD`] bytes.
pub(super) fn encode(origin: u64, events: &[Event]) -> Vec<String> {
    let head = format!("{FORMAT} {origin:x}");
    let mut out = Vec::new();
    let mut cur = head.clone();
    for e in events {
        let item = format!(
            " {}.{}.{}.{}",
            e.account.0,
            e.mailbox.0,
            e.kind.code(),
            e.modseq
        );
        if cur.len() + item.len() > MAX_PAYLOAD && cur.len() > head.len() {
            out.push(std::mem::replace(&mut cur, head.clone()));
        }
        cur.push_str(&item);
    }
    if cur.len() > head.len() {
        out.push(cur);
    }
    out
}

/// The origin and events of a payload; `None` if it is not one this build understands (a
/// newer format, or not Marque's), which the caller treats as a lost notification.
pub(super) fn decode(payload: &str) -> Option<(u64, Vec<Event>)> {
    let mut words = payload.split(' ');
    if words.next()? != FORMAT {
        return None;
    }
    let origin = u64::from_str_radix(words.next()?, 16).ok()?;
    let events = words
        .map(|w| {
            let mut parts = w.split('.');
            let account = AccountId(parts.next()?.parse().ok()?);
            let mailbox = MailboxId(parts.next()?.parse().ok()?);
            let mut kind = parts.next()?.chars();
            let kind = EventKind::from_code(kind.next()?).filter(|_| kind.next().is_none())?;
            let modseq = parts.next()?.parse().ok()?;
            parts.next().is_none().then_some(Event {
                account,
                mailbox,
                kind,
                modseq,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some((origin, events))
}

/// Sends `events` on [`CHANNEL`] inside the transaction `client` is in: PostgreSQL delivers
/// them when, and only if, it commits.
pub(super) async fn send(client: &Object, origin: u64, events: &[Event]) -> Result<()> {
    let payloads = encode(origin, events);
    if payloads.is_empty() {
        return Ok(());
    }
    let st = client
        .prepare_cached("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
        .await
        .map_err(|e| super::sql::error("preparing a notification", &e))?;
    client
        .execute(&st, &[&CHANNEL, &payloads])
        .await
        .map_err(|e| super::sql::error("sending a notification", &e))?;
    Ok(())
}

/// What the listener needs to open its own connections.
#[derive(Clone)]
pub(super) struct Connector {
    pub(super) config: tokio_postgres::Config,
    pub(super) tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// Runs the listener until the runtime it runs on stops.
pub(super) async fn listen(connector: Connector, origin: u64, notifier: Notifier) {
    let mut config = connector.config.clone();
    config.application_name(APPLICATION_NAME);
    config.keepalives_idle(KEEPALIVE_IDLE);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let listened = match &connector.tls {
            Some(tls) => session(&config, tls.clone(), origin, &notifier).await,
            None => session(&config, tokio_postgres::NoTls, origin, &notifier).await,
        };
        // Whatever was sent while no connection listened is lost.
        notifier.request_resync();
        match listened {
            // It had listened: try again soon.
            Ok(()) => backoff = FIRST_BACKOFF,
            Err(e) => {
                tracing::warn!(error = %e, "the change listener cannot reach PostgreSQL");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's life: `LISTEN`, then events until it ends. `Ok` if `LISTEN` took effect.
async fn session<T>(
    config: &tokio_postgres::Config,
    tls: T,
    origin: u64,
    notifier: &Notifier,
) -> std::result::Result<(), String>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config
        .connect(tls)
        .await
        .map_err(|e| super::sql::with_causes(&e))?;
    // The connection delivers notifications only while it is polled: a task of its own does
    // that and hands them over; its end (None) is the connection's end.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::info!(error = %super::sql::with_causes(&e), "the change listener's connection ended");
                    return;
                }
                None => return,
            }
        }
    });
    if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        driver.abort();
        return Err(super::sql::with_causes(&e));
    }
    tracing::debug!("listening for changes made by other processes");
    notifier.request_resync();
    while let Some(payload) = rx.recv().await {
        match decode(&payload) {
            Some((from, _)) if from == origin => {}
            Some((_, events)) => {
                for e in events {
                    notifier.publish(e);
                }
            }
            None => {
                tracing::debug!("a change notification this build cannot read");
                notifier.request_resync();
            }
        }
    }
    drop(client);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(account: u64, mailbox: u32, kind: EventKind, modseq: u64) -> Event {
        Event {
            account: AccountId(account),
            mailbox: MailboxId(mailbox),
            kind,
            modseq,
        }
    }

    #[test]
    fn payloads_carry_events_and_their_origin() {
        let events = vec![
            event(42, 1, EventKind::Appended, 7),
            event(u64::MAX, u32::MAX, EventKind::Changed, u64::MAX),
            event(3, 2, EventKind::MailboxesChanged, 0),
        ];
        let payloads = encode(0xdead_beef, &events);
        assert_eq!(payloads.len(), 1);
        assert!(
            payloads[0].starts_with("1 deadbeef 42.1.a.7 "),
            "{}",
            payloads[0]
        );
        assert_eq!(decode(&payloads[0]), Some((0xdead_beef, events)));
    }

    #[test]
    fn a_large_group_is_split_under_the_payload_limit() {
        let events: Vec<_> = (0..2000)
            .map(|i| event(1_000_000 + i, 3, EventKind::FlagsChanged, 10_000 + i))
            .collect();
        let payloads = encode(1, &events);
        assert!(payloads.len() > 1);
        let mut back = Vec::new();
        for p in &payloads {
            assert!(p.len() <= MAX_PAYLOAD, "{}", p.len());
            let (origin, mut e) = decode(p).unwrap();
            assert_eq!(origin, 1);
            back.append(&mut e);
        }
        assert_eq!(back, events);
        assert!(encode(1, &[]).is_empty());
    }

    #[test]
    fn payloads_of_another_format_or_malformed_are_refused() {
        for bad in [
            "",
            "2 ff 1.1.a.1",
            "1",
            "1 zz 1.1.a.1",
            "1 ff 1.1.q.1",
            "1 ff 1.1.aa.1",
            "1 ff 1.1.a",
            "1 ff 1.1.a.1.5",
            "1 ff -1.1.a.1",
            "1 ff 1.99999999999.a.1",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
        assert_eq!(decode("1 ff"), Some((0xff, Vec::new())));
    }

    #[test]
    fn origins_differ() {
        assert_ne!(new_origin(), new_origin());
    }
}

//! Several stores on one PostgreSQL database, as several processes would open it: change
//! events reach the subscribers of every store (by `NOTIFY`, and by polling when a
//! notification is lost), and concurrent appends to one folder keep UIDs, counters and quota
//! exact.

use std::sync::Arc;
use std::time::{Duration, Instant};

use marque_store::backend::postgres::PostgresBackend;
use marque_store::backend::{BackendTxn, Commit, Direction, Range};
use marque_store::counters::{self, Metric, Owner};
use marque_store::mail::{self, AppendOptions, Charge, PreparedMessage};
use marque_store::{
    AccountId, Backend, BackendKind, Error, Event, EventKind, Keyspace, MailboxId, Reader, Store,
    StoreOptions,
};
use tokio::sync::broadcast;

#[allow(unused_macros)] // The tests here are on PostgreSQL only.
mod common;

use common::{Engine, Place};

const A: AccountId = AccountId(42);
/// How soon a subscriber must hear of another store's change.
const PROMPTLY: Duration = Duration::from_secs(2);

fn place() -> Place {
    Place::new(Engine::Postgres)
}

async fn inbox(store: &Store) -> MailboxId {
    store.transact(|t| mail::init_account(t, A)).await.unwrap();
    mail::mailbox_by_name(store, A, "INBOX")
        .unwrap()
        .unwrap()
        .id
}

fn charges(limit: Option<i64>) -> Vec<Charge> {
    vec![Charge {
        owner: Owner::Account(A),
        limit,
        name: "mailbox quota".into(),
    }]
}

async fn append(
    store: &Store,
    folder: MailboxId,
    raw: &str,
) -> marque_store::Result<mail::Appended> {
    let msg = PreparedMessage::new(store, raw.as_bytes())?;
    store
        .transact(move |t| {
            mail::append(
                t,
                A,
                folder,
                &msg,
                &AppendOptions::default(),
                &charges(None),
            )
        })
        .await
}

/// Waits up to `within` for an event of `folder` that `wanted` accepts; the event.
async fn hear(
    rx: &mut broadcast::Receiver<Event>,
    folder: MailboxId,
    within: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if e.mailbox == folder && wanted(&e) => return e,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("the event channel closed: {e}"),
            Err(_) => panic!("no such event of folder {folder:?} within {within:?}"),
        }
    }
}

/// Runs one SQL statement on the test database; the rows' first column as text.
async fn sql(url: &str, statement: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    tokio::spawn(connection);
    client
        .simple_query(statement)
        .await
        .expect("statement")
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .collect()
}

/// The listener connections open on the test database.
async fn listeners(url: &str) -> usize {
    sql(
        url,
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'marque-listen' \
         AND datname = current_database()",
    )
    .await
    .len()
}

async fn wait_for_listeners(url: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while listeners(url).await < n {
        assert!(
            Instant::now() < deadline,
            "{n} listener connections did not open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_the_subscribers_of_another_store_even_after_its_listener_dies() {
    let place = place();
    let url = place.url().unwrap().to_string();
    let (one, two) = (place.open(), place.open());
    let ib = inbox(&one).await;
    let mut rx = one.notifier().subscribe(A);
    wait_for_listeners(&url, 2).await;

    // Through NOTIFY: the event as the writer described it, not a poller's guess.
    let a = append(&two, ib, "Subject: one\r\n\r\n1\r\n").await.unwrap();
    let e = hear(&mut rx, ib, PROMPTLY, |e| {
        e.modseq == a.modseq && e.kind == EventKind::Appended
    })
    .await;
    assert_eq!(e.account, A);

    // The listener's connection is killed, and a message arrives meanwhile: the subscriber
    // still hears of it (the listener reconnects and asks for a resync).
    let killed = sql(
        &url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'marque-listen' AND datname = current_database()",
    )
    .await;
    assert_eq!(killed.len(), 2, "{killed:?}");
    let b = append(&two, ib, "Subject: two\r\n\r\n2\r\n").await.unwrap();
    hear(&mut rx, ib, PROMPTLY, |e| e.modseq >= b.modseq).await;

    // The listener is back and NOTIFY works again.
    wait_for_listeners(&url, 2).await;
    let c = append(&two, ib, "Subject: three\r\n\r\n3\r\n")
        .await
        .unwrap();
    hear(&mut rx, ib, PROMPTLY, |e| {
        e.modseq == c.modseq && e.kind == EventKind::Appended
    })
    .await;

    // A store does not hear its own changes twice: once from its writer, never again from
    // its listener.
    let mut own = two.notifier().subscribe(A);
    let d = append(&two, ib, "Subject: four\r\n\r\n4\r\n")
        .await
        .unwrap();
    hear(&mut own, ib, PROMPTLY, |e| e.modseq == d.modseq).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(e) = own.try_recv() {
        assert!(
            !(e.modseq == d.modseq && e.kind == EventKind::Appended),
            "heard twice: {e:?}"
        );
    }
}

/// A PostgreSQL backend that never sends or hears notifications: a store on it writes as a
/// process whose notifications are all lost.
struct Silent(PostgresBackend);

struct SilentTxn<'a>(Box<dyn BackendTxn + 'a>);

impl Backend for Silent {
    fn get(&self, ks: Keyspace, key: &[u8]) -> marque_store::Result<Option<Vec<u8>>> {
        self.0.get(ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> marque_store::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.scan(ks, range, direction, limit)
    }
    fn begin(&self) -> marque_store::Result<Box<dyn BackendTxn + '_>> {
        Ok(Box::new(SilentTxn(self.0.begin()?)))
    }
    fn flush(&self) -> marque_store::Result<()> {
        self.0.flush()
    }
}

impl BackendTxn for SilentTxn<'_> {
    fn get(&self, ks: Keyspace, key: &[u8]) -> marque_store::Result<Option<Vec<u8>>> {
        self.0.get(ks, key)
    }
    fn scan(
        &self,
        ks: Keyspace,
        range: &Range,
        direction: Direction,
        limit: usize,
    ) -> marque_store::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.scan(ks, range, direction, limit)
    }
    fn commit(self: Box<Self>, commit: Commit) -> marque_store::Result<()> {
        self.0.commit(Commit {
            events: Vec::new(),
            ..commit
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_whose_notification_is_lost_is_found_by_polling() {
    let place = place();
    let options = place.options(StoreOptions::default());
    let BackendKind::Postgres(pg) = &options.backend else {
        unreachable!("a PostgreSQL place");
    };
    let silent = Store::with_backend(
        Arc::new(Silent(PostgresBackend::open(pg).unwrap())),
        place.dir(),
        options.clone(),
    )
    .unwrap();
    let one = place.open();
    let ib = inbox(&one).await;
    let mut rx = one.notifier().subscribe(A);
    // The poller's first round tells of every folder (a change may have come between the
    // subscriber's own read and it); after that, only of what moved.
    hear(&mut rx, ib, Duration::from_secs(10), |e| {
        e.kind == EventKind::Changed
    })
    .await;
    let a = append(&silent, ib, "Subject: unannounced\r\n\r\nx\r\n")
        .await
        .unwrap();
    let polled = marque_store::notify::poll::POLL_INTERVAL + PROMPTLY;
    let e = hear(&mut rx, ib, polled, |e| e.modseq >= a.modseq).await;
    assert_eq!(e.kind, EventKind::Changed);
    // A deleted folder is told as a change of folders.
    one.transact(|t| mail::create_mailbox(t, A, "Gone", None).map(|_| ()))
        .await
        .unwrap();
    let gone = mail::mailbox_by_name(&one, A, "Gone").unwrap().unwrap().id;
    hear(&mut rx, gone, PROMPTLY, |e| {
        e.kind == EventKind::MailboxesChanged
    })
    .await;
    silent
        .transact(|t| mail::delete_mailbox(t, A, "Gone", &charges(None)).map(|_| ()))
        .await
        .unwrap();
    hear(&mut rx, gone, polled, |e| {
        e.kind == EventKind::MailboxesChanged
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_appending_to_one_folder_keep_uids_counters_and_quota_exact() {
    let place = place();
    let (one, two) = (place.open(), place.open());
    let ib = inbox(&one).await;
    let body = |store: &str, i: usize| format!("Subject: {store} {i:03}\r\n\r\nsame size\r\n");
    let size = body("one", 0).len() as i64;
    const EACH: usize = 40;
    // Room for 50 of the 80 messages.
    let limit = 50 * size;
    let run = |store: Store, name: &'static str| {
        tokio::spawn(async move {
            let mut uids = Vec::new();
            let mut refused = 0;
            for i in 0..EACH {
                let msg = PreparedMessage::new(&store, body(name, i).as_bytes()).unwrap();
                let r = store
                    .transact(move |t| {
                        mail::append(
                            t,
                            A,
                            ib,
                            &msg,
                            &AppendOptions::default(),
                            &charges(Some(limit)),
                        )
                    })
                    .await;
                match r {
                    Ok(a) => uids.push(a.uid),
                    Err(Error::LimitExceeded { .. }) => refused += 1,
                    Err(e) => panic!("append: {e}"),
                }
            }
            (uids, refused)
        })
    };
    let (a, b) = tokio::join!(run(one.clone(), "one"), run(two.clone(), "two"));
    let ((ua, ra), (ub, rb)) = (a.unwrap(), b.unwrap());
    // Each store's own UIDs increase; together they are 1..=50, each once.
    assert!(ua.windows(2).all(|w| w[0] < w[1]), "{ua:?}");
    assert!(ub.windows(2).all(|w| w[0] < w[1]), "{ub:?}");
    let mut all: Vec<u32> = ua.iter().chain(&ub).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (1..=50).collect::<Vec<u32>>());
    assert_eq!(ra + rb, 2 * EACH - 50);
    // The folder and the counters agree with what was acknowledged, seen from either store.
    for store in [&one, &two] {
        let folder = mail::mailbox(store, A, ib).unwrap();
        assert_eq!((folder.messages, folder.uidnext), (50, 51));
        assert_eq!(folder.size, 50 * size as u64);
        let used = Reader::counter(
            store,
            &counters::key(Owner::Account(A), Metric::StorageUsed),
        );
        assert_eq!(used.unwrap(), limit);
        let count = Reader::counter(store, &counters::key(Owner::Account(A), Metric::Messages));
        assert_eq!(count.unwrap(), 50);
        let uids: Vec<u32> = mail::uids(store, A, ib).unwrap();
        assert_eq!(uids, (1..=50).collect::<Vec<u32>>());
    }
}

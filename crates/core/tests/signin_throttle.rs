//! The one sign-in throttle of every service, through `Core::sign_in` on tokio's paused clock:
//! delays that grow per address and per login, the ban seen by every protocol, the slow
//! distributed guess (many addresses, one login) with its notice in the authentication log,
//! the right password still accepted, and the counts seen by every core on the store.

use std::time::Duration;

use marque_core::authlog::Attempt;
use marque_core::signin::{SignInPolicy, ThrottleConfig};
use marque_core::{Core, CoreError};
use marque_store::logs::Term;
use marque_tests::Platform;
use tokio::time::Instant;

const ANN: &str = "ann@c.example";
const PASSWORD: &str = "correct horse battery";

async fn setup() -> (Core, marque_core::TenantId, tempfile::TempDir) {
    let p = Platform::builder()
        .customer("C")
        .domain("c.example")
        .mailbox_with(ANN, PASSWORD, 10)
        .build()
        .await;
    let customer = p.tenant("C");
    let Platform { core, dir, .. } = p;
    (core, customer, dir)
}

fn attempt<'a>(protocol: &'a str, remote: &'a str) -> Attempt<'a> {
    Attempt {
        protocol,
        login: ANN,
        remote,
        mechanism: "PLAIN",
    }
}

/// How long one sign-in took on tokio's clock, and its result.
async fn timed(core: &Core, a: Attempt<'_>, secret: &str) -> (Duration, Result<(), CoreError>) {
    let start = Instant::now();
    let r = core.sign_in(a, secret).await.map(|_| ());
    (start.elapsed(), r)
}

#[tokio::test(start_paused = true)]
async fn failures_from_one_address_wait_longer_and_longer_on_every_protocol() {
    let (core, _, _dir) = setup().await;
    let mut waits = Vec::new();
    for protocol in ["smtp", "imap", "pop3", "managesieve"] {
        let (took, r) = timed(&core, attempt(protocol, "192.0.2.1"), "wrong").await;
        assert!(matches!(r, Err(CoreError::AuthFailed)), "{r:?}");
        waits.push(took.as_secs());
    }
    // 1 s, 2 s, 4 s, 8 s: the count is one, whatever the door.
    assert_eq!(waits, vec![1, 2, 4, 8]);
    // The right password after the delays still works, at once.
    let (took, r) = timed(&core, attempt("panel", "192.0.2.1"), PASSWORD).await;
    assert!(r.is_ok(), "{r:?}");
    assert!(took < Duration::from_millis(50), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn an_address_banned_on_smtp_is_refused_on_imap_with_the_right_password() {
    let (core, _, _dir) = setup().await;
    let cfg = ThrottleConfig::default();
    for _ in 0..cfg.ban_after {
        let (_, r) = timed(&core, attempt("smtp", "192.0.2.7"), "wrong").await;
        assert!(matches!(r, Err(CoreError::AuthFailed)), "{r:?}");
    }
    assert!(
        core.sign_in_ban("192.0.2.7".parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
    for protocol in ["imap", "pop3", "managesieve", "panel"] {
        let (took, r) = timed(&core, attempt(protocol, "192.0.2.7"), PASSWORD).await;
        assert!(
            matches!(r, Err(CoreError::SignInRefused { retry_after_secs }) if retry_after_secs > 0),
            "{protocol}: {r:?}"
        );
        assert!(
            took < Duration::from_millis(50),
            "refused at once: {took:?}"
        );
    }
    // An IPv4-mapped spelling of the address is the same address.
    let (_, r) = timed(&core, attempt("imap", "::ffff:192.0.2.7"), PASSWORD).await;
    assert!(matches!(r, Err(CoreError::SignInRefused { .. })), "{r:?}");
    // The real user elsewhere is slowed (the login has ten failures) but never refused.
    let (took, r) = timed(&core, attempt("imap", "198.51.100.1"), PASSWORD).await;
    assert!(r.is_ok(), "{r:?}");
    assert!(took <= cfg.account_max_delay, "{took:?}");
    // The ban ends a window after the last failure.
    tokio::time::advance(cfg.window).await;
    let (_, r) = timed(&core, attempt("imap", "192.0.2.7"), PASSWORD).await;
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn thirty_addresses_guessing_one_login_are_slowed_and_reported() {
    let (core, customer, _dir) = setup().await;
    let cfg = ThrottleConfig::default();
    let mut waits = Vec::new();
    for i in 1..=30u8 {
        let remote = format!("203.0.113.{i}");
        let (took, r) = timed(&core, attempt("imap", &remote), "guess").await;
        assert!(matches!(r, Err(CoreError::AuthFailed)), "{r:?}");
        waits.push(took);
    }
    // Every address failed once (1 s each), but the login's failures add up: from the fifth
    // on the delay doubles up to its cap.
    assert_eq!(waits[0], Duration::from_secs(1));
    assert_eq!(waits[4], Duration::from_secs(1));
    assert_eq!(waits[5], Duration::from_secs(2));
    assert_eq!(waits[6], Duration::from_secs(4));
    assert_eq!(waits[29], cfg.account_max_delay);
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    // A notice in the login's authentication log (its tenant's), at 5, 10 and 20 failures.
    let page = core
        .auth_log(
            customer,
            Some((Term::Address, ANN.into())),
            0,
            u64::MAX,
            None,
            100,
        )
        .await
        .unwrap();
    let notices: Vec<_> = page
        .records
        .iter()
        .filter(|r| r.outcome == "throttled")
        .collect();
    assert_eq!(notices.len(), 3, "{notices:?}");
    assert!(notices.iter().all(|n| n.reason.contains("slowed down")));
    assert!(
        notices
            .iter()
            .any(|n| n.reason.starts_with("20 failed sign-ins"))
    );

    // The real user, from a new address, with the right password: slowed, never locked.
    let (took, r) = timed(&core, attempt("imap", "198.51.100.20"), PASSWORD).await;
    assert!(r.is_ok(), "{r:?}");
    assert!(took <= cfg.account_max_delay, "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn the_counts_live_in_the_store_and_every_core_on_it_sees_them() {
    let (core, _, _dir) = setup().await;
    // A second handle with its own policy object, as another service or process would have.
    let other = core.clone().with_sign_in_policy(SignInPolicy {
        throttle: ThrottleConfig {
            ban_after: 3,
            ..ThrottleConfig::default()
        },
        ..SignInPolicy::default()
    });
    for _ in 0..3 {
        let (_, r) = timed(&core, attempt("pop3", "192.0.2.50"), "wrong").await;
        assert!(matches!(r, Err(CoreError::AuthFailed)), "{r:?}");
    }
    let (_, r) = timed(&other, attempt("imap", "192.0.2.50"), PASSWORD).await;
    assert!(matches!(r, Err(CoreError::SignInRefused { .. })), "{r:?}");
    assert!(
        other
            .sign_in_ban("192.0.2.50".parse().unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

//! ManageSieve under the sign-in policy every service shares: no PLAIN before TLS where the
//! core does not allow it, failures slowed across connections, and an address banned on
//! another service (SMTP) refused here with the right password.

mod managesieve_common;

use std::time::{Duration, Instant};

use managesieve_common::{PASSWORD, Raw, USER, start_with_policy};
use marque_core::authlog::Attempt;
use marque_core::signin::{SignInPolicy, ThrottleConfig};
use marque_hosting::sieve::SieveLimits;

fn throttle() -> ThrottleConfig {
    ThrottleConfig {
        first_delay: Duration::from_millis(200),
        max_delay: Duration::from_millis(800),
        account_max_delay: Duration::from_millis(800),
        ban_after: 4,
        ..ThrottleConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plain_before_tls_where_the_core_does_not_allow_it() {
    let policy = SignInPolicy {
        cleartext_networks: Vec::new(),
        ..SignInPolicy::default()
    };
    let server = start_with_policy(SieveLimits::default(), policy, |s| s).await;
    let mut c = Raw::connect(server.port).await;
    let caps = c.cmd("CAPABILITY\r\n").await;
    assert!(caps.contains("\"SASL\" \"\""), "{caps}");
    assert!(caps.contains("\"STARTTLS\""), "{caps}");
    let r = c.login(USER, PASSWORD).await;
    assert!(r.starts_with("NO (ENCRYPT-NEEDED)"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_wait_longer_on_each_new_connection() {
    let policy = SignInPolicy {
        throttle: ThrottleConfig {
            ban_after: 100,
            ..throttle()
        },
        ..SignInPolicy::default()
    };
    let server = start_with_policy(SieveLimits::default(), policy, |s| s).await;
    let mut waits = Vec::new();
    for i in 0..4 {
        // A new connection each time: the delay is the address's, not the connection's.
        let mut c = Raw::connect(server.port).await;
        let started = Instant::now();
        let r = c.login(USER, &format!("wrong {i}")).await;
        assert!(r.starts_with("NO "), "{r}");
        waits.push(started.elapsed());
    }
    for (wait, least) in waits.iter().zip([200, 400, 800, 800]) {
        assert!(
            *wait >= Duration::from_millis(least),
            "failures must slow down across connections: {waits:?}"
        );
    }
    // The right password still works.
    let mut c = Raw::connect(server.port).await;
    let r = c.login(USER, PASSWORD).await;
    assert!(r.starts_with("OK"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_banned_on_smtp_is_refused_here() {
    let server = start_with_policy(
        SieveLimits::default(),
        SignInPolicy {
            throttle: throttle(),
            ..SignInPolicy::default()
        },
        |s| s,
    )
    .await;
    // Failed SMTP AUTHs from 127.0.0.1, as the SMTP service records them.
    for _ in 0..4 {
        let attempt = Attempt {
            protocol: "smtp",
            login: USER,
            remote: "127.0.0.1",
            mechanism: "PLAIN",
        };
        assert!(server.core.sign_in(attempt, "wrong").await.is_err());
    }
    let mut c = Raw::connect(server.port).await;
    let r = c.login(USER, PASSWORD).await;
    assert!(r.starts_with("NO (TRYLATER)"), "{r}");
}

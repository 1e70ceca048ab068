//! The POP3 server against Python's poplib (and raw sockets for pipelining and odd input),
//! over 127.0.0.1: every command, STLS and implicit TLS, SASL PLAIN, failed sign-ins in the
//! authentication log, the maildrop lock, DELE only at QUIT, stable UIDL, pipelining, and
//! overlong lines. The scripts are in `tests/pop3/poplib_client.py`.

#[path = "pop3/common.rs"]
mod common;

use common::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_over_stls_and_dele_takes_effect_at_quit() {
    let server = Server::start().await;
    let before = server.uids().await;
    assert_eq!(before.len(), 3);
    let usage_before = server.usage().await;
    let out = server.python("poplib_client.py", &["every_command"]).await;
    // Message 2 (the one deleted before QUIT) is gone, and its usage with it.
    let after = server.uids().await;
    assert_eq!(after, vec![before[0], before[2]], "{out}");
    let freed = usage_before - server.usage().await;
    // Stored with CRLF line ends: the size every client is told.
    let size2 = marque_store::mail::messages::crlf(&common::messages()[1]).len() as i64;
    assert_eq!(
        freed, size2,
        "usage drops by the stored size of the removed message"
    );
    assert!(out.contains(&format!(".{}\"}}", before[1])), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["implicit_tls"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plain_with_and_without_initial_response() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["sasl_plain"]).await;
    let log = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 50)
        .await
        .expect("auth log");
    assert!(
        log.records
            .iter()
            .any(|r| r.protocol == "pop3" && r.mechanism == "PLAIN" && r.outcome == "success")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_logged() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["wrong_password"]).await;
    let log = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 50)
        .await
        .expect("auth log");
    let pop3: Vec<_> = log
        .records
        .iter()
        .filter(|r| r.protocol == "pop3")
        .map(|r| (r.mechanism.as_str(), r.outcome.as_str(), r.remote.as_str()))
        .collect();
    // Newest first.
    assert_eq!(
        pop3,
        vec![
            ("USER/PASS", "success", "127.0.0.1"),
            ("USER/PASS", "failure", "127.0.0.1")
        ]
    );
    assert!(
        log.records
            .iter()
            .all(|r| !r.reason.contains("wrong secret")),
        "no secret in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_gets_in_use() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["in_use"]).await;
    assert!(!server.pop3.locks().is_locked(server.account));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_deletes_nothing() {
    let server = Server::start().await;
    let before = server.uids().await;
    server
        .python("poplib_client.py", &["dele_needs_quit"])
        .await;
    assert_eq!(server.uids().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uidl_is_stable_across_sessions() {
    let server = Server::start().await;
    let uids = server.uids().await;
    let out = server.python("poplib_client.py", &["uidl_stable"]).await;
    // The ids name the UIDs of the messages that remain.
    for uid in &uids[1..] {
        assert!(out.contains(&format!(".{uid}\"")), "{out}");
    }
    // A message delivered later gets an id no message had.
    let new_uid = common::append(&server.core, server.account, b"Subject: new\r\n\r\nx\r\n").await;
    assert!(!uids.contains(&new_uid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commands_are_answered_in_order() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["pipelining"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlong_lines_are_refused_without_buffering() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["overlong"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_after_stls_is_dropped() {
    let server = Server::start().await;
    server.python("poplib_client.py", &["stls_injection"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_close_the_session() {
    let server = Server::start().await;
    server
        .python("poplib_client.py", &["too_many_failures"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_in_clear_where_the_client_is_not_allowed() {
    // No network may sign in in clear: 127.0.0.1 is treated like any remote client.
    let policy = marque_core::signin::SignInPolicy {
        cleartext_networks: Vec::new(),
        ..Server::fast_sign_in()
    };
    let server = Server::start_with_policy(policy, |p| p).await;
    server
        .python("poplib_client.py", &["no_password_in_clear"])
        .await;
    // Nothing was checked in clear: the only sign-in recorded is the one over TLS.
    let log = server
        .core
        .auth_log(server.customer, None, 0, u64::MAX, None, 50)
        .await
        .expect("auth log");
    let outcomes: Vec<&str> = log.records.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["success"]);
}

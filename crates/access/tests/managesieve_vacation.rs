//! PUTSCRIPT and CHECKSCRIPT refuse a `vacation` that would send as someone else or with a
//! header line break, where the script's text tells: a literal `:from` that is not one of the
//! user's addresses, a literal `:subject` or `:from` with CR LF (typed or as encoded
//! characters), and a `:mime` reason with a field other than `Content-*`.

mod managesieve_common;

use managesieve_common::{PASSWORD, Raw, USER, start};
use marque_hosting::sieve::SieveLimits;

fn put(name: &str, script: &str) -> String {
    format!("PUTSCRIPT \"{name}\" {{{}+}}\r\n{script}\r\n", script.len())
}

fn check(script: &str) -> String {
    format!("CHECKSCRIPT {{{}+}}\r\n{script}\r\n", script.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_scripts_that_would_spoof_or_inject_are_refused_at_upload() {
    let server = start(SieveLimits::default(), |s| s).await;
    let mut c = Raw::connect(server.port).await;
    assert!(c.login(USER, PASSWORD).await.starts_with("OK"));

    let own = "require \"vacation\";\r\nvacation :from \"Ann <ann@c.example>\" :subject \"Away\" \"Back Monday.\";\r\n";
    assert!(c.cmd(&put("own", own)).await.starts_with("OK"));

    for (script, says) in [
        (
            "require \"vacation\";\r\nvacation :from \"security@bank.example\" \"x\";\r\n",
            "security@bank.example",
        ),
        (
            "require \"vacation\";\r\nvacation :from \"bob@c.example\" \"x\";\r\n",
            "bob@c.example",
        ),
        (
            "require \"vacation\";\r\nvacation :from \"Me <ann@c.example>\r\nBcc: x@remote.example\" \"x\";\r\n",
            "line break",
        ),
        (
            "require \"vacation\";\r\nvacation :subject \"Away\r\nBcc: x@remote.example\" \"x\";\r\n",
            "line break",
        ),
        (
            "require [\"vacation\", \"encoded-character\"];\r\nvacation :subject \"Away${hex:0D 0A}Bcc: x@remote.example\" \"x\";\r\n",
            "line break",
        ),
        (
            "require \"vacation\";\r\nvacation :mime text:\r\nContent-Type: text/plain\r\nBcc: x@remote.example\r\n\r\nAway\r\n.\r\n;\r\n",
            "bcc",
        ),
    ] {
        let r = c.cmd(&put("bad", script)).await;
        assert!(r.starts_with("NO "), "{script:?}: {r}");
        assert!(r.contains(says), "{script:?}: {r}");
    }
    // CHECKSCRIPT knows no user: it refuses the line breaks, not the foreign sender.
    let r = c
        .cmd(&check(
            "require \"vacation\";\r\nvacation :subject \"Away\r\nBcc: x@remote.example\" \"x\";\r\n",
        ))
        .await;
    assert!(r.starts_with("NO ") && r.contains("line break"), "{r}");
    let r = c.cmd("LISTSCRIPTS\r\n").await;
    assert!(!r.contains("\"bad\""), "{r}");
}

//! The operator commands against a real data directory.

mod common;

use common::{MARQUE, write_config};
use marque_tests::clients::succeeded;

#[test]
fn tenants_domains_mailboxes_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let c = config.to_str().unwrap();

    // The first command on an empty data directory bootstraps it.
    let list = succeeded("marque", &MARQUE.run(&["tenant", "list", "--config", c]));
    assert!(list.contains("provider"), "{list}");
    assert!(dir.path().join("data/admin-token").exists());

    let out = succeeded(
        "marque",
        &MARQUE.run(&[
            "tenant",
            "create",
            "--config",
            c,
            "--name",
            "Acme Hosting",
            "--kind",
            "reseller",
        ]),
    );
    assert_eq!(out, "created reseller 2 \"Acme Hosting\" under tenant 1\n");
    let out = succeeded(
        "marque",
        &MARQUE.run(&[
            "tenant",
            "create",
            "--config",
            c,
            "--name",
            "Example Ltd",
            "--kind",
            "customer",
            "--parent",
            "2",
        ]),
    );
    assert_eq!(out, "created customer 3 \"Example Ltd\" under tenant 2\n");
    let list = succeeded("marque", &MARQUE.run(&["tenant", "list", "--config", c]));
    let rows: Vec<_> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["1", "provider", "-"],
            vec!["2", "reseller", "1"],
            vec!["3", "customer", "2"]
        ]
    );

    succeeded(
        "marque",
        &MARQUE.run(&[
            "domain",
            "create",
            "example.com",
            "--tenant",
            "3",
            "--config",
            c,
        ]),
    );
    // The DKIM records: made on first ask, the same on the second, no private key shown.
    let dkim = succeeded(
        "marque",
        &MARQUE.run(&["domain", "dkim", "example.com", "--config", c]),
    );
    let lines: Vec<&str> = dkim.lines().collect();
    assert_eq!(lines.len(), 2, "{dkim}");
    assert!(lines[0].starts_with("marque-rsa-"), "{dkim}");
    assert!(lines[0].contains("._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p="));
    assert!(lines[1].starts_with("marque-ed-"), "{dkim}");
    assert!(lines[1].contains("\"v=DKIM1; k=ed25519; p="), "{dkim}");
    assert!(!dkim.contains("PRIVATE"));
    assert_eq!(
        succeeded(
            "marque",
            &MARQUE.run(&["domain", "dkim", "example.com", "--config", c])
        ),
        dkim
    );
    let out = succeeded(
        "marque",
        &MARQUE.run_with_stdin(
            &[
                "mailbox",
                "create",
                "anna@example.com",
                "--quota-mb",
                "512",
                "--password-stdin",
                "--config",
                c,
            ],
            "correct horse battery staple\n",
        ),
    );
    assert!(
        out.starts_with("created mailbox anna@example.com (512 MB"),
        "{out}"
    );
    succeeded(
        "marque",
        &MARQUE.run_with_stdin(
            &[
                "mailbox",
                "password",
                "anna@example.com",
                "--password-stdin",
                "--config",
                c,
            ],
            "another long passphrase\n",
        ),
    );

    let usage = succeeded(
        "marque",
        &MARQUE.run(&["usage", "--tenant", "2", "--json", "--config", c]),
    );
    let usage: serde_json::Value = serde_json::from_str(&usage).unwrap();
    assert_eq!(usage["tenant"]["counts"]["domains"], 1);
    assert_eq!(usage["tenant"]["counts"]["storage_allocated"], 512 << 20);
    let table = succeeded("marque", &MARQUE.run(&["usage", "--config", c]));
    assert!(table.contains("Acme Hosting"), "{table}");

    // Errors from the core come back as a non-zero exit with the reason.
    let out = MARQUE.run(&[
        "domain",
        "create",
        "example.com",
        "--tenant",
        "3",
        "--config",
        c,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = MARQUE.run(&[
        "tenant", "create", "--name", "x", "--kind", "customer", "--parent", "99", "--config", c,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));

    // The server starts on what the commands made, and keeps the first token.
    let token = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let mut server = MARQUE.serve(&config, &[], &[]);
    assert!(server.terminate().success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap(),
        token
    );
}

#[test]
fn an_empty_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &["smtp"]);
    let out = MARQUE.run_with_stdin(
        &[
            "mailbox",
            "create",
            "a@example.com",
            "--quota-mb",
            "1",
            "--password-stdin",
            "--config",
            config.to_str().unwrap(),
        ],
        "\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the password is empty"));
}

//! Every CSV the platform serves keeps spreadsheet formulas inert (OWASP "CSV Injection"): the
//! usage export through the API and the panel's download, read back with Python's `csv`
//! module, carry names such as `=HYPERLINK(...)` as text with a leading `'`.

mod common;

use std::process::Command;

use common::panel::PanelClient;
use common::start;
use serde_json::json;

/// Tenant names a spreadsheet would run, and the cell each must come out as.
const NAMES: &[(&str, &str)] = &[
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("@SUM(1)", "'@SUM(1)"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    // Names are trimmed when stored: the tab never reaches the export.
    ("\tX", "X"),
    ("Plain, \"quoted\" name", "Plain, \"quoted\" name"),
];

/// Parses CSV text with Python's csv module (RFC 4180 dialect "excel").
fn parse(text: &str) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("export.csv");
    std::fs::write(&file, text).expect("write");
    let out = Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys\n\
             print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))",
        ])
        .arg(&file)
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON rows")
}

/// Checks one export: every name present as its neutralised cell, and no cell at all starting
/// with a character that makes a formula.
fn check(what: &str, text: &str) {
    let rows = parse(text);
    assert_eq!(rows[0][3], "customer_name", "{what}: {text}");
    let names: Vec<&str> = rows[1..].iter().map(|r| r[3].as_str()).collect();
    for (_, want) in NAMES {
        assert!(
            names.contains(want),
            "{what}: {want:?} missing in {names:?}"
        );
    }
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{what}: formula cell {cell:?}"
        );
    }
}

// curl runs synchronously in the panel client: the server needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_names_are_neutralised_in_every_csv() {
    let s = start().await;
    let (r, tok) = s.reseller("Reseller").await;
    for (name, _) in NAMES {
        s.create(
            "/api/v1/tenants",
            &tok,
            json!({"name": name, "kind": "customer"}),
        )
        .await;
    }
    s.create(
        "/api/v1/managers",
        &tok,
        json!({"tenant": r, "login": "billing", "password": "billing-password", "kind": "admin"}),
    )
    .await;
    let now = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", now.year(), u8::from(now.month()));

    let api = s
        .get(
            &format!("/api/v1/usage?tenant={r}&month={month}&format=csv"),
            &tok,
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    check("API", &api.body);

    let panel = PanelClient::new(&s);
    panel.sign_in("billing", "billing-password");
    let page = panel.get(&format!("/admin/usage.csv?month={month}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.headers.contains("content-type: text/csv"));
    check("panel", &page.body);
}

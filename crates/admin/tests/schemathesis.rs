//! Property tests of the live API against its own OpenAPI document with schemathesis (PyPI),
//! as the provider administrator. Needs the `schemathesis` command (`pip install schemathesis`);
//! fails, not skips, without it.

mod common;

use common::{ADMIN, start_with};
use marque_admin::Settings;

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_failures() {
    // No rate limit in the way of a few thousand generated requests.
    let s = start_with(Settings {
        burst: 1_000_000,
        per_second: 1_000_000.0,
        ..Settings::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = tokio::process::Command::new("schemathesis")
        .current_dir(dir.path())
        .args([
            "run",
            &s.url("/api/v1/openapi.json"),
            "--header",
            &format!("Authorization: Bearer {ADMIN}"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-color",
            // These would revoke or disable the very credential the run uses.
            "--exclude-operation-id",
            "delete_api_v1_tokens__id_",
            "--exclude-operation-id",
            "delete_api_v1_managers__id_",
            "--exclude-operation-id",
            "patch_api_v1_managers__id_",
            "--generation-with-security-parameters",
            "false",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .await
        .expect("schemathesis must be installed (pip install schemathesis)");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(
        out.status.success(),
        "schemathesis reported failures:\n{text}"
    );
}

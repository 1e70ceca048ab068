//! Real clients run as programs: Python scripts (smtplib, imaplib, poplib...), swaks,
//! fetchmail, curl. A test that needs a missing program fails and says which Debian package
//! provides it.

use std::path::PathBuf;
use std::process::Output;

/// `python3`, killed if the test drops it before it ends; the caller adds the script
/// (`-c PROGRAM` or a file) and its arguments.
pub fn python() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.kill_on_drop(true);
    cmd
}

/// Runs a Python client to its end; it must exit 0. Its standard output.
pub async fn run_python(what: &str, cmd: &mut tokio::process::Command) -> String {
    let out = cmd
        .output()
        .await
        .expect("python3 must be installed (Debian package python3)");
    succeeded(what, &out)
}

/// Checks that a client exited with 0 and returns its standard output.
pub fn succeeded(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout
}

/// The path of `tool`; a test that needs it fails with a clear message if it is missing.
pub fn require(tool: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{tool}` is not installed: this test needs the Debian package `{package}`")
        })
}

//! A browser-like client of the web panel: curl with a cookie jar.

use std::path::PathBuf;
use std::process::Command;

use super::Server;

/// A signed-in (or not yet) panel client.
pub struct PanelClient {
    pub base: String,
    jar: PathBuf,
    _dir: tempfile::TempDir,
}

/// One answer: status, header block (lower-cased), body.
pub struct PanelPage {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl PanelClient {
    pub fn new(s: &Server) -> PanelClient {
        let dir = tempfile::tempdir().expect("temp dir");
        PanelClient {
            base: s.url(""),
            jar: dir.path().join("jar"),
            _dir: dir,
        }
    }

    pub fn run(&self, method: &str, path: &str, form: Option<&str>) -> PanelPage {
        let head = self.jar.with_extension("head");
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "30", "-X", method, "-D"])
            .arg(&head)
            .arg("-b")
            .arg(&self.jar)
            .arg("-c")
            .arg(&self.jar)
            .args(["-w", "\n%{http_code}"]);
        if let Some(f) = form {
            cmd.args(["--data-raw", f]);
        }
        let out = cmd
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("curl must be installed (Debian package curl)");
        assert!(
            out.status.success(),
            "curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').expect("status line");
        PanelPage {
            status: code.trim().parse().expect("status"),
            headers: std::fs::read_to_string(&head)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            body: body.to_string(),
        }
    }

    pub fn get(&self, path: &str) -> PanelPage {
        self.run("GET", path, None)
    }

    /// Signs in with a login (or address) and password; panics unless the panel answers with
    /// the redirect of a good sign-in.
    pub fn sign_in(&self, login: &str, password: &str) {
        let form =
            serde_urlencoded::to_string([("login", login), ("password", password)]).expect("form");
        let r = self.run("POST", "/admin/login", Some(&form));
        assert_eq!(r.status, 303, "sign-in of {login}: {}", r.body);
    }
}

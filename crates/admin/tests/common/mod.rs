//! Shared set-up: a bootstrapped core behind the API on 127.0.0.1:0, driven with `curl`.

#![allow(dead_code)]

pub mod panel;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use marque_admin::{Api, Settings};
use marque_core::Core;
use marque_hosting::Hosting;
use marque_hosting::webhook_target::TargetPolicy;
use marque_tests::services::loopback;
use marque_tests::{Offer, Platform, Services};
use serde_json::Value;

/// The provider administrator's token in every test.
pub const ADMIN: &str = "provider-admin-token-for-tests";

/// A running API; dropping it stops the server.
pub struct Server {
    pub addr: SocketAddr,
    pub core: Core,
    pub hosting: Hosting,
    _services: Services,
    _dir: tempfile::TempDir,
}

/// Starts the API with default settings.
pub async fn start() -> Server {
    start_with(Settings::default()).await
}

/// Starts the API with `settings`.
pub async fn start_with(settings: Settings) -> Server {
    start_with_core(settings, |core| core).await
}

/// Webhooks may reach loopback in these tests (their receivers run on 127.0.0.1), but never
/// the API itself at `api`: what `[webhooks] allow_networks = ["127.0.0.0/8"]` gives.
pub fn loopback_webhooks(api: SocketAddr) -> TargetPolicy {
    TargetPolicy {
        allow: vec!["127.0.0.0/8".parse().expect("range")],
        own: vec![api],
    }
}

/// Starts the API with `settings` over a core set up by `configure`, its hosting features
/// with [`loopback_webhooks`].
pub async fn start_with_core(
    settings: Settings,
    configure: impl FnOnce(Core) -> Core + Send + 'static,
) -> Server {
    start_at(settings, |core, api| {
        Hosting::new(configure(core)).with_webhook_targets(loopback_webhooks(api))
    })
    .await
}

/// Starts the API with `settings` over the hosting features as `configure` sets them up
/// (DNS settings, the server's host name...).
pub async fn start_with_hosting(
    settings: Settings,
    configure: impl FnOnce(Hosting) -> Hosting + Send + 'static,
) -> Server {
    start_at(settings, |core, api| {
        configure(Hosting::new(core)).with_webhook_targets(loopback_webhooks(api))
    })
    .await
}

/// Starts the API with `settings` over the hosting features `configure` sets up over the core,
/// told the API's own address.
pub async fn start_at(
    settings: Settings,
    configure: impl FnOnce(Core, SocketAddr) -> Hosting,
) -> Server {
    let tcp = loopback().await;
    let addr = tcp.local_addr().expect("address");
    let Platform { core, dir, .. } = Platform::builder().admin_token(ADMIN).build().await;
    let hosting = configure(core, addr);
    let core = hosting.core().clone();
    let services = Services::new(Duration::from_secs(1));
    let api = Arc::new(Api::new(&hosting, "admin.test", settings));
    services.serve("http", tcp, Offer::Plain, api);
    Server {
        addr,
        core,
        hosting,
        _services: services,
        _dir: dir,
    }
}

/// One HTTP exchange as curl saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header lines, lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Asserts an RFC 9457 problem document with `status`.
    pub fn assert_problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "status {status}"
        );
        let v = self.json();
        assert_eq!(v["status"], status);
        for m in ["type", "title", "detail"] {
            assert!(v[m].is_string(), "member {m} in {v}");
        }
        v
    }
}

impl Server {
    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request with curl: method, path, bearer token, JSON body, extra headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        extra: &[&str],
    ) -> Reply {
        let dir = tempfile::tempdir().expect("temp dir");
        let head = dir.path().join("head");
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args(["-sS", "-X", method, "-D"]).arg(&head).args([
            "-w",
            "\n%{http_code}",
            "--max-time",
            "30",
        ]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        if body.is_some() {
            let typed = extra
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("content-type:"));
            if !typed {
                cmd.args(["-H", "Content-Type: application/json"]);
            }
            cmd.args(["--data-binary", "@-"]);
        }
        for h in extra {
            cmd.args(["-H", h]);
        }
        cmd.arg(self.url(path));
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd
            .spawn()
            .expect("curl must be installed (Debian package curl)");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = body.unwrap_or("").as_bytes().to_vec();
        // The body goes through stdin: it may be larger than an argument may be.
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = stdin.write_all(&input).await;
        });
        let out = child.wait_with_output().await.expect("curl runs");
        let _ = writer.await;
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("UTF-8 answer");
        let (body, code) = text.rsplit_once('\n').expect("status line from -w");
        let raw = std::fs::read_to_string(&head).expect("header file");
        let headers = raw
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Reply {
            status: code.trim().parse().expect("status code"),
            headers,
            body: body.to_string(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call("POST", path, Some(token), Some(&body.to_string()), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call("PATCH", path, Some(token), Some(&body.to_string()), &[])
            .await
    }

    /// POSTs and expects `201`; returns the JSON answer.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let r = self.post(path, token, &body).await;
        assert_eq!(r.status, 201, "POST {path} {body}: {}", r.body);
        r.json()
    }

    /// Creates a reseller under the provider and a token acting as its administrator.
    pub async fn reseller(&self, name: &str) -> (u64, String) {
        let t = self
            .create(
                "/api/v1/tenants",
                ADMIN,
                serde_json::json!({"name": name, "kind": "reseller"}),
            )
            .await;
        let id = t["id"].as_u64().expect("tenant id");
        let tok = self
            .create(
                "/api/v1/tokens",
                ADMIN,
                serde_json::json!({"name": format!("{name} api"), "tenant": id}),
            )
            .await;
        (id, tok["token"].as_str().expect("secret").to_string())
    }
}

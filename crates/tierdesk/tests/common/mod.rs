//! Helpers shared by the process-level tests: run the real binary, start servers, call them.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tierdesk_store::DatabaseUrl;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tierdesk")
}

/// A command for the binary. The search index is kept in memory unless the test sets
/// `TIERDESK_KB_INDEX` (or `--kb-index`), so no test writes an index into the source tree.
pub fn tierdesk() -> Command {
    let mut c = Command::new(bin());
    c.env("TIERDESK_KB_INDEX", "memory");
    c
}

/// The URL text the CLI takes.
pub fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `tierdesk serve` on `url` and `port` with `extra` arguments, without waiting.
pub fn spawn(url: &str, port: u16, extra: &[&str]) -> Child {
    tierdesk()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts `tierdesk serve` on `url` with `extra` arguments and waits until it is ready.
pub async fn start(url: &str, extra: &[&str]) -> Server {
    let port = free_port();
    let mut child = spawn(url, port, extra);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

/// Runs the CLI on `url`; asserts success and returns stdout.
pub fn cli(url: &str, args: &[&str]) -> String {
    let out = tierdesk()
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Calls the API; asserts a 2xx and returns the JSON body.
pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {v}");
    v
}

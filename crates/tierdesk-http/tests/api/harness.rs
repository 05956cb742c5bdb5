//! TestApp: a server on 127.0.0.1:0 over a fresh database holding the demo organisation.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tierdesk_app::{App, ManualClock, demo};
use tierdesk_store::testing::TestDb;

/// A running server and its clock.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub tokens: HashMap<String, String>,
    pub backend: &'static str,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: Option<TestDb>,
}

/// The fixed start of every test clock.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
}

/// A response.
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl TestApp {
    pub async fn start(db: TestDb) -> TestApp {
        let clock = Arc::new(ManualClock::new(t0()));
        let url = db.url.clone();
        let c2 = clock.clone();
        let (app, summary) = tokio::task::spawn_blocking(move || {
            let app = App::open(&url, c2).unwrap();
            let summary = demo::load(&app).unwrap();
            (app, summary)
        })
        .await
        .unwrap();
        let tokens = summary.tokens.into_iter().map(|(u, _, t)| (u, t)).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server_app = app.clone();
        tokio::spawn(async move {
            tierdesk_http::serve(listener, server_app, false, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            app,
            clock,
            tokens,
            backend: db.backend,
            shutdown: Some(tx),
            _db: Some(db),
        }
    }

    pub fn token(&self, user: &str) -> String {
        self.tokens
            .get(user)
            .cloned()
            .unwrap_or_else(|| panic!("no token for {user}"))
    }

    pub async fn call(
        &self,
        method: Method,
        user: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(u) = user {
            req = req.bearer_auth(self.token(u));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, user: &str, path: &str) -> Resp {
        self.call(Method::GET, Some(user), path, None).await
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> Resp {
        self.call(Method::POST, Some(user), path, Some(body)).await
    }

    /// Runs a blocking closure against the app (store checks).
    pub async fn with_app<R: Send + 'static>(
        &self,
        f: impl FnOnce(&App) -> R + Send + 'static,
    ) -> R {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || f(&app)).await.unwrap()
    }

    /// Stops the server and drops the store off the async workers.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let app = self.app.clone();
        let db = self._db.take();
        drop(self);
        tokio::task::spawn_blocking(move || {
            drop(app);
            drop(db);
        })
        .await
        .unwrap();
    }
}

/// Runs `test` once per configured backend.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    let dbs = tokio::task::spawn_blocking(TestDb::all).await.unwrap();
    for db in dbs {
        let app = TestApp::start(db).await;
        let app = test(app).await;
        app.stop().await;
    }
}

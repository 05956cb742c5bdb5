//! SLA timers with real processes and real time: warnings and breaches fire exactly once across
//! a SIGKILL between them, and with two server processes sharing one PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use tierdesk_store::testing::TestDb;

mod common;
use common::{Server, call, cli, url_text};

/// Demo organisation, a 2-second L1 response policy and a breach rule that escalates.
async fn setup(url: &str, server: &Server, target: &str, warn_at: f64) -> String {
    cli(url, &["demo", "--json"]);
    let admin = cli(url, &["token", "create", "--user", "admin"]);
    let client = reqwest::Client::new();
    call(
        &client,
        reqwest::Method::PUT,
        format!("{}/api/v1/sla/policies", server.base),
        &admin,
        Some(
            json!([{"name": "fast", "match": {"service": ["web-app"]}, "response": {"L1": target}, "warn_at": warn_at}]),
        ),
    )
    .await;
    call(&client, reqwest::Method::PUT, format!("{}/api/v1/escalation-rules", server.base), &admin,
        Some(json!([{"name": "breach to L2", "on": "breach", "clock": "response", "tier": "L1", "actions": [{"escalate": {}}]}]))).await;
    admin
}

async fn kinds(client: &reqwest::Client, base: &str, token: &str, key: &str) -> Vec<String> {
    let tl = call(
        client,
        reqwest::Method::GET,
        format!("{base}/api/v1/tickets/{key}/timeline"),
        token,
        None,
    )
    .await;
    tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    kind: &str,
    secs: u64,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let k = kinds(client, base, token, key).await;
        if k.iter().any(|x| x == kind) || Instant::now() > deadline {
            return k;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sigkill_between_warning_and_breach(db: TestDb) {
    let url = url_text(&db.url);
    let server = common::start(&url, &[]).await;
    // Warning at 2 s, breach at 8 s: a wide window to kill the server in between.
    let admin = setup(&url, &server, "8s", 0.25).await;
    let client = reqwest::Client::new();
    let t = call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/tickets", server.base),
        &admin,
        Some(json!({"title": "Slow checkout", "service": "web-app"})),
    )
    .await;
    let key = t["key"].as_str().unwrap().to_owned();
    let k = wait_for(&client, &server.base, &admin, &key, "sla_warning", 10).await;
    assert_eq!(
        k,
        ["created", "sla_warning"],
        "[{}] the warning fired at 2 s, the breach is due at 8 s",
        db.backend
    );
    drop(server); // SIGKILL before the breach at 8 s
    tokio::time::sleep(Duration::from_millis(800)).await;
    let server = common::start(&url, &[]).await;
    let k = wait_for(&client, &server.base, &admin, &key, "escalated", 15).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let k2 = kinds(&client, &server.base, &admin, &key).await;
    assert_eq!(
        k,
        ["created", "sla_warning", "sla_breach", "escalated"],
        "[{}]",
        db.backend
    );
    assert_eq!(
        k2, k,
        "[{}] nothing fires twice after the restart",
        db.backend
    );
    let t = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/tickets/{key}", server.base),
        &admin,
        None,
    )
    .await;
    assert_eq!(t["tier"], "L2");
    drop(server);
    tokio::task::spawn_blocking(move || drop(db)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firings_survive_sigkill_exactly_once() {
    let dbs = tokio::task::spawn_blocking(TestDb::all).await.unwrap();
    for db in dbs {
        sigkill_between_warning_and_breach(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_fire_each_clock_once() {
    let Some(db) = tokio::task::spawn_blocking(TestDb::postgres).await.unwrap() else {
        eprintln!("skipped: no PostgreSQL configured");
        return;
    };
    let url = url_text(&db.url);
    let a = common::start(&url, &[]).await;
    let admin = setup(&url, &a, "2s", 0.75).await;
    let b = common::start(&url, &[]).await;
    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let t = call(
            &client,
            reqwest::Method::POST,
            format!("{base}/api/v1/tickets"),
            &admin,
            Some(json!({"title": format!("shared {i}"), "service": "web-app"})),
        )
        .await;
        keys.push(t["key"].as_str().unwrap().to_owned());
    }
    // Wait until every ticket has escalated (breach at 2 s), then a little longer so that a
    // duplicate firing, if the exactly-once guard failed, would have time to show up.
    let deadline = Instant::now() + Duration::from_secs(20);
    for key in &keys {
        wait_for(
            &client,
            &a.base,
            &admin,
            key,
            "escalated",
            deadline
                .saturating_duration_since(Instant::now())
                .as_secs()
                .max(1),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for key in &keys {
        let k = kinds(&client, &a.base, &admin, key).await;
        let count = |kind: &str| k.iter().filter(|x| *x == kind).count();
        assert_eq!(
            (
                count("sla_warning"),
                count("sla_breach"),
                count("escalated")
            ),
            (1, 1, 1),
            "{key}: {k:?}"
        );
    }
    drop(a);
    drop(b);
    tokio::task::spawn_blocking(move || drop(db)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_retries_survive_a_restart_during_backoff() {
    use std::sync::{Arc, Mutex};
    let db = tokio::task::spawn_blocking(TestDb::sqlite).await.unwrap();
    let url = url_text(&db.url);
    // A receiver that fails the first three deliveries.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s2 = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let seen = s2.clone();
            async move {
                let mut v = seen.lock().unwrap();
                v.push(body);
                if v.len() <= 3 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let server = common::start(&url, &[]).await;
    let admin = setup(&url, &server, "2s", 0.75).await;
    let client = reqwest::Client::new();
    call(
        &client,
        reqwest::Method::PUT,
        format!("{}/api/v1/webhooks/ops", server.base),
        &admin,
        Some(json!({"url": hook, "secret": "0123456789abcdef", "events": ["created"]})),
    )
    .await;
    call(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/tickets", server.base),
        &admin,
        Some(json!({"title": "hooked"})),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await; // the failed attempt is recorded
    drop(server); // SIGKILL during the backoff
    let server = common::start(&url, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        4,
        "three failures, then delivered once after the restart"
    );
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "the same payload each time"
    );
    let attempts = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/webhooks/ops/attempts", server.base),
        &admin,
        None,
    )
    .await;
    assert_eq!(attempts["items"].as_array().unwrap().len(), 4);
    drop(server);
    tokio::task::spawn_blocking(move || drop(db)).await.unwrap();
}

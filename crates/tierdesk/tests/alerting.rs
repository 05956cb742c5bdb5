//! Alert intake with real processes: a real Prometheus Alertmanager delivering to tierdesk (one
//! incident per group, resolved when the alerts resolve), and SIGKILL during an alert flood
//! (every event that got a 2xx is there after the restart).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tierdesk_store::Store;
use tierdesk_store::testing::TestDb;

mod common;
use common::{call, cli, free_port, url_text};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

async fn integration(base: &str, admin: &str, kind: &str) -> String {
    let v = call(
        &reqwest::Client::new(),
        Method::POST,
        format!("{base}/api/v1/integrations"),
        admin,
        Some(json!({"name": format!("{kind}-it"), "kind": kind, "storm_groups_per_minute": 0})),
    )
    .await;
    v["key"].as_str().unwrap().to_owned()
}

async fn alert_incidents(base: &str, token: &str) -> Vec<Value> {
    let v = call(
        &reqwest::Client::new(),
        Method::GET,
        format!("{base}/api/v1/tickets?channel=alert&limit=200"),
        token,
        None,
    )
    .await;
    v["items"].as_array().unwrap().clone()
}

/// Real time: Alertmanager runs on the wall clock.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_alertmanager_opens_one_incident_per_group_and_resolves_it() {
    if !std::path::Path::new(ALERTMANAGER).exists() {
        assert!(
            std::env::var("TIERDESK_REQUIRE_ALERTMANAGER").is_err(),
            "{ALERTMANAGER} is required (apt-get install prometheus-alertmanager)"
        );
        eprintln!("skipped: {ALERTMANAGER} is not installed");
        return;
    }
    let db = tokio::task::spawn_blocking(TestDb::sqlite).await.unwrap();
    let url = url_text(&db.url);
    let admin = cli(
        &url,
        &["token", "create", "--user", "am-admin", "--role", "admin"],
    );
    let server = common::start(&url, &[]).await;
    let key = integration(&server.base, &admin, "alertmanager").await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: tierdesk\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: tierdesk\n    webhook_configs:\n      - url: '{}/api/v1/intake/alertmanager'\n        send_resolved: true\n        \
             http_config:\n          authorization:\n            credentials: '{key}'\n",
            server.base
        ),
    )
    .unwrap();
    let am_port = free_port();
    let am = Killed(
        Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{am_port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let am_base = format!("http://127.0.0.1:{am_port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("{am_base}/-/ready"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(Instant::now() < deadline, "alertmanager did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let alerts = |ends: Option<String>| {
        let mk = |name: &str, instance: &str| {
            let mut a = json!({"labels": {"alertname": name, "instance": instance, "severity": "critical"},
                "annotations": {"summary": format!("{name} on {instance}"), "runbook_url": "https://runbooks.example.com/disk"},
                "generatorURL": "http://prometheus.example.com/graph?g0.expr=up"});
            if let Some(e) = &ends {
                a["endsAt"] = json!(e);
            }
            a
        };
        json!([
            mk("DiskFull", "db-1"),
            mk("DiskFull", "db-2"),
            mk("HighLatency", "web-1")
        ])
    };
    let post = |body: Value| {
        let (client, am_base) = (client.clone(), am_base.clone());
        async move {
            let r = client
                .post(format!("{am_base}/api/v2/alerts"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{}",
                r.text().await.unwrap_or_default()
            );
        }
    };
    post(alerts(None)).await;
    // Two groups (by alertname) → exactly two incidents, with both DiskFull alerts on one.
    let deadline = Instant::now() + Duration::from_secs(30);
    let incidents = loop {
        let list = alert_incidents(&server.base, &admin).await;
        if list.len() >= 2 || Instant::now() > deadline {
            break list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut titles: Vec<&str> = incidents
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        ["DiskFull", "HighLatency on web-1"],
        "{incidents:?}"
    );
    let disk = incidents.iter().find(|t| t["title"] == "DiskFull").unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let groups = call(
        &client,
        Method::GET,
        format!("{}/api/v1/tickets/{disk}/alerts", server.base),
        &admin,
        None,
    )
    .await;
    assert_eq!(groups["items"][0]["alerts"].as_array().unwrap().len(), 2);
    // Re-posting the same alerts (Prometheus does, every evaluation) opens nothing new.
    post(alerts(None)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(alert_incidents(&server.base, &admin).await.len(), 2);

    // Resolve them in Alertmanager: both incidents resolve.
    let past = (wall_now() - chrono::Duration::seconds(5)).to_rfc3339();
    post(alerts(Some(past))).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = alert_incidents(&server.base, &admin).await;
        let resolved = list.iter().filter(|t| t["status"] == "resolved").count();
        if resolved == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "incidents not resolved: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(alert_incidents(&server.base, &admin).await.len(), 2);
    drop(am);
}

async fn flood_and_kill(db: TestDb) {
    let url = url_text(&db.url);
    let admin = cli(
        &url,
        &[
            "token",
            "create",
            "--user",
            "flood-admin",
            "--role",
            "admin",
        ],
    );
    let server = common::start(&url, &[]).await;
    let key = integration(&server.base, &admin, "pagerduty").await;
    let base = server.base.clone();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let (base, key, acked) = (base.clone(), key.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                let dedup = format!("w{w}-e{i}");
                let body = json!({"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
                    "payload": {"summary": "flood", "source": "probe", "severity": "warning"}});
                match client
                    .post(format!("{base}/v2/enqueue"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 202 => {
                        acked.lock().unwrap().insert(dedup);
                    }
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut server = server;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 50, "the flood got going: {}", acked.len());
    let u = db.url.clone();
    let stored: BTreeSet<String> = tokio::task::spawn_blocking(move || {
        let store = Store::open(&u).unwrap();
        store
            .read(|r| {
                let i = r.integration_by_name("pagerduty-it")?.unwrap();
                let mut fps = BTreeSet::new();
                for g in r.alert_groups_of_integration(i.id)? {
                    for a in r.alerts_of_group(g.id)? {
                        fps.insert(a.fingerprint);
                    }
                }
                Ok::<_, tierdesk_store::StoreError>(fps)
            })
            .unwrap()
    })
    .await
    .unwrap();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "[{}] acknowledged but lost: {lost:?}",
        db.backend
    );
    // Restarted, the server answers and the flood's incidents are all there.
    let server = common::start(&url, &[]).await;
    let n = alert_incidents(&server.base, &admin).await.len();
    assert!(n > 0);
    eprintln!(
        "[{}] {} events acknowledged before SIGKILL, all stored",
        db.backend,
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_an_alert_flood_loses_nothing_acknowledged() {
    let dbs = tokio::task::spawn_blocking(TestDb::all).await.unwrap();
    for db in dbs {
        flood_and_kill(db).await;
    }
}

#[test]
fn silence_and_integration_from_the_cli() {
    let db = TestDb::sqlite();
    let url = url_text(&db.url);
    cli(&url, &["demo", "--json"]);
    let out = cli(
        &url,
        &[
            "silence",
            "add",
            "alertname=DiskFull",
            "instance=~db-.*",
            "--duration",
            "2h",
            "--comment",
            "CHG-7 disk migration",
            "--as",
            "dana",
        ],
    );
    assert!(out.starts_with("silence 1 until "), "{out}");
    let list: Value =
        serde_json::from_str(&cli(&url, &["silence", "list", "--json", "--as", "dana"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["matchers"][1]["op"], "=~");
    let bad = common::tierdesk()
        .args([
            "silence",
            "add",
            "nonsense",
            "--duration",
            "1h",
            "--comment",
            "x",
            "--as",
            "dana",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("matchers"), "{err}");
    cli(&url, &["silence", "expire", "1", "--as", "dana"]);
    let list: Value =
        serde_json::from_str(&cli(&url, &["silence", "list", "--json", "--as", "dana"])).unwrap();
    assert!(list.as_array().unwrap().is_empty());
    let key = cli(
        &url,
        &[
            "integration",
            "add",
            "prom",
            "--kind",
            "alertmanager",
            "--service",
            "web-app",
            "--tier",
            "L2",
            "--as",
            "admin",
        ],
    );
    assert_eq!(key.len(), 32, "{key}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_opens_a_missed_heartbeat_incident_within_one_interval() {
    let db = tokio::task::spawn_blocking(TestDb::sqlite).await.unwrap();
    let url = url_text(&db.url);
    let admin = cli(
        &url,
        &["token", "create", "--user", "hb-admin", "--role", "admin"],
    );
    let server = common::start(&url, &[]).await;
    let client = reqwest::Client::new();
    let v = call(
        &client,
        Method::POST,
        format!("{}/api/v1/integrations", server.base),
        &admin,
        Some(json!({"name": "watchdog", "kind": "heartbeat", "heartbeat_interval": "2s"})),
    )
    .await;
    let key = v["key"].as_str().unwrap().to_owned();
    let beat = client
        .get(format!("{}/api/v1/intake/heartbeat/{key}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(beat.status(), 200);
    let beat_at = Instant::now();
    let opened_after = loop {
        let list = alert_incidents(&server.base, &admin).await;
        if list
            .iter()
            .any(|t| t["title"] == "Heartbeat missed: watchdog" && t["status"] == "new")
        {
            break beat_at.elapsed();
        }
        assert!(
            beat_at.elapsed() < Duration::from_secs(10),
            "no incident: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        opened_after >= Duration::from_secs(2),
        "not before the interval: {opened_after:?}"
    );
    assert!(
        opened_after <= Duration::from_secs(4),
        "within one interval of the deadline: {opened_after:?}"
    );
    let beat = client
        .post(format!("{}/api/v1/intake/heartbeat", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(beat.status(), 200);
    let list = alert_incidents(&server.base, &admin).await;
    assert_eq!(list[0]["status"], "resolved", "the next beat resolves it");
}

//! Alert intake benchmark (issue 5): Alertmanager webhook batches of 100 alerts and PagerDuty
//! single events at concurrency 32, every 2xx committed; throughput, latency and RSS.

use std::sync::Arc;

use serde_json::json;

use crate::{drive, print_header, print_row, rss_mb, start, token};

async fn integration(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    body: serde_json::Value,
) -> String {
    let r = client
        .post(format!("{base}/api/v1/integrations"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    v["key"].as_str().unwrap().to_owned()
}

/// An Alertmanager notification: group `g` with `n` alerts, the `round`-th time.
fn am_batch(g: usize, n: usize, round: usize) -> String {
    let alerts: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            json!({"status": "firing",
                "labels": {"alertname": format!("Load{g}"), "instance": format!("host-{i}:9100"), "job": "node", "severity": "warning"},
                "annotations": {"summary": format!("High load on host-{i}"), "value": format!("{round}")},
                "startsAt": "2026-11-23T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=load", "fingerprint": format!("{g:06x}{i:010x}")})
        })
        .collect();
    json!({"version": "4", "groupKey": format!("{{}}:{{alertname=\"Load{g}\"}}"), "status": "firing", "receiver": "tierdesk",
        "groupLabels": {"alertname": format!("Load{g}")}, "commonLabels": {"job": "node"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": alerts})
    .to_string()
}

/// Runs the benchmark against the database at `url`.
pub async fn run(bin: &str, backend: &str, url: &str, notifications: usize) {
    let admin = token(bin, url, "bench-admin", "admin");
    let server = start(bin, url).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let base = server.base.clone();
    let am = integration(
        &client,
        &base,
        &admin,
        json!({"name": "bench-am", "kind": "alertmanager", "storm_groups_per_minute": 0}),
    )
    .await;
    let pd = integration(
        &client,
        &base,
        &admin,
        json!({"name": "bench-pd", "kind": "pagerduty", "storm_groups_per_minute": 0}),
    )
    .await;
    let idle = rss_mb(server.child.id());
    print_header();
    let groups = 200;
    let bodies: Arc<Vec<String>> = Arc::new(
        (0..notifications)
            .map(|i| am_batch(i % groups, 100, i / groups))
            .collect(),
    );
    for c in [4usize, 16] {
        let (client, base, am, bodies) = (client.clone(), base.clone(), am.clone(), bodies.clone());
        let offset = if c == 4 { 0 } else { 1_000_000 };
        let s = drive(c, notifications, 200, move |i| {
            let body = bodies[i].replace("\"value\":\"", &format!("\"value\":\"{offset}-"));
            client
                .post(format!("{base}/api/v1/intake/alertmanager/{am}"))
                .header("content-type", "application/json")
                .body(body)
        })
        .await;
        print_row(backend, "Alertmanager webhook, 100 alerts each", c, &s);
        println!(
            "|  | → alerts per second | {c} | {} | **{:.0}** |  |  |  |",
            s.n * 100,
            s.n as f64 * 100.0 / s.secs()
        );
    }
    let storm_rss = rss_mb(server.child.id());
    for c in [1usize, 32] {
        let (client, base, pd) = (client.clone(), base.clone(), pd.clone());
        let n = if c == 1 { 2000 } else { 20_000 };
        let s = drive(c, n, 202, move |i| {
            client
                .post(format!("{base}/v2/enqueue"))
                .header("content-type", "application/json")
                .body(json!({"routing_key": pd, "event_action": if i % 10 == 9 { "resolve" } else { "trigger" },
                    "dedup_key": format!("svc-{}", i % 2000),
                    "payload": {"summary": format!("Check failed on svc-{} ({i})", i % 2000), "source": "probe-1", "severity": "error"}}).to_string())
        })
        .await;
        print_row(backend, "PagerDuty /v2/enqueue, single events", c, &s);
    }
    println!();
    println!(
        "{backend}: server RSS: idle {idle:.1} MB, after the Alertmanager storm {storm_rss:.1} MB, at the end {:.1} MB",
        rss_mb(server.child.id())
    );
}

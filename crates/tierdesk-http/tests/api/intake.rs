//! Monitoring intake over HTTP: each receiver with the senders' published example payloads,
//! PagerDuty's response shapes, dedup and grouping, resolve and reopen, HA redelivery, silences,
//! flapping, storms and heartbeats.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};
use tierdesk_app::Clock;

use crate::harness::{TestApp, on_each_backend};

const AM_FIRING: &str =
    include_str!("../../../tierdesk-app/tests/fixtures/intake/alertmanager-firing.json");
const AM_RESOLVED: &str =
    include_str!("../../../tierdesk-app/tests/fixtures/intake/alertmanager-resolved.json");
const GRAFANA: &str =
    include_str!("../../../tierdesk-app/tests/fixtures/intake/grafana-firing.json");
const PD_TRIGGER: &str =
    include_str!("../../../tierdesk-app/tests/fixtures/intake/pagerduty-trigger.json");
const PD_RESOLVE: &str =
    include_str!("../../../tierdesk-app/tests/fixtures/intake/pagerduty-resolve.json");

/// Creates an integration and returns its key.
pub async fn integration(app: &TestApp, body: Value) -> String {
    let r = app.post("admin", "/api/v1/integrations", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let key = r.json["key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    key
}

/// Posts a raw body to a receiver.
pub async fn send(app: &TestApp, path: &str, bearer: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(k) = bearer {
        req = req.bearer_auth(k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn ticket(app: &TestApp, key: &str) -> Value {
    app.get("dana", &format!("/api/v1/tickets/{key}"))
        .await
        .json
}

async fn alert_events(app: &TestApp, key: &str) -> Vec<String> {
    app.get("dana", &format!("/api/v1/tickets/{key}/timeline"))
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "alert")
        .map(|e| e["data"]["action"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn am(group: &str, status: &str, alerts: &[(&str, &str)]) -> String {
    am_body(group, status, alerts)
}

fn am_body(group: &str, status: &str, alerts: &[(&str, &str)]) -> String {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(fp, st)| json!({"status": st, "labels": {"alertname": group, "instance": fp, "severity": "warning"},
            "annotations": {"summary": format!("{group} on {fp}")}, "startsAt": "2026-03-02T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph", "fingerprint": fp}))
        .collect();
    json!({"version": "4", "groupKey": format!("{{}}:{{alertname=\"{group}\"}}"), "status": status, "receiver": "tierdesk",
        "groupLabels": {"alertname": group}, "commonLabels": {"alertname": group}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": alerts}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_accept_the_published_payloads_and_answer_as_each_sender_expects() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let am_key = integration(&app, json!({"name": "prom", "kind": "alertmanager", "service": "web-app", "tier": "L2"})).await;
        // Bad or missing keys are 401; a user token is not an integration key.
        assert_eq!(send(&app, "/api/v1/intake/alertmanager/wrong", None, AM_FIRING).await.0, 401);
        assert_eq!(send(&app, "/api/v1/intake/alertmanager", Some(&app.token("admin")), AM_FIRING).await.0, 401);
        assert_eq!(send(&app, "/api/v1/intake/alertmanager", None, AM_FIRING).await.0, 401);
        // Unparseable bodies are 400 naming the reason.
        let (s, v) = send(&app, &format!("/api/v1/intake/alertmanager/{am_key}"), None, "{\"status\": \"firing\"").await;
        assert_eq!(s, 400, "[{b}] {v}");
        let (s, v) = send(&app, "/api/v1/intake/alertmanager", Some(&am_key), &AM_FIRING.replace("\"status\": \"firing\",\n  \"receiver\"", "\"status\": \"exploded\",\n  \"receiver\"")).await;
        assert_eq!((s, v["detail"].as_str().unwrap_or("").starts_with("status")), (400, true), "{v}");

        // Alertmanager, key as Bearer: one incident at L2 with the observability context.
        let (s, v) = send(&app, "/api/v1/intake/alertmanager", Some(&am_key), AM_FIRING).await;
        assert_eq!((s, v["action"].as_str()), (200, Some("opened")), "[{b}] {v}");
        let key = v["ticket"].as_str().unwrap().to_owned();
        let t = ticket(&app, &key).await;
        assert_eq!((t["channel"].as_str(), t["tier"].as_str(), t["priority"].as_str()), (Some("alert"), Some("L2"), Some("P1")), "[{b}] critical → P1: {t}");
        assert_eq!(t["title"], "BlackBox Probe Failure: https://server.example.org");
        assert!(t["description"].as_str().unwrap().contains("[Runbook](https://wiki.example.org/sop/probe-failure)"), "{t}");
        let groups = app.get("dana", &format!("/api/v1/tickets/{key}/alerts")).await.json;
        let alert = &groups["items"][0]["alerts"][0];
        assert_eq!((alert["fingerprint"].as_str(), alert["labels"]["job"].as_str()), (Some("1a30ba71cca2921f"), Some("http_checks")));
        assert!(alert["links"].as_array().unwrap().iter().any(|l| l["rel"] == "source" && l["href"].as_str().unwrap().contains("&g0.tab=1")));
        assert_eq!(app.get("alice", &format!("/api/v1/tickets/{key}/alerts")).await.status, 403);

        // The same notification again (an HA peer): nothing changes, no timeline entry.
        let before = app.get("dana", &format!("/api/v1/tickets/{key}/timeline")).await.json["items"].as_array().unwrap().len();
        let (s, v) = send(&app, &format!("/api/v1/intake/alertmanager/{am_key}"), None, AM_FIRING).await;
        assert_eq!((s, v["outcome"].as_str()), (200, Some("duplicate")), "[{b}] {v}");
        let after = app.get("dana", &format!("/api/v1/tickets/{key}/timeline")).await.json["items"].as_array().unwrap().len();
        assert_eq!(before, after);
        let groups = app.get("dana", &format!("/api/v1/tickets/{key}/alerts")).await.json;
        assert_eq!(groups["items"][0]["alerts"][0]["occurrences"], 1, "[{b}] a redelivery is not a repeat");

        // Resolved → the incident resolves.
        let (s, v) = send(&app, &format!("/api/v1/intake/alertmanager/{am_key}"), None, AM_RESOLVED).await;
        assert_eq!((s, v["action"].as_str()), (200, Some("resolved")), "{v}");
        assert_eq!(ticket(&app, &key).await["status"], "resolved");

        // Grafana (its own integration) through the PUT method.
        let g_key = integration(&app, json!({"name": "grafana", "kind": "grafana"})).await;
        let r = app.client.put(format!("{}/api/v1/intake/grafana/{g_key}", app.base)).body(GRAFANA).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        let gk = v["ticket"].as_str().unwrap().to_owned();
        let groups = app.get("dana", &format!("/api/v1/tickets/{gk}/alerts")).await.json;
        let rels: Vec<&str> = groups["items"][0]["alerts"][0]["links"].as_array().unwrap().iter().map(|l| l["rel"].as_str().unwrap()).collect();
        assert!(rels.contains(&"dashboard") && rels.contains(&"panel") && rels.contains(&"silence"), "{rels:?}");

        // PagerDuty: 202 with PagerDuty's body; its error shapes; resolve.
        let pd_key = integration(&app, json!({"name": "pd", "kind": "pagerduty"})).await;
        let trigger = PD_TRIGGER.replace("e93facc04764012d7bfb002500d5d1a6", &pd_key);
        let (s, v) = send(&app, "/v2/enqueue", None, &trigger).await;
        assert_eq!((s, &v), (202, &json!({"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"})), "[{b}]");
        for (body, needle) in [
            (json!({"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info"}}).to_string(), "routing_key"),
            (json!({"routing_key": pd_key, "event_action": "poke"}).to_string(), "event_action"),
            (json!({"routing_key": pd_key, "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "fatal"}}).to_string(), "payload.severity"),
            (json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "resolve", "dedup_key": "x"}).to_string(), "routing_key"),
        ] {
            let (s, v) = send(&app, "/v2/enqueue", None, &body).await;
            assert_eq!((s, v["status"].as_str(), v["message"].as_str()), (400, Some("invalid event"), Some("Event object is invalid")), "{v}");
            assert!(v["errors"][0].as_str().unwrap().contains(needle), "{v}");
        }
        let (s, v) = send(&app, "/v2/enqueue", None, "not json").await;
        assert_eq!((s, v["status"].as_str()), (400, Some("Unrecognized object")));
        let (s, v) = send(&app, "/v2/enqueue", None, &json!({"routing_key": pd_key, "event_action": "trigger", "payload": {"summary": "no key", "source": "h", "severity": "info"}}).to_string()).await;
        assert_eq!(s, 202);
        assert_eq!(v["dedup_key"].as_str().unwrap().len(), 32, "a generated dedup key is returned");
        let stray = json!({"routing_key": pd_key, "event_action": "acknowledge", "dedup_key": "never-triggered"}).to_string();
        assert_eq!(send(&app, "/v2/enqueue", None, &stray).await.0, 202);
        let found = app.get("dana", "/api/v1/tickets?channel=alert&q=never-triggered").await.json;
        assert!(found["items"].as_array().unwrap().is_empty(), "[{b}] an acknowledge opens nothing");
        let ack = json!({"routing_key": pd_key, "event_action": "acknowledge", "dedup_key": "srv01/mysql"}).to_string();
        let (s, v) = send(&app, "/v2/enqueue", None, &ack).await;
        assert_eq!((s, v["dedup_key"].as_str()), (202, Some("srv01/mysql")));
        let pd_ticket = app.get("dana", "/api/v1/tickets?channel=alert&q=DISK").await.json["items"][0]["key"].as_str().unwrap().to_owned();
        assert!(alert_events(&app, &pd_ticket).await.contains(&"acknowledged".to_owned()), "[{b}] acknowledge is noted");
        let (s, _) = send(&app, "/v2/enqueue", None, &PD_RESOLVE.replace("e93facc04764012d7bfb002500d5d1a6", &pd_key)).await;
        assert_eq!(s, 202);
        let list = app.get("dana", "/api/v1/tickets?channel=alert&status=resolved").await.json;
        assert!(list["items"].as_array().unwrap().iter().any(|t| t["title"] == "DISK at 99% on machine prod-datapipe03.example.com"), "[{b}] {list}");

        // Generic JSON.
        let gen_key = integration(&app, json!({"name": "cron", "kind": "generic", "severity_map": {"warning": [3, 3]}})).await;
        let (s, v) = send(&app, &format!("/api/v1/intake/generic/{gen_key}"), None, r#"{"title":"Backup job failed","severity":"warning","dedup_key":"backup-nightly","links":[{"href":"https://ci/job/1","text":"job log"}]}"#).await;
        assert_eq!(s, 200, "{v}");
        let t = ticket(&app, v["ticket"].as_str().unwrap()).await;
        assert_eq!(t["priority"], "P4", "[{b}] severity_map override: {t}");
        assert_eq!(send(&app, &format!("/api/v1/intake/generic/{gen_key}"), None, r#"{"severity":"warning"}"#).await.0, 400);
        // Keys work only on their own kind's endpoint.
        assert_eq!(send(&app, &format!("/api/v1/intake/generic/{am_key}"), None, r#"{"title":"x"}"#).await.0, 401);
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_dedupe_count_repeats_reopen_and_flap() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let k = integration(&app, json!({"name": "prom", "kind": "alertmanager", "reopen_window": "30m", "flap_changes": 4, "flap_window": "1h"})).await;
        let url = format!("/api/v1/intake/alertmanager/{k}");
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing")])).await;
        let key = v["ticket"].as_str().unwrap().to_owned();
        // Repeats (a later notification of the same group) count, they do not open tickets.
        app.clock.advance(Duration::minutes(5));
        for _ in 0..3 {
            app.clock.advance(Duration::seconds(1));
            let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing")]).replace("2026-03-02T09:00:00Z", &app.clock.now().to_rfc3339())).await;
            assert_eq!(v["ticket"].as_str(), Some(key.as_str()), "[{b}] {v}");
        }
        // A new alert joins the group: listed on the incident.
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing"), ("b", "firing")])).await;
        assert_eq!(v["action"], "updated");
        assert_eq!(alert_events(&app, &key).await, ["alerts_added"]);
        let groups = app.get("dana", &format!("/api/v1/tickets/{key}/alerts")).await.json;
        let occ: Vec<i64> = groups["items"][0]["alerts"].as_array().unwrap().iter().map(|a| a["occurrences"].as_i64().unwrap()).collect();
        assert_eq!(occ.iter().sum::<i64>(), 6, "[{b}] 5 deliveries of a + 1 of b: {occ:?}");
        assert_eq!(groups["items"][0]["notifications"], 5);
        let n = app.get("dana", "/api/v1/tickets?channel=alert").await.json["items"].as_array().unwrap().len();
        assert_eq!(n, 1);
        // Partly resolved: noted; all resolved: the incident resolves.
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "resolved"), ("b", "firing")])).await;
        assert_eq!(v["action"], "updated");
        let (_, v) = send(&app, &url, None, &am("HighLatency", "resolved", &[("a", "resolved"), ("b", "resolved")])).await;
        assert_eq!(v["action"], "resolved");
        // Fires again within the reopen window: the same incident reopens.
        app.clock.advance(Duration::minutes(10));
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing")])).await;
        assert_eq!((v["action"].as_str(), v["ticket"].as_str()), (Some("reopened"), Some(key.as_str())), "[{b}] {v}");
        assert_eq!(ticket(&app, &key).await["status"], "in_progress");
        // Fourth state change within the hour: flapping; a resolve now only annotates.
        app.clock.advance(Duration::minutes(2));
        let (_, v) = send(&app, &url, None, &am("HighLatency", "resolved", &[("a", "resolved")])).await;
        assert_eq!(v["action"], "annotated", "[{b}] {v}");
        assert_eq!(ticket(&app, &key).await["status"], "in_progress");
        app.clock.advance(Duration::minutes(2));
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing")])).await;
        assert_eq!(v["ticket"].as_str(), Some(key.as_str()), "[{b}] {v}");
        assert!(alert_events(&app, &key).await.contains(&"resolved".to_owned()));
        // Much later, quiet: a resolution resolves; a firing after the window opens a new incident.
        app.clock.advance(Duration::hours(2));
        let (_, v) = send(&app, &url, None, &am("HighLatency", "resolved", &[("a", "resolved")])).await;
        assert_eq!(v["action"], "resolved", "[{b}] {v}");
        app.clock.advance(Duration::hours(1));
        let (_, v) = send(&app, &url, None, &am("HighLatency", "firing", &[("a", "firing")])).await;
        assert_eq!(v["action"], "opened");
        assert_ne!(v["ticket"].as_str(), Some(key.as_str()));
        // The database allows one open incident per group.
        let err = app.with_app(move |a| a.store.write(move |r| r.conn().execute(
            "UPDATE tickets SET alert_group_id = (SELECT MAX(alert_group_id) FROM tickets WHERE status = 'new') WHERE id = (SELECT MIN(id) FROM tickets WHERE status IN ('new', 'assigned', 'in_progress') AND alert_group_id IS NULL)", &[]))).await;
        assert!(err.is_err(), "[{b}] a second open incident for one group is refused");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_record_without_opening_and_storms_fold_into_one_incident() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let k = integration(&app, json!({"name": "prom", "kind": "alertmanager", "storm_groups_per_minute": 3})).await;
        let url = format!("/api/v1/intake/alertmanager/{k}");
        // Silence DiskFull on db hosts for an hour.
        let r = app.post("dana", "/api/v1/silences", json!({"matchers": ["alertname=DiskFull", "instance=~db-.*"], "duration": "1h", "comment": "disk migration CHG-7"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let silence = r.json["id"].as_i64().unwrap();
        for bad in [json!({"matchers": ["nope"], "duration": "1h", "comment": "x"}), json!({"matchers": ["a=b"], "comment": "x"}), json!({"matchers": ["a=~("], "duration": "1h", "comment": "x"}), json!({"matchers": ["a=b"], "duration": "1h"})] {
            let r = app.post("dana", "/api/v1/silences", bad.clone()).await;
            assert_eq!(r.status, 422, "{bad} {}", r.text);
        }
        assert_eq!(app.post("alice", "/api/v1/silences", json!({"matchers": ["a=b"], "duration": "1h", "comment": "x"})).await.status, 403);
        let (_, v) = send(&app, &url, None, &am("DiskFull", "firing", &[("db-1", "firing")])).await;
        assert_eq!((v["outcome"].as_str(), v["ticket"].as_str()), (Some("silenced"), None), "[{b}] {v}");
        let seen = app.get("dana", "/api/v1/integrations/prom/alerts").await.json;
        let g = &seen["items"][0];
        assert_eq!((g["silenced"].as_bool(), g["ticket_id"].as_i64()), (Some(true), None), "[{b}] recorded and visible: {seen}");
        assert_eq!(g["alerts"][0]["silenced"], true);
        let listed = app.get("dana", "/api/v1/silences").await.json;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        // Not matching the silence: opens.
        let (_, v) = send(&app, &url, None, &am("DiskFull2", "firing", &[("web-1", "firing")])).await;
        assert_eq!(v["action"], "opened");
        // The silence ends: the next firing opens an incident.
        let r = app.call(Method::DELETE, Some("dana"), &format!("/api/v1/silences/{silence}"), None).await;
        assert_eq!(r.status, 204);
        app.clock.advance(Duration::minutes(1));
        let (_, v) = send(&app, &url, None, &am("DiskFull", "firing", &[("db-1", "firing"), ("db-2", "firing")])).await;
        assert_eq!(v["action"], "opened", "[{b}] {v}");

        // Storm: more than 3 new groups in a minute join one storm incident.
        app.clock.advance(Duration::minutes(5));
        let mut keys = Vec::new();
        for i in 0..8 {
            let (_, v) = send(&app, &url, None, &am(&format!("Storm{i}"), "firing", &[("x", "firing")])).await;
            keys.push((v["action"].as_str().unwrap().to_owned(), v["ticket"].as_str().unwrap().to_owned()));
        }
        let opened = keys.iter().filter(|(a, _)| a == "opened").count();
        let stormed: Vec<&String> = keys.iter().filter(|(a, _)| a == "storm").map(|(_, k)| k).collect();
        assert_eq!((opened, stormed.len()), (3, 5), "[{b}] {keys:?}");
        assert!(stormed.iter().all(|k| *k == stormed[0]), "one storm incident");
        let storm = app.get("dana", &format!("/api/v1/tickets/{}/alerts", stormed[0])).await.json;
        assert_eq!(storm["items"].as_array().unwrap().len(), 5, "[{b}] the storm incident lists its groups");
        assert!(ticket(&app, stormed[0]).await["title"].as_str().unwrap().starts_with("Alert storm: prom"));
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_heartbeat_opens_an_incident_and_the_next_beat_resolves_it() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let k = integration(
            &app,
            json!({"name": "prom", "kind": "alertmanager", "heartbeat_interval": "1m"}),
        )
        .await;
        let r = app
            .client
            .get(format!("{}/api/v1/intake/heartbeat/{k}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        app.clock.advance(Duration::seconds(59));
        assert_eq!(overdue(&app).await, 0, "[{b}] not yet due");
        app.clock.advance(Duration::seconds(2));
        assert_eq!(overdue(&app).await, 1, "[{b}] one interval without a beat");
        assert_eq!(overdue(&app).await, 0, "[{b}] opened once");
        let open = app.get("dana", "/api/v1/tickets?channel=alert").await.json;
        let t = &open["items"][0];
        assert_eq!(t["title"], "Heartbeat missed: prom");
        let key = t["key"].as_str().unwrap().to_owned();
        // Alertmanager's Watchdog alert counts as the beat.
        let (s, v) = send(
            &app,
            &format!("/api/v1/intake/alertmanager/{k}"),
            None,
            &am("Watchdog", "firing", &[("wd", "firing")]),
        )
        .await;
        assert_eq!((s, v["outcome"].as_str()), (200, Some("heartbeat")), "{v}");
        assert_eq!(ticket(&app, &key).await["status"], "resolved", "[{b}]");
        let n = app
            .get("dana", "/api/v1/tickets?channel=alert&status=new")
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(n, 0, "the Watchdog opens no incident of its own");
        // An integration without an interval refuses beats.
        let k2 = integration(&app, json!({"name": "other", "kind": "generic"})).await;
        let r = app
            .client
            .post(format!("{}/api/v1/intake/heartbeat/{k2}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        app
    })
    .await;
}

async fn overdue(app: &TestApp) -> usize {
    app.with_app(|a| tierdesk_app::intake::heartbeat::check_overdue(a, a.now()).unwrap())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_100_000_alerts_over_1_000_fingerprints_makes_1_000_incidents() {
    on_each_backend(|app| async move {
        let b = app.backend;
        // The full storm on SQLite; PostgreSQL (the same code, over the network on these two
        // cores) gets a fifth of it to keep the suite short.
        let total: usize = if b == "sqlite" { 100_000 } else { 20_000 };
        let k = integration(&app, json!({"name": "pd-storm", "kind": "pagerduty", "storm_groups_per_minute": 0})).await;
        let started = std::time::Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, base, k, next) = (app.client.clone(), app.base.clone(), k.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let body = json!({"routing_key": k, "event_action": "trigger", "dedup_key": format!("fp-{}", i % 1000),
                        "payload": {"summary": format!("Probe {} failed (#{i})", i % 1000), "source": "blackbox", "severity": "error"}});
                    let r = client.post(format!("{base}/v2/enqueue")).json(&body).send().await.unwrap();
                    assert_eq!(r.status(), 202);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        eprintln!("[{b}] {total} PagerDuty events in {secs:.1} s ({:.0}/s)", total as f64 / secs);
        let (occurrences, alerts, groups, incidents) = app
            .with_app(|a| {
                a.store
                    .read(|r| {
                        let i = r.integration_by_name("pd-storm")?.unwrap();
                        let (occ, n) = r.alert_totals(i.id)?;
                        let groups = r.alert_groups_of_integration(i.id)?;
                        let tickets: std::collections::BTreeSet<i64> = groups.iter().filter_map(|g| g.ticket_id).collect();
                        Ok::<_, tierdesk_store::StoreError>((occ, n, groups.len(), tickets.len()))
                    })
                    .unwrap()
            })
            .await;
        assert_eq!((alerts, groups, incidents), (1000, 1000, 1000), "[{b}]");
        assert_eq!(occurrences, total as i64, "[{b}] every delivery counted");
        let open = app.get("dana", "/api/v1/tickets/counts").await;
        assert_eq!(open.status, 200);
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413() {
    on_each_backend(|app| async move {
        let am = integration(&app, json!({"name": "prom", "kind": "alertmanager"})).await;
        let pd = integration(&app, json!({"name": "pd", "kind": "pagerduty"})).await;
        let big = format!("{{\"routing_key\":\"{pd}\",\"event_action\":\"trigger\",\"dedup_key\":\"x\",\"payload\":{{\"summary\":\"s\",\"source\":\"h\",\"severity\":\"info\",\"custom_details\":\"{}\"}}}}", "x".repeat(600 * 1024));
        assert_eq!(send(&app, "/v2/enqueue", None, &big).await.0, 413, "PagerDuty's 512 KB limit");
        let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(11 * 1024 * 1024));
        assert_eq!(send(&app, &format!("/api/v1/intake/alertmanager/{am}"), None, &huge).await.0, 413);
        // A large but legal Alertmanager group (4,000 alerts, over 1 MB) is accepted.
        let alerts: Vec<(String, &str)> = (0..4000).map(|i| (format!("h{i}"), "firing")).collect();
        let refs: Vec<(&str, &str)> = alerts.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let body = am_body("Big", "firing", &refs);
        assert!(body.len() > 1024 * 1024);
        let (s, v) = send(&app, &format!("/api/v1/intake/alertmanager/{am}"), None, &body).await;
        assert_eq!((s, v["action"].as_str()), (200, Some("opened")), "{v}");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_503_with_retry_after_to_webhooks_and_429_to_pagerduty() {
    let db = tokio::task::spawn_blocking(tierdesk_store::testing::TestDb::sqlite)
        .await
        .unwrap();
    let app = TestApp::start(db).await;
    let am = integration(&app, json!({"name": "prom", "kind": "alertmanager"})).await;
    let pd = integration(&app, json!({"name": "pd", "kind": "pagerduty"})).await;
    // A second router over the same app with no intake slot free.
    let (router, _) = tierdesk_http::router_with_intake_slots(app.app.clone(), 0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let client = reqwest::Client::new();
    let r = client
        .post(format!("http://{addr}/api/v1/intake/alertmanager/{am}"))
        .body(AM_FIRING)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        503,
        "Alertmanager drops 4xx, so overload is 503"
    );
    assert_eq!(r.headers()["retry-after"], "5");
    let body = PD_TRIGGER.replace("e93facc04764012d7bfb002500d5d1a6", &pd);
    let r = client
        .post(format!("http://{addr}/v2/enqueue"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "PagerDuty clients retry 429");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "throttle event");
    // Nothing was half-applied.
    let n = app
        .with_app(|a| a.store.read(|r| r.count_intake_events(1)).unwrap())
        .await;
    assert_eq!(n, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_never_resolved_upstream_goes_stale_and_resolves() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let k = integration(
            &app,
            json!({"name": "prom", "kind": "alertmanager", "stale_after": "1h"}),
        )
        .await;
        let url = format!("/api/v1/intake/alertmanager/{k}");
        let (_, v) = send(
            &app,
            &url,
            None,
            &am("Orphan", "firing", &[("a", "firing")]),
        )
        .await;
        let key = v["ticket"].as_str().unwrap().to_owned();
        app.clock.advance(Duration::minutes(40));
        assert_eq!(sweep(&app).await, 0);
        // Alertmanager repeats the firing group: still alive.
        let (_, v) = send(
            &app,
            &url,
            None,
            &am("Orphan", "firing", &[("a", "firing")]).replace("09:00:00Z", "09:00:01Z"),
        )
        .await;
        assert_eq!(v["ticket"].as_str(), Some(key.as_str()));
        app.clock.advance(Duration::minutes(40));
        assert_eq!(sweep(&app).await, 0, "[{b}] heard of 40 minutes ago");
        assert_eq!(ticket(&app, &key).await["status"], "new");
        // Then silence upstream (no resolution ever comes): stale after an hour.
        app.clock.advance(Duration::minutes(21));
        assert_eq!(sweep(&app).await, 1, "[{b}]");
        assert_eq!(sweep(&app).await, 0, "[{b}] once");
        assert_eq!(ticket(&app, &key).await["status"], "resolved");
        let groups = app
            .get("dana", &format!("/api/v1/tickets/{key}/alerts"))
            .await
            .json;
        assert_eq!(
            (
                groups["items"][0]["status"].as_str(),
                groups["items"][0]["alerts"][0]["status"].as_str()
            ),
            (Some("resolved"), Some("resolved"))
        );
        app
    })
    .await;
}

async fn sweep(app: &TestApp) -> usize {
    app.with_app(|a| tierdesk_app::intake::process::sweep_stale(a, a.now()).unwrap())
        .await
}

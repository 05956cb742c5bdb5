//! The SLA engine over HTTP with an injected clock: policies, calendars, pause, warnings and
//! breaches exactly once, escalation rules, outbound webhooks.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};
use tierdesk_app::{Clock, sla};

use crate::harness::{TestApp, on_each_backend, t0};

async fn put(app: &TestApp, path: &str, body: Value) -> crate::harness::Resp {
    app.call(Method::PUT, Some("admin"), path, Some(body)).await
}

async fn fire(app: &TestApp) -> usize {
    let now = app.clock.now();
    app.with_app(move |a| sla::fire_due(a, now).unwrap()).await
}

fn kinds(timeline: &Value) -> Vec<String> {
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warning_and_breach_fire_once_and_the_rule_escalates() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = put(&app, "/api/v1/sla/policies", json!([{"name": "fast", "match": {"service": ["web-app"]}, "response": {"L1": "2s"}, "warn_at": 0.75}])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = put(&app, "/api/v1/escalation-rules", json!({"items": [{"name": "breach to L2", "on": "breach", "clock": "response", "tier": "L1", "actions": [{"escalate": {}}]}]})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = app.post("alice", "/api/v1/tickets", json!({"title": "Checkout hangs", "service": "web-app"})).await;
        assert_eq!(r.status, 201);
        let key = r.json["key"].as_str().unwrap().to_owned();
        assert_eq!(r.json["sla"]["policy"], json!({"name": "fast", "reason": "service web-app in [web-app]"}));
        assert_eq!(r.json["sla"]["clocks"][0]["due_at"], "2026-11-23T09:00:02Z");

        app.clock.advance(Duration::milliseconds(1499));
        assert_eq!(fire(&app).await, 0, "[{b}] nothing before 75 %");
        app.clock.advance(Duration::milliseconds(1));
        assert_eq!(fire(&app).await, 1, "[{b}] warning at 1.5 s");
        assert_eq!(fire(&app).await, 0, "[{b}] the warning fires once");
        app.clock.advance(Duration::milliseconds(500));
        assert_eq!(fire(&app).await, 1, "[{b}] breach at 2 s");
        app.clock.advance(Duration::seconds(30));
        assert_eq!(fire(&app).await, 0, "[{b}] the breach fires once; L2's hour has not passed");

        let t = app.get("dana", &format!("/api/v1/tickets/{key}")).await.json;
        assert_eq!(t["tier"], "L2", "[{b}] the breach rule escalated");
        assert_eq!(t["team"], "System Operations");
        let c0 = &t["sla"]["clocks"][0];
        assert_eq!((c0["state"].as_str(), c0["warned_at"].as_str(), c0["breached_at"].as_str()),
            (Some("breached"), Some("2026-11-23T09:00:01.500Z"), Some("2026-11-23T09:00:02Z")));
        let tl = app.get("dana", &format!("/api/v1/tickets/{key}/timeline")).await.json;
        assert_eq!(kinds(&tl), ["created", "sla_warning", "sla_breach", "escalated"], "[{b}]");
        assert_eq!(tl["items"][3]["actor"], "system");
        assert_eq!(tl["items"][2]["data"]["clock"], "response:1");
        // Firing is guarded by the database: recording it again is refused.
        let id = app.with_app(move |a| a.store.read(|r| r.conn().query("SELECT id FROM tickets ORDER BY id DESC LIMIT 1", &[])).unwrap()[0].i64(0).unwrap()).await;
        let again = app.with_app(move |a| a.store.write(move |r| r.record_firing(id, "response:1", "breach", t0())).unwrap()).await;
        assert!(!again, "[{b}] unique (ticket, clock, firing)");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_calendar_pause_and_priority_change() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = put(&app, "/api/v1/calendars/berlin", json!({"time_zone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"], "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]}, "holidays": ["2026-12-25"]})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = put(&app, "/api/v1/sla/policies", json!([{"name": "office", "calendar": "berlin", "resolution": {"P2": "8h", "P1": "2h"}}])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let bad = put(&app, "/api/v1/sla/policies", json!([{"name": "x", "calendar": "mars"}])).await;
        assert_eq!(bad.status, 422);
        assert_eq!(bad.json["errors"][0]["field"], "items[0].calendar");
        let bad = put(&app, "/api/v1/calendars/x", json!({"time_zone": "Europe/Berlin", "hours": {"mon": ["17:00-09:00"]}})).await;
        assert_eq!(bad.json["errors"][0]["field"], "hours");
        assert_eq!(app.call(Method::DELETE, Some("admin"), "/api/v1/calendars/berlin", None).await.status, 409, "in use");

        // Monday 09:00Z = 10:00 Berlin; P2 resolution: 8 business hours → Tuesday 10:00 Berlin.
        let r = app.post("dana", "/api/v1/tickets", json!({"title": "VPN flaps", "impact": 2, "urgency": 1})).await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        let resolution = |t: &Value| t["sla"]["clocks"].as_array().unwrap().iter().find(|c| c["kind"] == "resolution").unwrap().clone();
        assert_eq!(resolution(&r.json)["due_at"], "2026-11-24T09:00:00Z", "[{b}]");
        // Pending on the vendor 11:00–15:30 Berlin: due moves by exactly 4.5 business hours.
        app.clock.advance(Duration::hours(1));
        let r = app.post("dana", &format!("/api/v1/tickets/{key}/transition"), json!({"status": "pending", "reason": "vendor"})).await;
        assert_eq!(resolution(&r.json)["state"], "paused");
        app.clock.advance(Duration::minutes(270));
        let r = app.post("dana", &format!("/api/v1/tickets/{key}/transition"), json!({"status": "in_progress"})).await;
        let c = resolution(&r.json);
        assert_eq!((c["state"].as_str(), c["paused_seconds"].as_i64()), (Some("running"), Some(16_200)));
        assert_eq!(c["due_at"], "2026-11-24T13:30:00Z", "[{b}]");
        // Priority raised to P1: 2 business hours, 1 already used → 1 h from now (16:30 Berlin).
        let r = app.post("dana", &format!("/api/v1/tickets/{key}/priority"), json!({"priority": "P1", "reason": "whole office offline"})).await;
        assert_eq!(resolution(&r.json)["due_at"], "2026-11-23T15:30:00Z", "[{b}]");
        // Repair after a policy change recomputes from the timeline, keeping the paused time.
        put(&app, "/api/v1/sla/policies", json!([{"name": "office", "calendar": "berlin", "resolution": {"P1": "3h"}}])).await;
        let (checked, changed) = app.with_app(|a| sla::repair(a, None, &|_, _| {}).unwrap()).await;
        assert!(checked >= 5 && changed >= 1, "[{b}] {checked} {changed}");
        let t = app.get("dana", &format!("/api/v1/tickets/{key}")).await.json;
        assert_eq!(resolution(&t)["due_at"], "2026-11-24T08:30:00Z", "[{b}] 3 h, 4.5 h paused, past 17:00 into Tuesday");
        assert_eq!(resolution(&t)["paused_seconds"], 16_200);
        app
    })
    .await;
}

/// A local receiver that fails the first `fail` deliveries with 503.
async fn receiver(fail: usize) -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let s2 = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = s2.clone();
            async move {
                let mut v = seen.lock().unwrap();
                v.push((headers, body));
                if v.len() <= fail {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_retry_with_backoff_and_are_signed() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let (url, seen) = receiver(3).await;
        let secret = "s3cret-s3cret-s3cret";
        let r = put(
            &app,
            "/api/v1/webhooks/ops",
            json!({"url": url, "secret": secret, "events": ["escalated"]}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json.get("secret").is_none(), "secrets are never returned");
        let r = app
            .post("dana", "/api/v1/tickets", json!({"title": "Disk full"}))
            .await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        app.post(
            "dana",
            &format!("/api/v1/tickets/{key}/escalate"),
            json!({"note": "needs ops"}),
        )
        .await;
        let client = reqwest::Client::new();
        // Attempts at +0 s, +2 s, +4 s (503 each), +8 s (200): exponential backoff.
        let mut delivered_after = None;
        for step in 0..20 {
            tierdesk_http::jobs::deliver_due(&app.app, &client).await;
            if seen.lock().unwrap().len() == 4 {
                delivered_after = Some(step);
                break;
            }
            app.clock.advance(Duration::seconds(1));
        }
        assert_eq!(
            delivered_after,
            Some(14),
            "[{b}] 2 + 4 + 8 seconds of backoff"
        );
        tierdesk_http::jobs::deliver_due(&app.app, &client).await;
        app.clock.advance(Duration::hours(2));
        tierdesk_http::jobs::deliver_due(&app.app, &client).await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen.len(),
            4,
            "[{b}] delivered once acknowledged, never again"
        );
        let (headers, body) = &seen[3];
        let ts: i64 = headers["x-tierdesk-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            headers["x-tierdesk-signature"].to_str().unwrap(),
            tierdesk_app::webhooks::sign(secret, ts, body)
        );
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            (payload["event"].as_str(), payload["ticket"]["key"].as_str()),
            (Some("escalated"), Some(key.as_str()))
        );
        let attempts = app.get("admin", "/api/v1/webhooks/ops/attempts").await.json;
        let statuses: Vec<i64> = attempts["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status"].as_i64().unwrap())
            .collect();
        assert_eq!(statuses, [200, 503, 503, 503], "[{b}] newest first");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_then_auto_resolve_and_a_reply_resumes() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = put(
            &app,
            "/api/v1/sla/policies",
            json!([{"name": "remind", "reminders": {"every": "1d", "resolve_after": 2}}]),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mut keys = Vec::new();
        for title in ["silent user", "answering user"] {
            let r = app
                .post("alice", "/api/v1/tickets", json!({"title": title}))
                .await;
            let key = r.json["key"].as_str().unwrap().to_owned();
            let r = app
                .post(
                    "dana",
                    &format!("/api/v1/tickets/{key}/transition"),
                    json!({"status": "pending", "reason": "requester"}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            keys.push(key);
        }
        app.clock.advance(Duration::days(1));
        fire(&app).await; // also the demo tickets' clocks, a day overdue
        for key in &keys {
            let tl = app
                .get("alice", &format!("/api/v1/tickets/{key}/timeline"))
                .await
                .json;
            assert_eq!(
                kinds(&tl).last().map(String::as_str),
                Some("reminder"),
                "[{b}] first reminder"
            );
        }
        // The second requester answers: the ticket waits on the agent again.
        let r = app
            .post(
                "alice",
                &format!("/api/v1/tickets/{}/comments", keys[1]),
                json!({"body": "here are the logs"}),
            )
            .await;
        assert_eq!(r.json["status"], "in_progress", "[{b}]");
        app.clock.advance(Duration::days(1));
        fire(&app).await;
        app.clock.advance(Duration::days(3));
        fire(&app).await;
        let silent = app
            .get("alice", &format!("/api/v1/tickets/{}", keys[0]))
            .await
            .json;
        assert_eq!(
            (
                silent["status"].as_str(),
                silent["resolution"]["code"].as_str()
            ),
            (Some("resolved"), Some("no_response")),
            "[{b}]"
        );
        let tl = app
            .get("alice", &format!("/api/v1/tickets/{}/timeline", keys[0]))
            .await
            .json;
        let reminders: Vec<i64> = tl["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "reminder")
            .map(|e| e["data"]["round"].as_i64().unwrap())
            .collect();
        assert_eq!(
            reminders,
            [1, 2],
            "[{b}] the requester sees each reminder once"
        );
        let answered = app
            .get("alice", &format!("/api/v1/tickets/{}/timeline", keys[1]))
            .await
            .json;
        assert_eq!(
            kinds(&answered).iter().filter(|k| *k == "reminder").count(),
            1,
            "[{b}] no reminders after the reply"
        );
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_actions_raise_priority_assign_the_lead_and_notify() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let (url, seen) = receiver(0).await;
        put(&app, "/api/v1/webhooks/leads", json!({"url": url, "secret": "0123456789abcdef-x", "events": ["reminder"]})).await;
        put(&app, "/api/v1/sla/policies", json!([{"name": "quick", "response": {"L1": "10m"}}])).await;
        let r = put(&app, "/api/v1/escalation-rules", json!([{"name": "warn", "on": "warning", "clock": "response", "tier": "L1", "priority": "P3",
            "actions": [{"raise_priority": {}}, {"assign_lead": {}}, {"notify": {"webhook": "leads"}}]}])).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let bad = put(&app, "/api/v1/escalation-rules", json!([{"name": "x", "on": "warning", "clock": "response", "actions": [{"notify": {"webhook": "nope"}}]}])).await;
        assert_eq!((bad.status.as_u16(), bad.json["errors"][0]["field"].as_str()), (422, Some("items[0].actions")));
        let r = app.post("alice", "/api/v1/tickets", json!({"title": "Laptop fan loud", "impact": 2, "urgency": 2})).await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        assert_eq!(r.json["priority"], "P3");
        app.clock.advance(Duration::minutes(8)); // 75 % of 10 min = 7.5 min
        fire(&app).await;
        let t = app.get("dana", &format!("/api/v1/tickets/{key}")).await.json;
        assert_eq!(t["priority"], "P2", "[{b}] raised one step");
        assert_eq!(t["assignee"], "lena", "[{b}] the Service Desk lead");
        let tl = app.get("dana", &format!("/api/v1/tickets/{key}/timeline")).await.json;
        assert_eq!(kinds(&tl), ["created", "sla_warning", "priority_changed", "assigned"], "[{b}]");
        assert_eq!(tl["items"][2]["data"]["rule"], "warn");
        // The notification was queued with the warning and goes out once.
        let client = reqwest::Client::new();
        tierdesk_http::jobs::deliver_due(&app.app, &client).await;
        tierdesk_http::jobs::deliver_due(&app.app, &client).await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "[{b}]");
        let payload: Value = serde_json::from_str(&seen[0].1).unwrap();
        assert_eq!((payload["event"].as_str(), payload["ticket"].as_str(), payload["rule"].as_str()), (Some("sla_warning"), Some(key.as_str()), Some("warn")));
        app
    })
    .await;
}

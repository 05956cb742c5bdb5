//! The seeds' three scenarios end to end: requester → L1 → L2 → L3 → resolved → handed back →
//! closed, with the matrix priority, routed teams, exact SLA due times and the full timeline.

use chrono::Duration;
use serde_json::json;

use crate::harness::{TestApp, on_each_backend, t0};

struct Scenario {
    title: &'static str,
    service: &'static str,
    impact: i64,
    urgency: i64,
    priority: &'static str,
    l2_team: &'static str,
    l2_agent: &'static str,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        title: "User cannot log in",
        service: "auth-service",
        impact: 2,
        urgency: 1,
        priority: "P2",
        l2_team: "System Operations",
        l2_agent: "olga",
    },
    Scenario {
        title: "App running slow",
        service: "web-app",
        impact: 2,
        urgency: 2,
        priority: "P3",
        l2_team: "System Operations",
        l2_agent: "olga",
    },
    Scenario {
        title: "Database connection failure",
        service: "database",
        impact: 1,
        urgency: 1,
        priority: "P1",
        l2_team: "DBA",
        l2_agent: "dmitri",
    },
];

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

async fn run(app: &TestApp, s: &Scenario) {
    let b = app.backend;
    app.clock.set(t0());
    let r = app
        .post("alice", "/api/v1/tickets", json!({"title": s.title, "description": "seen since 9:00", "service": s.service, "impact": s.impact, "urgency": s.urgency}))
        .await;
    assert_eq!(r.status, 201, "[{b}] {}", r.text);
    let key = r.json["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("INC-"));
    assert_eq!(r.json["priority"], s.priority, "[{b}] matrix");
    assert_eq!(r.json["tier"], "L1");
    assert_eq!(r.json["team"], "Service Desk");
    assert_eq!(r.json["status"], "new");
    assert_eq!(
        r.json["sla"]["response_due"],
        ts(t0() + Duration::minutes(15)),
        "[{b}] L1 response due"
    );
    assert!(r.json["suggestions"].is_array());
    let path = |verb: &str| format!("/api/v1/tickets/{key}/{verb}");

    // L1 works it, then escalates with a note.
    app.clock.advance(Duration::minutes(3));
    assert_eq!(
        app.post("dana", &path("assign"), json!({"assignee": "dana"}))
            .await
            .status,
        200
    );
    let r = app
        .post(
            "dana",
            &path("transition"),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["sla"]["clocks"][0]["state"], "met",
        "L1 response met by the agent's status change"
    );
    let r = app
        .post(
            "dana",
            &path("comments"),
            json!({"body": "SOP L1 steps done", "public": false}),
        )
        .await;
    assert_eq!(r.status, 201);
    app.clock.advance(Duration::minutes(7));
    let escalated_at = t0() + Duration::minutes(10);
    let r = app
        .post(
            "dana",
            &path("escalate"),
            json!({"note": "L1 checks done; needs L2 diagnostics", "articles": [1]}),
        )
        .await;
    assert_eq!(r.status, 200, "[{b}] {}", r.text);
    assert_eq!(r.json["tier"], "L2");
    assert_eq!(
        r.json["team"], s.l2_team,
        "[{b}] routed to the service's L2 team"
    );
    assert_eq!(r.json["assignee"], serde_json::Value::Null);
    assert_eq!(
        r.json["sla"]["response_due"],
        ts(escalated_at + Duration::hours(1)),
        "[{b}] L2 due 1 h out"
    );

    // L2 takes it and escalates to L3.
    app.clock.advance(Duration::minutes(20));
    let agent = s.l2_agent;
    assert_eq!(
        app.post(agent, &path("assign"), json!({"assignee": agent}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post(agent, &path("transition"), json!({"status": "in_progress"}))
            .await
            .status,
        200
    );
    app.clock.advance(Duration::minutes(10));
    let l3_at = escalated_at + Duration::minutes(30);
    let r = app
        .post(
            agent,
            &path("escalate"),
            json!({"note": "Config/code defect suspected; logs attached"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["tier"], "L3");
    assert_eq!(r.json["team"], "Platform Engineering");
    assert_eq!(
        r.json["sla"]["response_due"],
        ts(l3_at + Duration::hours(4)),
        "[{b}] L3 due 4 h out"
    );

    // L3 fixes it, hands back to L1, L1 confirms and closes.
    app.clock.advance(Duration::hours(1));
    let r = app
        .post(
            "sam",
            &path("resolve"),
            json!({"code": "fixed", "note": "Patched the configuration"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "resolved");
    let r = app
        .post(
            "sam",
            &path("hand-back"),
            json!({"note": "Fixed in config; please confirm with the user", "to_tier": "L1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["tier"], "L1");
    assert_eq!(r.json["team"], "Service Desk");
    let r = app
        .post(
            "dana",
            &path("transition"),
            json!({"status": "closed", "note": "User confirmed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "closed");

    let r = app
        .get("dana", &format!("/api/v1/tickets/{key}/timeline"))
        .await;
    let steps: Vec<(String, String)> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect: Vec<(String, String)> = [
        ("created", "alice"),
        ("assigned", "dana"),
        ("status_changed", "dana"),
        ("commented", "dana"),
        ("escalated", "dana"),
        ("assigned", agent),
        ("status_changed", agent),
        ("escalated", agent),
        ("resolved", "sam"),
        ("handed_back", "sam"),
        ("status_changed", "dana"),
    ]
    .iter()
    .map(|(k, a)| (k.to_string(), a.to_string()))
    .collect();
    assert_eq!(steps, expect, "[{b}] timeline of {}", s.title);
    let esc = &r.json["items"][4]["data"];
    assert_eq!(esc["from_tier"], "L1");
    assert_eq!(esc["to_tier"], "L2");
    assert_eq!(esc["to_team"], s.l2_team);
    assert_eq!(esc["route"], "service");
    assert_eq!(esc["articles"], json!([1]));

    // The requester sees the public part only: no internal note, no escalation details.
    let r = app
        .get("alice", &format!("/api/v1/tickets/{key}/timeline"))
        .await;
    let kinds: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.contains(&"escalated") && !kinds.contains(&"commented"),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_scenarios_end_to_end() {
    on_each_backend(|app| async move {
        for s in &SCENARIOS {
            run(&app, s).await;
        }
        app
    })
    .await;
}

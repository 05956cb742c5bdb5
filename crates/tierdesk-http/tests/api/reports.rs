//! Reports on a known fixture with hand-computed figures, and `/metrics`.

use chrono::Duration;
use reqwest::Method;
use serde_json::json;

use crate::harness::on_each_backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_report_matches_hand_computed_figures() {
    on_each_backend(|app| async move {
        let b = app.backend;
        // Three P2 tickets at 09:00 (the demo's tickets are P1, P3 and P4).
        let mut keys = Vec::new();
        for title in ["A printer", "B database", "C password"] {
            let r = app.post("alice", "/api/v1/tickets", json!({"title": title, "impact": 2, "urgency": 1})).await;
            keys.push(r.json["key"].as_str().unwrap().to_owned());
        }
        let p = |i: usize, verb: &str| format!("/api/v1/tickets/{}/{verb}", keys[i]);
        app.clock.advance(Duration::minutes(10)); // 09:10 A answered (TTA 600 s)
        app.post("dana", &p(0, "comments"), json!({"body": "on it", "public": true})).await;
        app.clock.advance(Duration::minutes(10)); // 09:20 B escalated (TTA 1200 s)
        app.post("dana", &p(1, "escalate"), json!({"note": "db side"})).await;
        app.clock.advance(Duration::minutes(10)); // 09:30 C resolved at L1 (TTA = TTR = 1800 s)
        app.post("dana", &p(2, "resolve"), json!({"code": "fixed", "note": "reset"})).await;
        app.clock.advance(Duration::minutes(30)); // 10:00 A resolved at L1 (TTR 3600 s)
        app.post("dana", &p(0, "resolve"), json!({"code": "fixed", "note": "paper jam"})).await;
        app.clock.advance(Duration::hours(1)); // 11:00 B resolved at L2 (TTR 7200 s)
        let r = app.post("olga", &p(1, "resolve"), json!({"code": "fixed", "note": "pool size"})).await;
        assert_eq!(r.status, 200, "{}", r.text);

        let q = "from=2026-11-23T08:00:00Z&to=2026-11-23T12:00:00Z&group_by=priority";
        let r = app.get("lena", &format!("/api/v1/reports/summary?{q}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let p2 = r.json["items"].as_array().unwrap().iter().find(|i| i["group"] == "P2").unwrap().clone();
        assert_eq!(p2["created"], 3, "[{b}] {p2}");
        assert_eq!(p2["resolved"], 3);
        assert_eq!(p2["mtta_seconds"], 1200.0, "[{b}] (600 + 1200 + 1800) / 3");
        assert_eq!(p2["mttr_seconds"], 4200.0, "[{b}] (3600 + 7200 + 1800) / 3");
        assert_eq!(p2["first_contact_resolution"], 0.6667, "[{b}] 2 of 3 resolved at L1");
        assert_eq!(p2["escalation_rate_l1_l2"], 0.3333);
        assert_eq!(p2["escalation_rate_l2_l3"], 0.0);
        assert_eq!(p2["sla_compliance"], 0.3333, "[{b}] only A answered within 15 min");
        let p1 = r.json["items"].as_array().unwrap().iter().find(|i| i["group"] == "P1").unwrap().clone();
        assert_eq!(p1["escalation_rate_l2_l3"], 1.0, "[{b}] the demo's P1 went to L3");
        assert_eq!(p1["backlog"]["under_1d"], 1);

        let r = app.get("lena", &format!("/api/v1/reports/summary?{q}&group_by=tier")).await;
        assert_eq!(r.status, 400, "group_by twice is a bad query");
        let r = app.get("lena", "/api/v1/reports/summary?group_by=colour").await;
        assert_eq!(r.json["errors"][0]["field"], "group_by");
        assert_eq!(app.get("alice", "/api/v1/reports/summary").await.status, 403);

        let csv = app.client.get(format!("{}/api/v1/reports/summary.csv?{q}", app.base)).bearer_auth(app.token("lena")).send().await.unwrap();
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let text = csv.text().await.unwrap();
        assert!(text.starts_with("group,created,resolved,mtta_seconds"), "{text}");
        assert!(text.contains("\"P2\",3,3,1200,4200,0.3333,0.6667,0.3333,0,0,0,0,0"), "[{b}] {text}");

        let m = app.call(Method::GET, None, "/metrics", None).await;
        assert_eq!(m.status, 200);
        assert!(m.headers["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        assert!(m.text.contains("tierdesk_tickets_open{tier=\"L1\",priority=\"P4\"} 1"), "[{b}] {}", m.text);
        assert!(m.text.contains("tierdesk_sla_firings_total{firing=\"breach\"} 0"));
        assert!(m.text.contains("# TYPE tierdesk_http_request_duration_seconds histogram"));
        assert!(m.text.contains("tierdesk_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/tickets/{key}/resolve\",status=\"200\"} 3"), "{}", m.text);
        assert!(m.text.contains("tierdesk_escalations_total 1"));
        app
    })
    .await;
}

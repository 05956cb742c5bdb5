//! The authorisation matrix (reliability-security test 10): personas × every route × objects
//! of self and other. Each cell has its expected status; a route missing from the table fails.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use tierdesk_store::testing::TestDb;

use crate::harness::TestApp;

/// Persona columns: anonymous, requester A on own/other, requester B on own/other, agent, lead, admin.
const PERSONAS: [(&str, Option<&str>, bool); 8] = [
    ("anonymous", None, true),
    ("requester A self", Some("alice"), true),
    ("requester A other", Some("alice"), false),
    ("requester B self", Some("bob"), true),
    ("requester B other", Some("bob"), false),
    ("agent", Some("dana"), true),
    ("lead", Some("lena"), true),
    ("admin", Some("admin"), true),
];

#[derive(Clone, Copy)]
enum Obj {
    /// No object in the path.
    None,
    /// A ticket `{key}` owned by the persona (self) or the other requester (other).
    Ticket,
    /// Same, escalated to L2 first.
    EscalatedTicket,
    /// A user `{id}`: the persona (self) or the other requester (other).
    User,
    /// An article `{id}`: public (self) or internal (other).
    Article,
    /// Team 1, service 1, category 1, tier L1.
    Fixed,
    /// A named calendar or webhook, created by the admin before the call.
    Named,
}

struct Row {
    method: Method,
    path: &'static str,
    obj: Obj,
    body: fn(usize) -> Option<Value>,
    expect: [u16; 8],
}

fn none(_: usize) -> Option<Value> {
    None
}

fn table() -> Vec<Row> {
    use Method as M;
    use Obj::*;
    let r = |method: M,
             path: &'static str,
             obj: Obj,
             body: fn(usize) -> Option<Value>,
             expect: [u16; 8]| Row {
        method,
        path,
        obj,
        body,
        expect,
    };
    // Ticket read: requesters see only their own (others 404); agents everything.
    const READ_OWN: [u16; 8] = [401, 200, 404, 200, 404, 200, 200, 200];
    const AGENT_ACT: [u16; 8] = [401, 403, 404, 403, 404, 200, 200, 200];
    const ANY_AUTH: [u16; 8] = [401, 200, 200, 200, 200, 200, 200, 200];
    const ADMIN: [u16; 8] = [401, 403, 403, 403, 403, 403, 403, 200];
    const ADMIN_CREATE: [u16; 8] = [401, 403, 403, 403, 403, 403, 403, 201];
    const PUBLIC: [u16; 8] = [200; 8];
    const AGENTS: [u16; 8] = [401, 403, 403, 403, 403, 200, 200, 200];
    vec![
        r(M::GET, "/healthz", None, none, PUBLIC),
        r(M::GET, "/readyz", None, none, PUBLIC),
        r(M::GET, "/api/v1/openapi.json", None, none, PUBLIC),
        r(
            M::POST,
            "/api/v1/auth/login",
            None,
            |_| Some(json!({"name": "alice", "password": "alice-demo-password"})),
            PUBLIC,
        ),
        r(M::GET, "/api/v1/me", None, none, ANY_AUTH),
        r(
            M::POST,
            "/api/v1/tickets",
            None,
            |_| Some(json!({"title": "matrix"})),
            [401, 201, 201, 201, 201, 201, 201, 201],
        ),
        r(M::GET, "/api/v1/tickets", None, none, ANY_AUTH),
        r(M::GET, "/api/v1/tickets/counts", None, none, ANY_AUTH),
        r(M::GET, "/api/v1/tickets/{key}", Ticket, none, READ_OWN),
        r(
            M::GET,
            "/api/v1/tickets/{key}/timeline",
            Ticket,
            none,
            READ_OWN,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/comments",
            Ticket,
            |_| Some(json!({"body": "hello", "public": true})),
            [401, 201, 404, 201, 404, 201, 201, 201],
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/assign",
            Ticket,
            |_| Some(json!({"assignee": "dana"})),
            AGENT_ACT,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/transition",
            Ticket,
            |_| Some(json!({"status": "in_progress"})),
            AGENT_ACT,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/escalate",
            Ticket,
            |_| Some(json!({"note": "tried the SOP"})),
            AGENT_ACT,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/hand-back",
            EscalatedTicket,
            |_| Some(json!({"note": "back to L1"})),
            AGENT_ACT,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/resolve",
            Ticket,
            |_| Some(json!({"code": "fixed", "note": "done"})),
            AGENT_ACT,
        ),
        r(
            M::POST,
            "/api/v1/tickets/{key}/priority",
            Ticket,
            |_| Some(json!({"priority": "P1", "reason": "VIP"})),
            AGENT_ACT,
        ),
        r(M::GET, "/api/v1/tiers", None, none, ANY_AUTH),
        r(
            M::PUT,
            "/api/v1/tiers/{short}",
            Fixed,
            |_| Some(json!({"response_target": "15m"})),
            ADMIN,
        ),
        r(M::GET, "/api/v1/teams", None, none, ANY_AUTH),
        r(
            M::POST,
            "/api/v1/teams",
            None,
            |n| Some(json!({"name": format!("Team {n}"), "tier": "L2"})),
            ADMIN_CREATE,
        ),
        r(M::GET, "/api/v1/teams/{id}", Fixed, none, ANY_AUTH),
        r(
            M::PATCH,
            "/api/v1/teams/{id}",
            Fixed,
            |_| Some(json!({"email": "desk@example.com"})),
            ADMIN,
        ),
        r(
            M::GET,
            "/api/v1/users",
            None,
            none,
            [401, 403, 403, 403, 403, 200, 200, 200],
        ),
        r(
            M::POST,
            "/api/v1/users",
            None,
            |n| Some(json!({"name": format!("user{n}"), "roles": ["requester"]})),
            ADMIN_CREATE,
        ),
        r(M::GET, "/api/v1/users/{id}", User, none, READ_OWN),
        r(
            M::PATCH,
            "/api/v1/users/{id}",
            User,
            |_| Some(json!({"display_name": "Renamed"})),
            [401, 403, 403, 403, 403, 403, 403, 200],
        ),
        r(M::GET, "/api/v1/services", None, none, ANY_AUTH),
        r(
            M::POST,
            "/api/v1/services",
            None,
            |n| Some(json!({"name": format!("svc-{n}")})),
            ADMIN_CREATE,
        ),
        r(M::GET, "/api/v1/services/{id}", Fixed, none, ANY_AUTH),
        r(
            M::PATCH,
            "/api/v1/services/{id}",
            Fixed,
            |_| Some(json!({"criticality": "high"})),
            ADMIN,
        ),
        r(M::GET, "/api/v1/categories", None, none, ANY_AUTH),
        r(
            M::POST,
            "/api/v1/categories",
            None,
            |n| Some(json!({"name": format!("cat-{n}")})),
            ADMIN_CREATE,
        ),
        r(
            M::PATCH,
            "/api/v1/categories/{id}",
            Fixed,
            |_| Some(json!({"default_service": "web-app"})),
            ADMIN,
        ),
        r(M::GET, "/api/v1/kb/articles", None, none, ANY_AUTH),
        r(
            M::POST,
            "/api/v1/kb/articles",
            None,
            |n| Some(json!({"title": format!("Article {n}")})),
            [401, 403, 403, 403, 403, 201, 201, 201],
        ),
        r(M::GET, "/api/v1/kb/articles/{id}", Article, none, READ_OWN),
        r(
            M::PUT,
            "/api/v1/kb/articles/{id}",
            Article,
            |_| Some(json!({"keywords": "edited"})),
            [401, 403, 403, 403, 403, 200, 200, 200],
        ),
        r(
            M::GET,
            "/api/v1/kb/articles/{id}/versions",
            Article,
            none,
            [401, 404, 404, 404, 404, 200, 200, 200],
        ),
        r(
            M::GET,
            "/api/v1/kb/articles/{id}/diff?from=1&to=1",
            Article,
            none,
            [401, 404, 404, 404, 404, 200, 200, 200],
        ),
        r(
            M::POST,
            "/api/v1/kb/articles/{id}/feedback",
            Article,
            |_| Some(json!({"helpful": true})),
            [401, 201, 404, 201, 404, 201, 201, 201],
        ),
        r(
            M::POST,
            "/api/v1/kb/articles/{id}/solved",
            Article,
            none,
            [401, 200, 404, 200, 404, 200, 200, 200],
        ),
        r(M::GET, "/api/v1/kb/review-queue", None, none, AGENTS),
        r(M::GET, "/api/v1/kb/search?q=password", None, none, ANY_AUTH),
        r(M::GET, "/api/v1/kb/suggest?q=passw", None, none, ANY_AUTH),
        r(M::POST, "/api/v1/kb/reindex", None, none, ADMIN),
        r(
            M::GET,
            "/api/v1/tickets/{key}/articles",
            Ticket,
            none,
            AGENTS,
        ),
        r(M::GET, "/api/v1/tickets/{key}/alerts", Ticket, none, AGENTS),
        r(M::GET, "/api/v1/integrations", None, none, ADMIN),
        r(
            M::POST,
            "/api/v1/integrations",
            None,
            |n| Some(json!({"name": format!("m{n}"), "kind": "alertmanager"})),
            ADMIN_CREATE,
        ),
        r(
            M::PATCH,
            "/api/v1/integrations/{name}",
            Named,
            |_| Some(json!({"flap_changes": 3})),
            ADMIN,
        ),
        r(
            M::POST,
            "/api/v1/integrations/{name}/rotate-key",
            Named,
            none,
            ADMIN,
        ),
        r(
            M::GET,
            "/api/v1/integrations/{name}/alerts",
            Named,
            none,
            AGENTS,
        ),
        r(M::GET, "/api/v1/silences", None, none, AGENTS),
        r(
            M::POST,
            "/api/v1/silences",
            None,
            |_| Some(json!({"matchers": ["alertname=X"], "duration": "1h", "comment": "m"})),
            [401, 403, 403, 403, 403, 201, 201, 201],
        ),
        r(
            M::DELETE,
            "/api/v1/silences/{id}",
            Named,
            none,
            [401, 403, 403, 403, 403, 204, 204, 204],
        ),
        // Receivers take an integration key, never a user token.
        r(
            M::POST,
            "/api/v1/intake/alertmanager",
            None,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(
            M::POST,
            "/api/v1/intake/alertmanager/{key}",
            Ticket,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(
            M::POST,
            "/api/v1/intake/grafana",
            None,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(
            M::POST,
            "/api/v1/intake/grafana/{key}",
            Ticket,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(
            M::POST,
            "/api/v1/intake/generic",
            None,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(
            M::POST,
            "/api/v1/intake/generic/{key}",
            Ticket,
            |_| Some(json!({})),
            [401; 8],
        ),
        r(M::POST, "/api/v1/intake/heartbeat", None, none, [401; 8]),
        r(
            M::POST,
            "/api/v1/intake/heartbeat/{key}",
            Ticket,
            none,
            [401; 8],
        ),
        r(
            M::POST,
            "/v2/enqueue",
            None,
            |_| {
                Some(
                    json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info"}}),
                )
            },
            [400; 8],
        ),
        r(M::GET, "/api/v1/sla/policies", None, none, AGENTS),
        r(
            M::PUT,
            "/api/v1/sla/policies",
            None,
            |_| Some(json!({"items": [{"name": "p", "match": {"priority": ["P4"]}}]})),
            ADMIN,
        ),
        r(M::GET, "/api/v1/calendars", None, none, AGENTS),
        r(
            M::PUT,
            "/api/v1/calendars/{name}",
            Named,
            |_| Some(json!({"time_zone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}})),
            ADMIN,
        ),
        r(
            M::DELETE,
            "/api/v1/calendars/{name}",
            Named,
            none,
            [401, 403, 403, 403, 403, 403, 403, 204],
        ),
        r(M::GET, "/api/v1/escalation-rules", None, none, AGENTS),
        r(
            M::PUT,
            "/api/v1/escalation-rules",
            None,
            |_| {
                Some(
                    json!([{"name": "r", "on": "breach", "clock": "response", "actions": [{"escalate": {}}]}]),
                )
            },
            ADMIN,
        ),
        r(M::GET, "/api/v1/webhooks", None, none, ADMIN),
        r(
            M::PUT,
            "/api/v1/webhooks/{name}",
            Named,
            |_| {
                Some(
                    json!({"url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef", "events": ["*"]}),
                )
            },
            ADMIN,
        ),
        r(
            M::GET,
            "/api/v1/webhooks/{name}/attempts",
            Named,
            none,
            ADMIN,
        ),
        r(M::GET, "/api/v1/reports/summary", None, none, AGENTS),
        r(M::GET, "/api/v1/reports/summary.csv", None, none, AGENTS),
        r(M::GET, "/metrics", None, none, PUBLIC),
    ]
}

async fn ticket_for(app: &TestApp, owner: &str, escalate: bool) -> String {
    let r = app
        .post(
            owner,
            "/api/v1/tickets",
            json!({"title": "owned ticket", "service": "web-app"}),
        )
        .await;
    let key = r.json["key"].as_str().unwrap().to_owned();
    if escalate {
        let r = app
            .post(
                "admin",
                &format!("/api/v1/tickets/{key}/escalate"),
                json!({"note": "setup"}),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    key
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    app.get(name, "/api/v1/me").await.json["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let db = tokio::task::spawn_blocking(TestDb::sqlite).await.unwrap();
    let app = TestApp::start(db).await;
    let rows = table();

    // Every documented route is in the table, and the table names no undocumented route.
    let doc = app
        .call(Method::GET, None, "/api/v1/openapi.json", None)
        .await
        .json;
    let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    documented.insert(("GET".into(), "/api/v1/openapi.json".into()));
    let tabled: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.split('?').next().unwrap_or(r.path).to_owned(),
            )
        })
        .collect();
    assert_eq!(
        documented, tabled,
        "every route must have a row in the access table"
    );

    let (alice, bob) = (user_id(&app, "alice").await, user_id(&app, "bob").await);
    let mut n = 0;
    let mut failures = Vec::new();
    for row in &rows {
        for (col, (persona, user, own)) in PERSONAS.iter().enumerate() {
            n += 1;
            // "self" is the caller's own object; for non-requesters it is requester A's.
            let me = match *user {
                Some("bob") => "bob",
                _ => "alice",
            };
            let other = if me == "alice" { "bob" } else { "alice" };
            let owner = if *own { me } else { other };
            let path = match row.obj {
                Obj::None => row.path.to_owned(),
                Obj::Ticket | Obj::EscalatedTicket => {
                    let key =
                        ticket_for(&app, owner, matches!(row.obj, Obj::EscalatedTicket)).await;
                    row.path.replace("{key}", &key)
                }
                Obj::User => {
                    let id = if owner == "alice" { alice } else { bob };
                    row.path.replace("{id}", &id.to_string())
                }
                Obj::Article => row.path.replace("{id}", if *own { "4" } else { "1" }),
                Obj::Fixed => row.path.replace("{id}", "1").replace("{short}", "L1"),
                Obj::Named => {
                    let name = format!("n{n}");
                    let (method, setup, body) = if row.path.starts_with("/api/v1/calendars") {
                        (
                            Method::PUT,
                            format!("/api/v1/calendars/{name}"),
                            json!({"time_zone": "UTC", "hours": {"tue": ["08:00-16:00"]}}),
                        )
                    } else if row.path.starts_with("/api/v1/integrations") {
                        (
                            Method::POST,
                            "/api/v1/integrations".to_owned(),
                            json!({"name": name, "kind": "generic"}),
                        )
                    } else if row.path.starts_with("/api/v1/silences") {
                        (
                            Method::POST,
                            "/api/v1/silences".to_owned(),
                            json!({"matchers": ["alertname=Matrix"], "duration": "1h", "comment": "matrix"}),
                        )
                    } else {
                        (
                            Method::PUT,
                            format!("/api/v1/webhooks/{name}"),
                            json!({"url": "http://127.0.0.1:9/x", "secret": "0123456789abcdef", "events": ["created"]}),
                        )
                    };
                    let r = app.call(method, Some("admin"), &setup, Some(body)).await;
                    assert!(r.status.is_success(), "{}", r.text);
                    let id = r.json["id"].as_i64().unwrap_or(0).to_string();
                    row.path.replace("{name}", &name).replace("{id}", &id)
                }
            };
            let r = app
                .call(row.method.clone(), *user, &path, (row.body)(n))
                .await;
            let expected = row.expect[col];
            if r.status.as_u16() != expected {
                failures.push(format!(
                    "{} {} as {persona}: expected {expected}, got {} {}",
                    row.method, row.path, r.status, r.text
                ));
            }
            // The PagerDuty-compatible endpoint answers in PagerDuty's own shapes.
            if r.status.as_u16() >= 400 && row.path != "/v2/enqueue" {
                assert_eq!(
                    r.headers["content-type"], "application/problem+json",
                    "{} {} as {persona}",
                    row.method, row.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // B's 404 for A's ticket is identical to a missing key's, apart from the key itself.
    let a_key = ticket_for(&app, "alice", false).await;
    let hidden = app.get("bob", &format!("/api/v1/tickets/{a_key}")).await;
    let missing = app.get("bob", "/api/v1/tickets/INC-999999").await;
    assert_eq!(hidden.status, 404);
    assert_eq!(
        hidden.text.replace(&a_key, "KEY"),
        missing.text.replace("INC-999999", "KEY")
    );
    let hidden = app
        .get("bob", &format!("/api/v1/tickets/{a_key}/timeline"))
        .await;
    let missing = app.get("bob", "/api/v1/tickets/INC-999999/timeline").await;
    assert_eq!(
        hidden.text.replace(&a_key, "KEY"),
        missing.text.replace("INC-999999", "KEY")
    );

    // A's tickets never show in B's lists or counts.
    let counts_before = app.get("bob", "/api/v1/tickets/counts").await.json;
    let _ = ticket_for(&app, "alice", false).await;
    let counts_after = app.get("bob", "/api/v1/tickets/counts").await.json;
    assert_eq!(counts_before, counts_after);
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get("bob", &format!("/api/v1/tickets?limit=7{q}"))
            .await
            .json;
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["requester"], "bob", "B sees only B's tickets");
            seen += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, counts_after["total"].as_i64().unwrap());
    let page = app
        .get("bob", &format!("/api/v1/tickets?q={a_key}"))
        .await
        .json;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

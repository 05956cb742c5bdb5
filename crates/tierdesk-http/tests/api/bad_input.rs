//! Bad input gets a 4xx problem+json naming the problem, and nothing is written.

use reqwest::Method;
use serde_json::json;

use crate::harness::{TestApp, on_each_backend};

async fn row_counts(app: &TestApp) -> (i64, i64) {
    app.with_app(|a| {
        a.store
            .read(|r| {
                let t = r.conn().query("SELECT COUNT(*) FROM tickets", &[])?[0].i64(0)?;
                let e = r.conn().query("SELECT COUNT(*) FROM events", &[])?[0].i64(0)?;
                Ok::<_, tierdesk_store::StoreError>((t, e))
            })
            .unwrap()
    })
    .await
}

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String, String) {
    // A fresh connection per case: after a 413 the server closes the connection without reading
    // the rest of the body, and a pooled connection could be reused before the close is seen.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = client
        .request(method, format!("{}{}", app.base, path))
        .bearer_auth(app.token("dana"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_writes_nothing() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = app
            .post("dana", "/api/v1/tickets", json!({"title": "Open ticket"}))
            .await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        let before = row_counts(&app).await;

        let big = format!(
            "{{\"title\": \"x\", \"description\": \"{}\"}}",
            "a".repeat(2 * 1024 * 1024)
        );
        let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
            (
                "missing title",
                "/api/v1/tickets".into(),
                br#"{"description":"no title"}"#.to_vec(),
                422,
                "title",
            ),
            (
                "blank title",
                "/api/v1/tickets".into(),
                br#"{"title":"   "}"#.to_vec(),
                422,
                "title",
            ),
            (
                "impact 7",
                "/api/v1/tickets".into(),
                br#"{"title":"t","impact":7}"#.to_vec(),
                422,
                "impact",
            ),
            (
                "impact of wrong type",
                "/api/v1/tickets".into(),
                br#"{"title":"t","impact":"high"}"#.to_vec(),
                422,
                "impact",
            ),
            (
                "unknown field",
                "/api/v1/tickets".into(),
                br#"{"title":"t","priorty":"P1"}"#.to_vec(),
                422,
                "priorty",
            ),
            (
                "unknown service",
                "/api/v1/tickets".into(),
                br#"{"title":"t","service":"nope"}"#.to_vec(),
                422,
                "service",
            ),
            (
                "malformed JSON",
                "/api/v1/tickets".into(),
                br#"{"title": "#.to_vec(),
                400,
                "malformed JSON",
            ),
            (
                "trailing garbage",
                "/api/v1/tickets".into(),
                br#"{"title": "t"} x"#.to_vec(),
                400,
                "malformed JSON",
            ),
            (
                "2 MB body",
                "/api/v1/tickets".into(),
                big.into_bytes(),
                413,
                "larger than",
            ),
            (
                "invalid transition",
                format!("/api/v1/tickets/{key}/transition"),
                br#"{"status":"closed"}"#.to_vec(),
                409,
                "allowed: assigned, in_progress, pending, resolved, cancelled",
            ),
            (
                "unknown status",
                format!("/api/v1/tickets/{key}/transition"),
                br#"{"status":"done"}"#.to_vec(),
                422,
                "status",
            ),
            (
                "escalation without a note",
                format!("/api/v1/tickets/{key}/escalate"),
                br#"{}"#.to_vec(),
                422,
                "note",
            ),
            (
                "escalation with a blank note",
                format!("/api/v1/tickets/{key}/escalate"),
                br#"{"note":"  "}"#.to_vec(),
                422,
                "note",
            ),
            (
                "escalation to an unknown tier",
                format!("/api/v1/tickets/{key}/escalate"),
                br#"{"note":"n","to_tier":"L9"}"#.to_vec(),
                422,
                "to_tier",
            ),
            (
                "resolve without code",
                format!("/api/v1/tickets/{key}/resolve"),
                br#"{"note":"n"}"#.to_vec(),
                422,
                "code",
            ),
        ];
        for (name, path, body, status, needle) in cases {
            let (s, ct, text) = raw(&app, Method::POST, &path, "application/json", body).await;
            assert_eq!(s, status, "[{b}] {name}: {text}");
            assert_eq!(ct, "application/problem+json", "[{b}] {name}");
            assert!(
                text.contains(needle),
                "[{b}] {name}: '{needle}' not in {text}"
            );
            let p: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(p["status"], status, "[{b}] {name}");
            assert!(
                p["type"]
                    .as_str()
                    .unwrap()
                    .starts_with("urn:tierdesk:problem:")
            );
        }
        let (s, _, _) = raw(
            &app,
            Method::POST,
            "/api/v1/tickets",
            "text/plain",
            b"title".to_vec(),
        )
        .await;
        assert_eq!(s, 415);
        assert_eq!(
            row_counts(&app).await,
            before,
            "[{b}] nothing written by rejected requests"
        );

        let r = app.get("dana", "/api/v1/tickets?limit=0").await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json["errors"][0]["field"], "limit");
        let r = app.get("dana", "/api/v1/tickets?limit=abc").await;
        assert_eq!(r.status, 400);
        let r = app.get("dana", "/api/v1/tickets?cursor=garbage").await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json["errors"][0]["field"], "cursor");
        let r = app.get("dana", "/api/v1/no-such-route").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_match_is_refused() {
    on_each_backend(|app| async move {
        let r = app
            .post("dana", "/api/v1/tickets", json!({"title": "Etag"}))
            .await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        let etag = r
            .headers
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            etag.as_deref(),
            None,
            "create answers with the stored body; GET carries the ETag"
        );
        let r = app.get("dana", &format!("/api/v1/tickets/{key}")).await;
        let etag = r.headers["etag"].to_str().unwrap().to_owned();
        assert_eq!(etag, "\"v1\"");
        let post = |tag: &str| {
            app.client
                .post(format!("{}/api/v1/tickets/{key}/transition", app.base))
                .bearer_auth(app.token("dana"))
                .header("if-match", tag)
                .json(&json!({"status": "in_progress"}))
                .send()
        };
        assert_eq!(post("\"v7\"").await.unwrap().status(), 412);
        assert_eq!(post(&etag).await.unwrap().status(), 200);
        app
    })
    .await;
}

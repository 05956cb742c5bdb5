//! Knowledge-base articles: versions on every edit, diffs, the status workflow and audience.

use reqwest::Method;
use serde_json::json;

use crate::harness::on_each_backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_make_versions_with_diffs_and_requesters_never_see_drafts() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = app.post("dana", "/api/v1/kb/articles", json!({
            "kind": "howto", "title": "Reset a VPN token", "body": "1. Open the portal\n2. Click reset\n",
            "keywords": "vpn token", "audience": "public", "status": "draft", "review_by": "2027-01-31"
        })).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.json["id"].as_i64().unwrap();
        assert_eq!((r.json["version"].as_i64(), r.json["review_by"].as_str()), (Some(1), Some("2027-01-31")));
        let path = format!("/api/v1/kb/articles/{id}");
        // A draft is hidden from requesters everywhere.
        assert_eq!(app.get("alice", &path).await.status, 404, "[{b}]");
        assert!(!app.get("alice", "/api/v1/kb/articles").await.text.contains("VPN token"));
        // Edit → version 2; publish → version 3.
        let edit = |body: serde_json::Value, tag: &str| {
            app.client.put(format!("{}{}", app.base, path)).bearer_auth(app.token("dana")).header("if-match", tag).json(&body).send()
        };
        let r = edit(json!({"body": "1. Open the portal\n2. Choose *VPN*\n3. Click reset\n"}), "\"v1\"").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["etag"], "\"v2\"");
        let stale = edit(json!({"title": "x"}), "\"v1\"").await.unwrap();
        assert_eq!(stale.status(), 412, "[{b}] edits from an old version are refused");
        let r = edit(json!({"status": "published"}), "\"v2\"").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(app.get("alice", &path).await.status, 200, "[{b}] published and public");
        let bad = edit(json!({"status": "draft"}), "\"v3\"").await.unwrap();
        let bad: serde_json::Value = bad.json().await.unwrap();
        assert!(bad["detail"].as_str().unwrap().contains("allowed: review, retired"), "{bad}");
        let versions = app.get("dana", &format!("{path}/versions")).await.json;
        let list: Vec<(i64, &str)> = versions["items"].as_array().unwrap().iter().map(|v| (v["version"].as_i64().unwrap(), v["status"].as_str().unwrap())).collect();
        assert_eq!(list, [(1, "draft"), (2, "draft"), (3, "published")], "[{b}]");
        let d = app.get("dana", &format!("{path}/diff?from=1&to=2")).await.json;
        let ops: Vec<(String, String)> = d["lines"].as_array().unwrap().iter().map(|l| (l["op"].as_str().unwrap().to_owned(), l["text"].as_str().unwrap().to_owned())).collect();
        assert_eq!(ops, [("=".into(), "1. Open the portal".into()), ("-".into(), "2. Click reset".into()), ("+".into(), "2. Choose *VPN*".into()), ("+".into(), "3. Click reset".into())]);
        // Requesters never list versions; retired articles disappear for them.
        assert_eq!(app.get("alice", &format!("{path}/versions")).await.status, 404);
        let r = app.call(Method::PUT, Some("dana"), &path, Some(json!({"status": "retired"}))).await;
        assert_eq!(r.status, 200);
        assert_eq!(app.get("alice", &path).await.status, 404, "[{b}] retired");
        assert_eq!(app.get("dana", &format!("{path}/diff?from=1&to=9")).await.json["errors"][0]["field"], "to");
        // The database keeps versions append-only.
        let err = app.with_app(|a| a.store.write(|r| r.conn().execute("DELETE FROM article_versions", &[]))).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "[{b}] {err}");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_usage_deflection_and_review_queue() {
    on_each_backend(|app| async move {
        let b = app.backend;
        // The demo's public FAQ is article 4; SOP 1 is internal.
        for helpful in [false, false, false, true, false] {
            let r = app
                .post(
                    "alice",
                    "/api/v1/kb/articles/4/feedback",
                    json!({"helpful": helpful, "comment": "meh"}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        assert_eq!(
            app.post(
                "alice",
                "/api/v1/kb/articles/1/feedback",
                json!({"helpful": true})
            )
            .await
            .status,
            404,
            "internal"
        );
        assert_eq!(
            app.post("alice", "/api/v1/kb/articles/4/feedback", json!({}))
                .await
                .json["errors"][0]["field"],
            "helpful"
        );
        let r = app
            .post("bob", "/api/v1/kb/articles/4/solved", json!({}))
            .await;
        assert_eq!(r.json["deflections"], 1, "[{b}]");
        let t = app
            .post(
                "alice",
                "/api/v1/tickets",
                json!({"title": "forgot password"}),
            )
            .await
            .json;
        let key = t["key"].as_str().unwrap();
        app.post(
            "dana",
            &format!("/api/v1/tickets/{key}/resolve"),
            json!({"code": "fixed", "note": "followed the FAQ", "article_id": 4}),
        )
        .await;
        let a = app.get("dana", "/api/v1/kb/articles/4").await.json;
        assert_eq!(
            (
                a["helpful"].as_i64(),
                a["not_helpful"].as_i64(),
                a["uses"].as_i64(),
                a["deflections"].as_i64()
            ),
            (Some(1), Some(4), Some(1), Some(1)),
            "[{b}]"
        );
        // Often unhelpful (1 of 5), and another article past its review date.
        let r = app
            .post(
                "dana",
                "/api/v1/kb/articles",
                json!({"title": "Old VPN guide", "review_by": "2026-01-01"}),
            )
            .await;
        let old = r.json["id"].as_i64().unwrap();
        let q = app.get("lena", "/api/v1/kb/review-queue").await.json;
        let items: Vec<(i64, Vec<String>)> = q["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["article"]["id"].as_i64().unwrap(),
                    i["reasons"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            items,
            [
                (4, vec!["often unhelpful".to_owned()]),
                (old, vec!["past review date".to_owned()])
            ],
            "[{b}]"
        );
        assert_eq!(
            app.get("alice", "/api/v1/kb/review-queue").await.status,
            403
        );
        app
    })
    .await;
}

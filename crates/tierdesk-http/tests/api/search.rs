//! Knowledge search over HTTP: ranking and typo tolerance, filters, the audience rules for
//! search and suggest, suggestions recorded on new tickets, articles opened for a ticket and
//! listed on its escalation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::on_each_backend;

fn titles(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_forgives_typos_filters_and_hides_what_requesters_may_not_see() {
    on_each_backend(|app| async move {
        let b = app.backend;
        let r = app.get("dana", "/api/v1/kb/search?q=databse%20conection%20refused").await;
        assert_eq!(r.status, 200, "[{b}] {}", r.text);
        assert_eq!(titles(&r.json)[0], "Database connection failure", "[{b}]");
        let first = &r.json["items"][0];
        let snippet = first["snippet"]["text"].as_str().unwrap();
        let marked: Vec<String> = first["snippet"]["highlights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let (a, z) = (h[0].as_u64().unwrap() as usize, h[1].as_u64().unwrap() as usize);
                snippet.chars().skip(a).take(z - a).collect::<String>().to_lowercase()
            })
            .collect();
        assert!(marked.iter().any(|w| w.starts_with("connect")), "[{b}] {snippet} {marked:?}");
        // Phrase and prefix queries.
        let r = app.get("dana", "/api/v1/kb/search?q=%22too%20many%20clients%22").await;
        assert_eq!(titles(&r.json), ["Database connection failure"], "[{b}]");
        let r = app.get("dana", "/api/v1/kb/search?q=throttl*").await;
        assert_eq!(titles(&r.json), ["App running slow"], "[{b}]");
        // Filters.
        let r = app.get("dana", "/api/v1/kb/search?q=password&kind=faq").await;
        assert_eq!(titles(&r.json), ["How do I reset my password?"], "[{b}]");
        let r = app.get("dana", "/api/v1/kb/search?q=connection&service=database").await;
        assert!(r.json["items"].as_array().unwrap().iter().all(|i| i["title"].as_str().unwrap().contains("atabase")), "[{b}] {}", r.text);
        // Requesters: published public articles only.
        let r = app.get("alice", "/api/v1/kb/search?q=password%20login").await;
        assert_eq!(titles(&r.json), ["How do I reset my password?"], "[{b}] the internal SOP is hidden");
        assert!(r.json["items"].as_array().unwrap().iter().all(|i| i["audience"] == "public"));
        // Bad input names the field.
        for (q, field) in [("", "q"), ("q=x&limit=0", "limit"), ("q=x&kind=novel", "kind"), ("q=x&service=nope", "service"), ("q=x&status=gone", "status")] {
            let r = app.get("dana", &format!("/api/v1/kb/search?{q}")).await;
            assert_eq!((r.status.as_u16(), r.json["errors"][0]["field"].as_str()), (422, Some(field)), "[{b}] {q}: {}", r.text);
        }
        let r = app.get("alice", "/api/v1/kb/search?q=x&status=draft").await;
        assert_eq!(r.status, 403, "[{b}] requesters have no editor view");

        // A draft is found only in the editor view; publishing and audience changes apply at once.
        let r = app.post("dana", "/api/v1/kb/articles", json!({
            "kind": "howto", "title": "Replace the toner cartridge", "body": "Open the front panel and swap the toner.",
            "keywords": "printer toner cartridge", "audience": "public", "status": "draft"
        })).await;
        let id = r.json["id"].as_i64().unwrap();
        let path = format!("/api/v1/kb/articles/{id}");
        assert!(titles(&app.get("dana", "/api/v1/kb/search?q=toner").await.json).is_empty(), "[{b}] drafts are not published");
        assert_eq!(titles(&app.get("dana", "/api/v1/kb/search?q=toner&status=draft,review").await.json), ["Replace the toner cartridge"]);
        assert!(titles(&app.get("alice", "/api/v1/kb/suggest?q=ton").await.json).is_empty());
        for status in ["review", "published"] {
            let r = app.call(Method::PUT, Some("dana"), &path, Some(json!({"status": status}))).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        assert_eq!(titles(&app.get("alice", "/api/v1/kb/search?q=tonner").await.json), ["Replace the toner cartridge"], "[{b}] one typo");
        assert_eq!(titles(&app.get("alice", "/api/v1/kb/suggest?q=replace%20ton").await.json), ["Replace the toner cartridge"], "[{b}] as you type");
        let r = app.call(Method::PUT, Some("dana"), &path, Some(json!({"audience": "internal"}))).await;
        assert_eq!(r.status, 200);
        assert!(titles(&app.get("alice", "/api/v1/kb/search?q=toner").await.json).is_empty(), "[{b}] internal now");
        assert!(titles(&app.get("alice", "/api/v1/kb/suggest?q=toner").await.json).is_empty());
        assert_eq!(titles(&app.get("dana", "/api/v1/kb/search?q=toner").await.json), ["Replace the toner cartridge"]);
        let r = app.call(Method::PUT, Some("dana"), &path, Some(json!({"status": "retired"}))).await;
        assert_eq!(r.status, 200);
        assert!(titles(&app.get("dana", "/api/v1/kb/search?q=toner").await.json).is_empty(), "[{b}] retired");
        assert!(titles(&app.get("dana", "/api/v1/kb/search?q=toner&status=draft,review,published").await.json).is_empty());

        // Reindex (admins) rebuilds the same answers.
        let r = app.call(Method::POST, Some("admin"), "/api/v1/kb/reindex", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json["articles"].as_u64().unwrap() >= 10, "{}", r.text);
        assert_eq!(titles(&app.get("dana", "/api/v1/kb/search?q=databse%20conection").await.json)[0], "Database connection failure");
        app
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_record_suggestions_and_opened_articles_and_escalations_list_them() {
    on_each_backend(|app| async move {
        let b = app.backend;
        // A requester's ticket is suggested public articles only.
        let r = app.post("alice", "/api/v1/tickets", json!({
            "title": "cant login", "description": "loggin fails after password change"
        })).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let s = r.json["suggestions"].as_array().unwrap();
        assert!(!s.is_empty() && s.len() <= 5);
        assert_eq!(s[0]["title"], "How do I reset my password?", "[{b}]");
        assert!(s.iter().all(|x| x["title"] != "User cannot log in"), "[{b}] internal SOP not suggested to a requester");

        // An agent's ticket gets the SOP, with id, title, kind and score.
        let r = app.post("dana", "/api/v1/tickets", json!({
            "title": "db connection refused", "description": "orders page shows too many clients", "category": "database"
        })).await;
        assert_eq!(r.status, 201);
        let key = r.json["key"].as_str().unwrap().to_owned();
        let top = &r.json["suggestions"][0];
        assert_eq!((top["title"].as_str(), top["kind"].as_str()), (Some("Database connection failure"), Some("sop")), "[{b}] {}", r.text);
        assert!(top["score"].as_f64().unwrap() > 0.0);
        let sop = top["id"].as_i64().unwrap();
        let suggested = r.json["suggestions"].as_array().unwrap().len();

        // L1 opens the SOP and the postmortem while working the ticket.
        let pm = app.get("dana", "/api/v1/kb/search?q=postmortem%20pool").await.json["items"][0]["id"].as_i64().unwrap();
        for id in [sop, pm, sop] {
            let r = app.get("dana", &format!("/api/v1/kb/articles/{id}?ticket={key}")).await;
            assert_eq!(r.status, 200);
        }
        assert_eq!(app.get("dana", &format!("/api/v1/kb/articles/{sop}?ticket=INC-999999")).await.status, 404);
        let list = app.get("dana", &format!("/api/v1/tickets/{key}/articles")).await.json;
        let rel: Vec<(String, i64)> = list["items"].as_array().unwrap().iter()
            .map(|x| (x["relation"].as_str().unwrap().to_owned(), x["article_id"].as_i64().unwrap())).collect();
        assert_eq!(rel.iter().filter(|(r, _)| r == "suggested").count(), suggested, "[{b}] {rel:?}");
        let opened: Vec<i64> = rel.iter().filter(|(r, _)| r == "opened").map(|(_, id)| *id).collect();
        assert_eq!(opened.len(), 2, "[{b}] opening twice records once: {rel:?}");
        assert!(opened.contains(&sop) && opened.contains(&pm));
        assert_eq!(app.get("alice", &format!("/api/v1/tickets/{key}/articles")).await.status, 403);

        // The escalation lists what L1 consulted.
        let r = app.post("dana", &format!("/api/v1/tickets/{key}/escalate"), json!({"note": "pool looks exhausted"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let tl = app.get("dana", &format!("/api/v1/tickets/{key}/timeline")).await.json;
        let esc = tl["items"].as_array().unwrap().iter().find(|e| e["kind"] == "escalated").unwrap();
        let consulted: Vec<&str> = esc["data"]["consulted"].as_array().unwrap().iter().map(|c| c["title"].as_str().unwrap()).collect();
        assert_eq!(consulted.len(), 2, "[{b}] {esc}");
        assert!(consulted.contains(&"Database connection failure") && consulted.contains(&"Postmortem: database connection pool exhaustion"));
        app
    })
    .await;
}

//! `Idempotency-Key` on ticket creation.

use reqwest::Method;
use serde_json::json;

use crate::harness::on_each_backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_key_gives_one_ticket_and_the_same_answer() {
    on_each_backend(|app| async move {
        let send = |key: &'static str, title: &'static str| {
            let req = app
                .client
                .request(Method::POST, format!("{}/api/v1/tickets", app.base))
                .bearer_auth(app.token("alice"))
                .header("Idempotency-Key", key)
                .json(&json!({"title": title, "service": "web-app"}));
            async move {
                let r = req.send().await.unwrap();
                (
                    r.status(),
                    r.headers().get("idempotent-replayed").is_some(),
                    r.text().await.unwrap(),
                )
            }
        };
        let before = app.get("alice", "/api/v1/tickets/counts").await.json["total"]
            .as_i64()
            .unwrap();
        let (s1, replay1, b1) = send("key-1", "Printer on fire").await;
        assert_eq!(s1, 201);
        assert!(!replay1);
        // Retries, five of them at once.
        let results = futures_join(vec![
            send("key-1", "Printer on fire"),
            send("key-1", "Printer on fire"),
            send("key-1", "Printer on fire"),
            send("key-1", "Printer on fire"),
            send("key-1", "Printer on fire"),
        ])
        .await;
        for (s, replay, b) in results {
            assert_eq!(s, 201);
            assert!(replay);
            assert_eq!(b, b1, "[{}] a replay is byte-identical", app.backend);
        }
        let after = app.get("alice", "/api/v1/tickets/counts").await.json["total"]
            .as_i64()
            .unwrap();
        assert_eq!(after, before + 1, "[{}] one ticket", app.backend);
        // Same key, another body: refused, naming the header.
        let (s, _, b) = send("key-1", "Something else").await;
        assert_eq!(s, 422);
        assert!(b.contains("Idempotency-Key"), "{b}");
        // Keys are per user: bob's key-1 is his own.
        let r = app
            .client
            .post(format!("{}/api/v1/tickets", app.base))
            .bearer_auth(app.token("bob"))
            .header("Idempotency-Key", "key-1")
            .json(&json!({"title": "Printer on fire"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert!(r.headers().get("idempotent-replayed").is_none());
        app
    })
    .await;
}

async fn futures_join<F: std::future::Future + Send + 'static>(futs: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

//! The timeline is append-only in the database and replays to the ticket row.

use serde_json::json;
use tierdesk_domain::event::{EventKind, replay};
use tierdesk_store::StoreError;

use crate::harness::on_each_backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_append_only_and_replay_to_the_row() {
    on_each_backend(|app| async move {
        let b = app.backend;
        // A ticket with every kind of change.
        let r = app
            .post(
                "alice",
                "/api/v1/tickets",
                json!({"title": "VPN down", "category": "network", "impact": 2, "urgency": 2}),
            )
            .await;
        let key = r.json["key"].as_str().unwrap().to_owned();
        let p = |v: &str| format!("/api/v1/tickets/{key}/{v}");
        for (user, verb, body) in [
            ("dana", "assign", json!({"assignee": "dana"})),
            (
                "dana",
                "comments",
                json!({"body": "looking", "public": true}),
            ),
            (
                "dana",
                "priority",
                json!({"priority": "P1", "reason": "CEO affected"}),
            ),
            (
                "dana",
                "transition",
                json!({"status": "pending", "reason": "requester"}),
            ),
            ("alice", "comments", json!({"body": "still broken"})),
            ("dana", "escalate", json!({"note": "needs network ops"})),
            (
                "olga",
                "resolve",
                json!({"code": "fixed", "note": "router restarted"}),
            ),
            ("alice", "comments", json!({"body": "broken again"})),
            ("olga", "hand-back", json!({"note": "please follow up"})),
        ] {
            app.clock.advance(chrono::Duration::seconds(37));
            let r = app.post(user, &p(verb), body).await;
            assert!(r.status.is_success(), "[{b}] {verb}: {}", r.text);
        }
        let result = app
            .with_app(|a| {
                a.store.read(|r| {
                    let mut checked = 0;
                    let ids: Vec<i64> = r
                        .conn()
                        .query("SELECT id FROM tickets ORDER BY id", &[])?
                        .iter()
                        .map(|row| row.i64(0).unwrap())
                        .collect();
                    for id in ids {
                        let row = r.ticket_by_id(id, false)?.unwrap();
                        let events = r.events_for(id, false)?;
                        let replayed = replay(
                            events
                                .iter()
                                .map(|e| (EventKind::parse(&e.kind).unwrap(), &e.data)),
                        )
                        .unwrap();
                        assert_eq!(replayed, row, "replay of {}", row.key);
                        checked += 1;
                    }
                    Ok::<_, StoreError>(checked)
                })
            })
            .await
            .unwrap();
        assert!(result >= 5, "[{b}] replayed {result} tickets");

        // The database itself refuses to change or delete events.
        for sql in [
            "UPDATE events SET kind = 'tampered'",
            "DELETE FROM events",
            "UPDATE events SET data = data WHERE id = 1",
        ] {
            let err = app
                .with_app(move |a| a.store.write(move |r| r.conn().execute(sql, &[])))
                .await
                .expect_err(sql);
            assert!(
                err.to_string().contains("append-only"),
                "[{b}] {sql}: {err}"
            );
        }
        let ok = app
            .with_app(|a| a.store.read(|r| r.tickets_without_creation_event()))
            .await
            .unwrap();
        assert!(ok.is_empty());
        app
    })
    .await;
}

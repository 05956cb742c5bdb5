//! Each node's search index follows article changes made through another process on the same
//! database (PostgreSQL with two servers; SQLite with two processes on one file) within 2 s,
//! catches up after a restart, and `tierdesk kb reindex` rebuilds it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tierdesk_store::testing::TestDb;

mod common;
use common::{Server, call, cli, url_text};

/// The longest a change may take to become searchable on another node.
const WITHIN: Duration = Duration::from_secs(2);

async fn titles(client: &reqwest::Client, s: &Server, token: &str, q: &str) -> Vec<String> {
    let v = call(
        client,
        Method::GET,
        format!("{}/api/v1/kb/search?q={q}", s.base),
        token,
        None,
    )
    .await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `s` until the search for `q` satisfies `ok`; returns how long it took.
async fn until(
    client: &reqwest::Client,
    s: &Server,
    token: &str,
    q: &str,
    ok: impl Fn(&[String]) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let t = titles(client, s, token, q).await;
        if ok(&t) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "search for {q:?} never matched; last {t:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn follows_another_process(db: TestDb) {
    let url = url_text(&db.url);
    let dirs = tempfile::tempdir().unwrap();
    let dir = |n: &str| dirs.path().join(n).display().to_string();
    cli(&url, &["demo", "--json"]);
    let token = cli(&url, &["token", "create", "--user", "dana"]);
    let (dir_a, dir_b) = (dir("a"), dir("b"));
    let a = common::start(&url, &["--kb-index", &dir_a]).await;
    let mut b = common::start(&url, &["--kb-index", &dir_b]).await;
    let client = reqwest::Client::new();
    let t = titles(&client, &b, &token, "databse%20conection").await;
    assert_eq!(
        t.first().map(String::as_str),
        Some("Database connection failure")
    );

    // Create on A, search on B.
    let created = call(&client, Method::POST, format!("{}/api/v1/kb/articles", a.base), &token,
        Some(json!({"title": "Recalibrate the flux capacitor", "keywords": "capacitor flux", "body": "Turn it off and on."}))).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("{}/api/v1/kb/articles/{id}", a.base);
    let took = until(&client, &b, &token, "capacitor", |t| {
        t == ["Recalibrate the flux capacitor"]
    })
    .await;
    assert!(
        took <= WITHIN,
        "create visible on the other node after {took:?}"
    );
    eprintln!(
        "[{}] create visible on the other node after {took:?}",
        db.backend
    );

    // Edit on A: the new words are found on B, the old ones no longer.
    call(
        &client,
        Method::PUT,
        path.clone(),
        &token,
        Some(json!({"title": "Align the warp coil", "keywords": "warp coil", "body": "Align it."})),
    )
    .await;
    let took = until(&client, &b, &token, "warp", |t| {
        t == ["Align the warp coil"]
    })
    .await;
    assert!(took <= WITHIN, "edit visible after {took:?}");
    eprintln!("[{}] edit visible after {took:?}", db.backend);
    assert!(titles(&client, &b, &token, "capacitor").await.is_empty());

    // Retire on A: gone on B.
    call(
        &client,
        Method::PUT,
        path.clone(),
        &token,
        Some(json!({"status": "retired"})),
    )
    .await;
    let took = until(&client, &b, &token, "warp", <[String]>::is_empty).await;
    assert!(took <= WITHIN, "retirement visible after {took:?}");
    eprintln!("[{}] retirement visible after {took:?}", db.backend);

    // B down while A writes: after a restart B has caught up before it answers.
    drop(b);
    call(
        &client,
        Method::POST,
        format!("{}/api/v1/kb/articles", a.base),
        &token,
        Some(json!({"title": "Lubricate the sprockets", "keywords": "sprocket grease"})),
    )
    .await;
    b = common::start(&url, &["--kb-index", &dir_b]).await;
    assert_eq!(
        titles(&client, &b, &token, "sprocket").await,
        ["Lubricate the sprockets"]
    );

    // `kb reindex` rebuilds a node's index from the database.
    let out = cli(&url, &["kb", "reindex", "--json", "--kb-index", &dir("c")]);
    let report: Value = serde_json::from_str(&out).unwrap();
    let live = call(
        &client,
        Method::GET,
        format!("{}/api/v1/kb/articles", a.base),
        &token,
        None,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] != "retired")
        .count();
    assert_eq!(report["articles"].as_u64(), Some(live as u64), "{out}");
    assert!(report["bytes"].as_u64().unwrap() > 0);
    drop(a);
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_follows_changes_made_through_another_process() {
    let dbs = tokio::task::spawn_blocking(TestDb::all).await.unwrap();
    for db in dbs {
        follows_another_process(db).await;
    }
}

//! Knowledge-base benchmark (issue 4): 100,000 articles of about 1 KB; full reindex time and
//! index size; search and as-you-type suggest latency over HTTP; what suggestions add to ticket
//! creation (the suggestion step itself, measured in-process on the same index, and creation
//! end to end).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use tierdesk_app::search::{self, KbSearch};
use tierdesk_app::{App, DatabaseUrl, Principal, SystemClock, corpus, demo};

use crate::{drive, print_header, print_row, rss_mb, start, stats, token};

/// Queries as users type them: the relevance set's ticket phrasings, fragments of the corpus's
/// titles, and the same with a typo in the longest word.
fn queries(seed: u64) -> Vec<String> {
    let mut out: Vec<String> =
        include_str!("../../crates/tierdesk-app/tests/relevance_queries.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains('|'))
            .filter_map(|l| l.split('|').next())
            .map(|q| q.trim().to_owned())
            .collect();
    for i in 0..300u64 {
        let title = corpus::article(seed, i * 7919).title;
        let words: Vec<&str> = title.split_whitespace().skip(1).take(3).collect();
        let mut q = words.join(" ");
        if i % 2 == 0
            && let Some(long) = words.iter().max_by_key(|w| w.len())
            && long.len() >= 5
        {
            let mut chars: Vec<char> = long.chars().collect();
            chars.swap(1, 2);
            q = q.replacen(long, &chars.iter().collect::<String>(), 1);
        }
        out.push(q);
    }
    out
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Runs the benchmark on a SQLite database in `dir`.
pub async fn run(bin: &str, dir: &Path, articles: u64, requests: usize) {
    let db = dir.join("kb.db");
    let url_text = format!("sqlite://{}", db.display());
    let url = DatabaseUrl::Sqlite(db.clone());
    let (n, u) = (articles, url.clone());
    let loaded = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let app = App::open_with_index(&u, Arc::new(SystemClock), KbSearch::in_memory().unwrap())
            .unwrap();
        demo::load(&app).unwrap();
        corpus::load(&app, 1, n, app.now(), &|done| {
            if done % 20_000 == 0 {
                eprintln!("  loaded {done} articles");
            }
        })
        .unwrap();
        t.elapsed().as_secs_f64()
    })
    .await
    .unwrap();
    println!(
        "loaded {articles} synthetic articles (+ the demo's) in {loaded:.1} s; database {:.0} MB",
        std::fs::metadata(&db).map_or(0, |m| m.len()) as f64 / 1e6
    );

    // Full reindex through the CLI, into the directory the server then uses.
    let t = Instant::now();
    let out = Command::new(bin)
        .args(["kb", "reindex", "--json", "--database-url", &url_text])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wall = t.elapsed().as_secs_f64();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let index_dir = dir.join("kb.db.kb-index");
    println!(
        "tierdesk kb reindex: {} articles in {:.1} s (indexing {:.1} s); index on disk {:.1} MB",
        report["articles"],
        wall,
        report["millis"].as_f64().unwrap_or(0.0) / 1000.0,
        dir_size(&index_dir) as f64 / 1e6
    );

    let agent = token(bin, &url_text, "dana", "agent");
    let requester = token(bin, &url_text, "alice", "requester");
    let server = start(bin, &url_text).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let qs = Arc::new(queries(1));
    println!();
    print_header();
    for (who, tok) in [("agent", agent.clone()), ("requester", requester.clone())] {
        for c in [1usize, 4] {
            let (client, base, tok, qs) =
                (client.clone(), server.base.clone(), tok.clone(), qs.clone());
            let s = drive(c, requests, 200, move |i| {
                let q = &qs[i % qs.len()];
                client
                    .get(format!("{base}/api/v1/kb/search?q={}&limit=10", encode(q)))
                    .bearer_auth(&tok)
            })
            .await;
            print_row("sqlite", &format!("GET /kb/search ({who})"), c, &s);
        }
    }
    for c in [1usize, 4] {
        let (client, base, tok, qs) = (
            client.clone(),
            server.base.clone(),
            requester.clone(),
            qs.clone(),
        );
        let s = drive(c, requests, 200, move |i| {
            // As typed: the query cut in the middle of its last word.
            let q = &qs[i % qs.len()];
            let cut = q
                .char_indices()
                .map(|(k, _)| k)
                .nth(q.chars().count() * 3 / 4)
                .unwrap_or(q.len());
            client
                .get(format!("{base}/api/v1/kb/suggest?q={}", encode(&q[..cut])))
                .bearer_auth(&tok)
        })
        .await;
        print_row("sqlite", "GET /kb/suggest (requester)", c, &s);
    }
    for c in [1usize, 4] {
        let (client, base, tok, qs) = (
            client.clone(),
            server.base.clone(),
            agent.clone(),
            qs.clone(),
        );
        let s = drive(c, requests / 2, 201, move |i| {
            let q = &qs[i % qs.len()];
            client
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(&tok)
                .json(&serde_json::json!({"title": q, "description": format!("{q} since this morning, for the whole team")}))
        })
        .await;
        print_row("sqlite", "POST /tickets (with suggestions)", c, &s);
    }
    println!();
    println!(
        "server RSS after the runs: {:.1} MB",
        rss_mb(server.child.id())
    );

    // The suggestion step of ticket creation, in-process on the same index.
    let (u, d, q2) = (url.clone(), index_dir.clone(), qs.clone());
    let (with, without) = tokio::task::spawn_blocking(move || {
        let app =
            App::open_with_index(&u, Arc::new(SystemClock), KbSearch::open(&d).unwrap()).unwrap();
        let dana = Principal::from(app.store.read(|r| r.user_by_name("dana")).unwrap().unwrap());
        let mut lat = Vec::new();
        for (i, q) in q2.iter().cycle().take(2000).enumerate() {
            let t = Instant::now();
            let desc = format!("{q} since this morning, for the whole team");
            let s = search::for_ticket(&app, &dana, q, &desc, None, None).unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(i > 0 || !s.is_empty());
        }
        let mut base = Vec::new();
        for _ in 0..2000 {
            let t = Instant::now();
            let _ = app.store.read(|r| r.kb_change_seq()).unwrap();
            base.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        (stats(lat, 1.0), stats(base, 1.0))
    })
    .await
    .unwrap();
    println!(
        "suggestions for a new ticket (title + description, top 5, {} articles): p50 {:.2} ms, p99 {:.2} ms (a trivial database read for scale: p50 {:.3} ms)",
        articles, with.p50, with.p99, without.p50
    );
}

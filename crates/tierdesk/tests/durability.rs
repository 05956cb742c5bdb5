//! Durability: SIGKILL the real server during concurrent ticket creation; after a restart every
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! ticket that got a 201 is there with its creation event, and no ticket lacks one.

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tierdesk_store::testing::TestDb;
use tierdesk_store::{DatabaseUrl, Store};

mod common;
use common::{free_port, tierdesk, url_text};

fn start(url: &str, port: u16) -> Child {
    common::spawn(url, port, &[])
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

async fn crash_during_creation(db: TestDb) {
    let url = url_text(&db.url);
    let out = tierdesk()
        .args([
            "token",
            "create",
            "--user",
            "loader",
            "--role",
            "agent",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let client = reqwest::Client::new();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();

    for round in 0..3 {
        let port = free_port();
        let mut server = start(&url, port);
        wait_ready(&client, port).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for worker in 0..32 {
            let (client, token, acked, stop) =
                (client.clone(), token.clone(), acked.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let r = client
                        .post(format!("http://127.0.0.1:{port}/api/v1/tickets"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"title": format!("round {round} worker {worker} #{i}")}))
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() == 201
                        && let Ok(body) = r.json::<serde_json::Value>().await {
                            acked.lock().unwrap().push(body["key"].as_str().unwrap().to_owned());
                        }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(400 + 300 * round)).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "[{}] only {} tickets acknowledged; the load did not run",
        db.backend,
        acked.len()
    );

    // Restart and check every acknowledged ticket over HTTP.
    let port = free_port();
    let mut server = start(&url, port);
    wait_ready(&client, port).await;
    for key in &acked {
        let r = client
            .get(format!(
                "http://127.0.0.1:{port}/api/v1/tickets/{key}/timeline"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "[{}] acknowledged {key} lost", db.backend);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            body["items"][0]["kind"], "created",
            "[{}] {key} has no creation event",
            db.backend
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let backend = db.backend;
    let dburl = db.url.clone();
    let (orphans, integrity) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&dburl).unwrap();
        let orphans = store.read(|r| r.tickets_without_creation_event()).unwrap();
        let integrity = if backend == "sqlite" {
            store
                .read(|r| r.conn().query("PRAGMA integrity_check", &[])?[0].text(0))
                .unwrap()
        } else {
            "ok".to_owned()
        };
        (orphans, integrity)
    })
    .await
    .unwrap();
    assert!(
        orphans.is_empty(),
        "[{backend}] tickets without a creation event: {orphans:?}"
    );
    assert_eq!(integrity, "ok");
    eprintln!(
        "[{backend}] {} acknowledged tickets survived 3 SIGKILLs",
        acked.len()
    );
    tokio::task::spawn_blocking(move || drop(db)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_concurrent_creation_loses_nothing_acknowledged() {
    let dbs = tokio::task::spawn_blocking(TestDb::all).await.unwrap();
    for db in dbs {
        crash_during_creation(db).await;
    }
}

#[test]
fn cli_errors_are_one_line_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let out = tierdesk()
        .args([
            "ticket",
            "show",
            "INC-1",
            "--as",
            "nobody",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("hint:"), "{err}");
    let out = tierdesk()
        .args(["migrate", "--database-url", "mysql://x/y"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("hint:"), "{err}");
}

#[test]
fn token_create_prints_only_the_token_and_demo_loads() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let out = tierdesk()
        .args([
            "token",
            "create",
            "--user",
            "zoe",
            "--role",
            "agent",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("tdk_"));
    let out = tierdesk()
        .args(["demo", "--json", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 4);
    let out = tierdesk()
        .args([
            "ticket",
            "list",
            "--as",
            "dana",
            "--tier",
            "L3",
            "--json",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["team"], "Platform Engineering");
    // A second demo load is refused: the organisation exists.
    let out = tierdesk()
        .args(["demo", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn sla_configuration_is_seeded_from_tierdesk_toml() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let config = dir.path().join("tierdesk.toml");
    std::fs::write(
        &config,
        r#"
[[sla.calendars]]
name = "office"
time_zone = "Europe/Berlin"
holidays = ["2026-12-25"]
[sla.calendars.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]

[[sla.policies]]
name = "low priority"
calendar = "office"
match = { priority = ["P4"] }
response = { L1 = "1h" }

[[sla.escalation_rules]]
name = "breach to L2"
on = "breach"
clock = "response"
actions = [{ escalate = {} }]
"#,
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = tierdesk()
        .args(["migrate", "--config", cfg, "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&DatabaseUrl::parse(&url).unwrap()).unwrap();
    let (policies, rules, calendars) = store
        .read(|r| {
            Ok::<_, tierdesk_store::StoreError>((
                r.config_list(tierdesk_store::ConfigList::Policies)?,
                r.config_list(tierdesk_store::ConfigList::EscalationRules)?,
                r.calendars()?,
            ))
        })
        .unwrap();
    assert_eq!(policies[0]["name"], "low priority");
    assert_eq!(policies[0]["calendar"], "office");
    assert_eq!(rules[0]["actions"][0], serde_json::json!({"escalate": {}}));
    assert_eq!(calendars[0]["time_zone"], "Europe/Berlin");
    // A bad seed names the field and the command fails with a hint.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[sla.policies]]\nname = \"x\"\nwarn_at = 2.0\n").unwrap();
    let url2 = format!("sqlite://{}/t2.db", dir.path().display());
    let out = tierdesk()
        .args([
            "migrate",
            "--config",
            bad.to_str().unwrap(),
            "--database-url",
            &url2,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && err.contains("items[0].warn_at") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn report_prints_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    assert!(
        tierdesk()
            .args(["demo", "--database-url", &url])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = tierdesk()
        .args(["report", "--as", "lena", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("group") && lines[1].contains("MTTA") && lines[1].contains("FCR"),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("L1 ")), "{text}");
    let out = tierdesk()
        .args(["report", "--as", "alice", "--database-url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "requesters cannot read reports");
}

#[test]
fn kb_import_is_idempotent_and_reports_bad_files_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    assert!(
        tierdesk()
            .args(["demo", "--database-url", &url])
            .output()
            .unwrap()
            .status
            .success()
    );
    let kb = dir.path().join("kb");
    std::fs::create_dir(&kb).unwrap();
    std::fs::write(kb.join("vpn-reset.md"), "---\ntitle: Reset a VPN token\nkind: howto\naudience: public\nservice: auth-service\n---\n1. Open the portal\n").unwrap();
    std::fs::write(
        kb.join("printer.md"),
        "---\ntitle: Printer offline\nkeywords: printer paper\n---\nCheck the cable.\n",
    )
    .unwrap();
    std::fs::write(kb.join("broken.md"), "---\ntitel: oops\n---\nbody\n").unwrap();
    let import = || {
        tierdesk()
            .args([
                "kb",
                "import",
                kb.to_str().unwrap(),
                "--as",
                "dana",
                "--json",
                "--database-url",
                &url,
            ])
            .output()
            .unwrap()
    };
    let first = import();
    assert!(
        !first.status.success(),
        "a bad file makes the command fail after importing the rest"
    );
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(
        report["created"],
        serde_json::json!(["printer.md", "vpn-reset.md"])
    );
    assert_eq!(report["failed"][0][0], "broken.md");
    assert!(
        report["failed"][0][1]
            .as_str()
            .unwrap()
            .contains("unknown key 'titel'")
    );
    let second: serde_json::Value = serde_json::from_slice(&import().stdout).unwrap();
    assert_eq!(second["created"], serde_json::json!([]), "no duplicates");
    assert_eq!(
        second["unchanged"],
        serde_json::json!(["printer.md", "vpn-reset.md"])
    );
    // An edited file becomes a new version; export writes the demo SOPs under their slugs.
    std::fs::write(kb.join("printer.md"), "---\ntitle: Printer offline\nkeywords: printer paper\n---\nCheck the cable and the power.\n").unwrap();
    let third: serde_json::Value = serde_json::from_slice(&import().stdout).unwrap();
    assert_eq!(third["updated"], serde_json::json!(["printer.md"]));
    let out_dir = dir.path().join("out");
    let out = tierdesk()
        .args([
            "kb",
            "export",
            out_dir.to_str().unwrap(),
            "--as",
            "dana",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sop = std::fs::read_to_string(out_dir.join("user-cannot-log-in.md")).unwrap();
    assert!(
        sop.starts_with("---\ntitle: User cannot log in\nkind: sop\n")
            && sop.contains("## L2 Operations"),
        "{sop}"
    );
}

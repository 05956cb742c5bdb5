//! SLA timer benchmark (issue 3): a database of open tickets with running clocks, some falling
//! due during the run; measures firing lateness, idle CPU, start-to-armed time, memory, and the
//! summary report's latency over the whole table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tierdesk_app::{App, SystemClock, demo};
use tierdesk_domain::calendar::Calendar;
use tierdesk_domain::sla::{ClockContext, CompiledPolicy, clocks_at_creation};
use tierdesk_domain::ticket::{Level, NewTicket};
use tierdesk_domain::{Channel, Kind, NewEvent, Ticket};
use tierdesk_store::{DatabaseUrl, StoreError};

use crate::{rss_mb, start, stats, token};

/// The wall clock: this benchmark measures real time against a real server.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> chrono::DateTime<Utc> {
    Utc::now()
}

/// Seconds after the server starts at which the first generated warning falls due.
const FIRST_DUE_SECS: i64 = 20;

/// Loads `tickets` open tickets; `due` of them get an L1 response warning due between
/// FIRST_DUE_SECS and FIRST_DUE_SECS + window after `t0`, the rest hours later.
fn load(url: &DatabaseUrl, tickets: i64, due: i64, window: i64, t0: chrono::DateTime<Utc>) -> f64 {
    let app = App::open(url, Arc::new(SystemClock)).unwrap();
    demo::load(&app).unwrap();
    let teams: Vec<(i64, i32)> = tierdesk_app::org::list_teams(&app)
        .unwrap()
        .iter()
        .map(|t| (t.id, t.tier))
        .collect();
    let requester = app
        .store
        .read(|r| r.user_by_name("alice"))
        .unwrap()
        .unwrap()
        .id;
    let started = Instant::now();
    let mut made = 0i64;
    // Warning at 75 % of 15 min = 675 s after creation.
    let warn_after = chrono::Duration::seconds(675);
    while made < tickets {
        let n = 20_000.min(tickets - made);
        let first = made;
        let teams = teams.clone();
        app.store
            .write(move |r| {
                let policy = CompiledPolicy::default_policy();
                let tier_fn = |level: i32| {
                    (
                        format!("L{level}"),
                        [900, 3600, 14_400][(level.clamp(1, 3) - 1) as usize],
                    )
                };
                let ctx = ClockContext {
                    policy: &policy,
                    calendar: &Calendar::Always,
                    tier: &tier_fn,
                };
                for i in first..first + n {
                    let created = if i < due {
                        t0 - warn_after
                            + chrono::Duration::milliseconds(
                                FIRST_DUE_SECS * 1000 + i * window * 1000 / due.max(1),
                            )
                    } else {
                        t0 + chrono::Duration::hours(2) + chrono::Duration::seconds(i % 3600)
                    };
                    let (team, _) = teams[0];
                    let new = NewTicket {
                        kind: Kind::Incident,
                        title: format!("Open ticket {i}"),
                        description: "Generated for the SLA timer benchmark.".into(),
                        requester_id: requester,
                        channel: Channel::Api,
                        category_id: None,
                        service_id: None,
                        impact: Level::new("impact", 2).unwrap(),
                        urgency: Level::new("urgency", 2).unwrap(),
                        tags: vec![],
                    };
                    let number = r.next_ticket_number(Kind::Incident)?;
                    let mut t = Ticket::open(new, number, 1, Some(team), created);
                    t.clocks = clocks_at_creation(&ctx, &t);
                    t.sla_policy = Some("default".into());
                    t.sla_policy_reason = Some("no policy matched; SPEC §4 defaults".into());
                    t.id = r.insert_ticket(&t)?;
                    r.append_event(t.id, created, Some(requester), &NewEvent::created(&t))?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        made += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = std::thread::spawn(move || drop(app)).join();
    secs
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(") ").map_or("", |(_, a)| a);
    let f: Vec<&str> = after.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12) // utime + stime
}

/// Runs the timer benchmark on SQLite.
pub async fn run(bin: &str, dir: &std::path::Path, tickets: i64, due: i64, window: i64) {
    let path = dir.join("timers.db");
    let url = DatabaseUrl::Sqlite(path.clone());
    let url_text = format!("sqlite://{}", path.display());
    // The server will start a few seconds after the load; due times are relative to t0.
    let u2 = url.clone();
    let margin = (tickets / 8_000).max(30);
    let load_t0 = wall_now() + chrono::Duration::seconds(margin);
    let estimate = tokio::task::spawn_blocking(move || load(&u2, tickets, due, window, load_t0))
        .await
        .unwrap();
    println!("sqlite: loaded {tickets} open tickets with running clocks in {estimate:.1} s");
    let tok = token(bin, &url_text, "bench", "admin");
    // Wait until t0 - FIRST_DUE_SECS + a margin so the server starts with nothing yet due.
    let start_at = load_t0 - chrono::Duration::seconds(FIRST_DUE_SECS - 2);
    let wait = (start_at - wall_now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::sleep(wait).await;
    let launched = Instant::now();
    let server = start(bin, &url_text).await;
    let ready = launched.elapsed().as_secs_f64();
    let pid = server.child.id();
    // Idle: nothing due for the next ~15 s.
    let (c0, w0) = (cpu_ticks(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = (cpu_ticks(pid) - c0) as f64 / 100.0 / w0.elapsed().as_secs_f64() * 100.0;
    let idle_rss = rss_mb(pid);
    // Let every generated warning fall due and fire.
    let end = load_t0 + chrono::Duration::seconds(FIRST_DUE_SECS + window + 5);
    tokio::time::sleep((end - wall_now()).to_std().unwrap_or(Duration::ZERO)).await;
    let busy_rss = rss_mb(pid);
    // Reports over the whole table.
    let client = reqwest::Client::new();
    let mut report_ms = Vec::new();
    for g in ["tier", "team", "priority", "service"] {
        let t = Instant::now();
        let r = client
            .get(format!("{}/api/v1/reports/summary?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&group_by={g}", server.base))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await;
        report_ms.push((g, t.elapsed().as_secs_f64() * 1000.0));
    }
    drop(server);
    // Lateness of every warning: event time minus the instant it was due.
    let store = tierdesk_store::Store::open(&url).unwrap();
    let rows = store
        .read(|r| {
            r.conn().query(
                "SELECT at, data FROM events WHERE kind = 'sla_warning'",
                &[],
            )
        })
        .unwrap();
    let mut late = Vec::new();
    for row in &rows {
        let at = row.time(0).unwrap();
        let data = row.json(1).unwrap();
        let scheduled: chrono::DateTime<Utc> =
            serde_json::from_value(data["scheduled_at"].clone()).unwrap();
        late.push((at - scheduled).num_milliseconds() as f64);
    }
    let _ = std::thread::spawn(move || drop(store)).join();
    let s = stats(late, 1.0);
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| open tickets with running clocks | {tickets} |");
    println!("| warnings due during the run | {due} over {window} s |");
    println!("| warnings fired | {} |", s.n);
    println!(
        "| firing lateness p50 / p99 / max | {:.0} / {:.0} / {:.0} ms |",
        s.p50, s.p99, s.max
    );
    println!("| start to ready (timers armed) | {ready:.2} s |");
    println!("| idle CPU, nothing due | {idle_cpu:.2} % |");
    println!("| RSS idle / after firing | {idle_rss:.1} / {busy_rss:.1} MB |");
    for (g, ms) in report_ms {
        println!("| summary report over all tickets, group_by={g} | {ms:.0} ms |");
    }
}

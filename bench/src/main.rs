//! tierdesk benchmarks. Starts the release `tierdesk` binary on a temporary database, drives
//! load over HTTP and prints tables. See docs/BENCHMARKS.md.
//!
//! `cargo run --release -p tierdesk-bench -- create` — ticket creation at concurrency 1 and 32.
//! `cargo run --release -p tierdesk-bench -- large --tickets 1000000` — bulk load, then read latency.
//! `cargo run --release -p tierdesk-bench -- kb --articles 100000` — knowledge search and suggestions.
//! `cargo run --release -p tierdesk-bench -- alerts` — alert intake throughput.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

mod alerts;
mod kb;
mod timers;
use tierdesk_app::{App, SystemClock, demo};
use tierdesk_domain::calendar::Calendar;
use tierdesk_domain::sla::{ClockContext, CompiledPolicy, clocks_at_creation};
use tierdesk_domain::ticket::{Level, NewTicket};
use tierdesk_domain::{Channel, Kind, NewEvent, Ticket};
use tierdesk_store::DatabaseUrl;

#[derive(Parser)]
struct Cli {
    /// The server binary.
    #[arg(long, default_value = "target/release/tierdesk")]
    bin: String,
    /// PostgreSQL admin URL; with it the benchmark also runs on a fresh PostgreSQL database.
    #[arg(long, env = "TIERDESK_BENCH_PG_URL")]
    pg: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Ticket creation throughput and latency at concurrency 1 and 32.
    Create {
        /// Requests per concurrency level.
        #[arg(long, default_value_t = 20_000)]
        requests: usize,
    },
    /// SLA timers over many open tickets, idle CPU, and reports over the whole table.
    Timers {
        /// Open tickets with running clocks.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: i64,
        /// How many of them fall due during the run.
        #[arg(long, default_value_t = 5_000)]
        due: i64,
        /// Seconds over which those fall due.
        #[arg(long, default_value_t = 30)]
        window: i64,
    },
    /// Alert intake: Alertmanager batches of 100 alerts, PagerDuty single events.
    Alerts {
        /// Alertmanager notifications per concurrency level.
        #[arg(long, default_value_t = 2_000)]
        notifications: usize,
    },
    /// Knowledge base: load articles, reindex, then search, suggest and create tickets.
    Kb {
        /// Synthetic articles (about 1 KB each).
        #[arg(long, default_value_t = 100_000)]
        articles: u64,
        /// Requests per measurement.
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
    },
    /// Bulk-load tickets, then measure GET by key and a team queue.
    Large {
        /// Tickets to generate.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: i64,
        /// Requests per measurement.
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
    },
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub(crate) async fn start(bin: &str, url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .env("TIERDESK_LOG", "warn")
        // PostgreSQL nodes keep their search index in memory here, not in the working directory.
        .env(
            "TIERDESK_KB_INDEX",
            if url.starts_with("postgres") {
                "memory"
            } else {
                ""
            },
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin}: {e} (build it with cargo build --release -p tierdesk)")
        });
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

pub(crate) fn token(bin: &str, url: &str, user: &str, role: &str) -> String {
    let out = Command::new(bin)
        .args([
            "token",
            "create",
            "--user",
            user,
            "--role",
            role,
            "--database-url",
            url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) struct Stats {
    pub(crate) n: usize,
    secs: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

impl Stats {
    /// Wall time of the run.
    pub(crate) fn secs(&self) -> f64 {
        self.secs
    }
}

pub(crate) fn stats(mut lat: Vec<f64>, secs: f64) -> Stats {
    lat.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        lat.get(((lat.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Stats {
        n: lat.len(),
        secs,
        p50: pick(0.5),
        p99: pick(0.99),
        max: lat.last().copied().unwrap_or(0.0),
    }
}

/// Sends `requests` requests from `concurrency` workers; `make(i)` builds request i.
pub(crate) async fn drive<F>(concurrency: usize, requests: usize, expect: u16, make: F) -> Stats
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (make, next) = (make.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let t = Instant::now();
                let r = make(i).send().await.expect("request failed");
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                assert_eq!(status, expect, "unexpected status");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    stats(all, started.elapsed().as_secs_f64())
}

pub(crate) fn print_header() {
    println!("| backend | test | concurrency | requests | per second | p50 ms | p99 ms | max ms |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
}

pub(crate) fn print_row(backend: &str, test: &str, c: usize, s: &Stats) {
    println!(
        "| {backend} | {test} | {c} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
        s.n,
        s.n as f64 / s.secs,
        s.p50,
        s.p99,
        s.max
    );
}

fn pg_database(admin: &str) -> (String, String) {
    let name = format!("tierdesk_bench_{}", std::process::id());
    let mut c = postgres_client(admin);
    c.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"
    ))
    .unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    (format!("{base}/{name}"), name)
}

fn postgres_client(url: &str) -> tierdesk_bench_pg::Client {
    tierdesk_bench_pg::connect(url)
}

/// The tiny bit of PostgreSQL administration the benchmark needs, through the store crate.
mod tierdesk_bench_pg {
    pub struct Client(tierdesk_store::Store);
    pub fn connect(url: &str) -> Client {
        Client(
            tierdesk_store::Store::open(&tierdesk_store::DatabaseUrl::Postgres(url.to_owned()))
                .unwrap(),
        )
    }
    impl Client {
        pub fn batch_execute(&mut self, sql: &str) -> Result<(), tierdesk_store::StoreError> {
            for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                self.0.read(|r| r.conn().batch(stmt))?;
            }
            Ok(())
        }
    }
}

async fn bench_create(bin: &str, backend: &str, url: &str, requests: usize) {
    let tok = token(bin, url, "bench", "agent");
    let server = start(bin, url).await;
    let idle = rss_mb(server.child.id());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    for c in [1usize, 32] {
        let n = if c == 1 { requests / 4 } else { requests };
        let (client, base, tok) = (client.clone(), server.base.clone(), tok.clone());
        let s = drive(c, n, 201, move |i| {
            client
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(&tok)
                .json(&serde_json::json!({"title": format!("bench ticket {i}"), "description": "created by the benchmark", "impact": 2, "urgency": 2}))
        })
        .await;
        print_row(backend, "POST /api/v1/tickets", c, &s);
    }
    let loaded = rss_mb(server.child.id());
    println!();
    println!("{backend}: server RSS idle {idle:.1} MB, after load {loaded:.1} MB");
}

fn bulk_load(url: &DatabaseUrl, tickets: i64) -> (f64, Vec<String>) {
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
    let batch = 20_000;
    let mut made = 0i64;
    let base = app.now() - chrono::Duration::days(400);
    while made < tickets {
        let n = batch.min(tickets - made);
        let teams = teams.clone();
        let first = made;
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
                    let now = base + chrono::Duration::seconds(i * 30);
                    let (team, tier) = teams[(i as usize) % teams.len()];
                    let new = NewTicket {
                        kind: if i % 5 == 0 {
                            Kind::Request
                        } else {
                            Kind::Incident
                        },
                        title: format!("Generated ticket {i}: service degraded"),
                        description: "Bulk-generated for the large-database benchmark.".into(),
                        requester_id: requester,
                        channel: Channel::Portal,
                        category_id: None,
                        service_id: None,
                        impact: Level::new("impact", 1 + i % 3).unwrap(),
                        urgency: Level::new("urgency", 1 + (i / 3) % 3).unwrap(),
                        tags: vec![],
                    };
                    let number = r.next_ticket_number(new.kind)?;
                    let mut t = Ticket::open(new, number, tier, Some(team), now);
                    t.clocks = clocks_at_creation(&ctx, &t);
                    // 95 % of a year-old desk's tickets are closed; the rest are open work.
                    if (i / 4) % 20 != 0 {
                        t.clocks.clear();
                        t.resolve("fixed", "bulk", None, now + chrono::Duration::hours(2))
                            .unwrap();
                    }
                    t.id = r.insert_ticket(&t)?;
                    r.append_event(t.id, now, Some(requester), &NewEvent::created(&t))?;
                }
                Ok::<_, tierdesk_store::StoreError>(())
            })
            .unwrap();
        made += n;
        if made % 200_000 == 0 {
            eprintln!(
                "  generated {made} tickets ({:.0}/s)",
                made as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let keys = app
        .store
        .read(|r| {
            r.conn()
                .query("SELECT key FROM tickets WHERE id % 997 = 0", &[])
        })
        .unwrap()
        .iter()
        .map(|row| row.text(0).unwrap())
        .collect();
    let _ = std::thread::spawn(move || drop(app)).join();
    (secs, keys)
}

async fn bench_large(
    bin: &str,
    backend: &str,
    url_text: &str,
    url: DatabaseUrl,
    tickets: i64,
    requests: usize,
) {
    let u2 = url.clone();
    let (secs, keys) = tokio::task::spawn_blocking(move || bulk_load(&u2, tickets))
        .await
        .unwrap();
    println!(
        "{backend}: bulk-loaded {tickets} tickets in {secs:.1} s ({:.0} tickets/s)",
        tickets as f64 / secs
    );
    if let DatabaseUrl::Sqlite(path) = &url {
        let size = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let bytes = size(path.clone()) + size(wal.into());
        println!(
            "{backend}: database {:.0} MB, {:.0} bytes per ticket (row, indexes, creation event)",
            bytes as f64 / 1e6,
            bytes as f64 / tickets as f64
        );
    }
    let tok = token(bin, url_text, "bench", "agent");
    let server = start(bin, url_text).await;
    let idle = rss_mb(server.child.id());
    let client = reqwest::Client::new();
    for team in 1..=4 {
        let page: serde_json::Value = client
            .get(format!(
                "{}/api/v1/tickets?team={team}&sort=sla_due&limit=50",
                server.base
            ))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            page["items"].as_array().map_or(0, Vec::len),
            50,
            "team {team} queue must hold 50 open tickets"
        );
    }
    print_header();
    for c in [1usize, 8] {
        let (cl, base, t1, keys) = (
            client.clone(),
            server.base.clone(),
            tok.clone(),
            Arc::new(keys.clone()),
        );
        let s = drive(c, requests, 200, move |i| {
            cl.get(format!(
                "{base}/api/v1/tickets/{}",
                keys[i * 7919 % keys.len()]
            ))
            .bearer_auth(&t1)
        })
        .await;
        print_row(backend, "GET /api/v1/tickets/{key}", c, &s);
        let (cl, base, t2) = (client.clone(), server.base.clone(), tok.clone());
        let s = drive(c, requests, 200, move |i| {
            cl.get(format!(
                "{base}/api/v1/tickets?team={}&sort=sla_due&limit=50",
                1 + i % 4
            ))
            .bearer_auth(&t2)
        })
        .await;
        print_row(backend, "team queue: 50 open by SLA due", c, &s);
    }
    println!(
        "{backend}: server RSS idle {idle:.1} MB, after reads {:.1} MB",
        rss_mb(server.child.id())
    );
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("bench.db");
    let sqlite_url = format!("sqlite://{}", sqlite.display());
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    match cli.cmd {
        Cmd::Create { requests } => {
            print_header();
            bench_create(&cli.bin, "sqlite", &sqlite_url, requests).await;
            if let Some(admin) = &cli.pg {
                let admin2 = admin.clone();
                let (url, _) = tokio::task::spawn_blocking(move || pg_database(&admin2))
                    .await
                    .unwrap();
                print_header();
                bench_create(&cli.bin, "postgres", &url, requests).await;
            }
        }
        Cmd::Timers {
            tickets,
            due,
            window,
        } => timers::run(&cli.bin, dir.path(), tickets, due, window).await,
        Cmd::Alerts { notifications } => {
            alerts::run(&cli.bin, "sqlite", &sqlite_url, notifications).await;
            if let Some(admin) = &cli.pg {
                let admin2 = admin.clone();
                let (url, _) = tokio::task::spawn_blocking(move || pg_database(&admin2))
                    .await
                    .unwrap();
                alerts::run(&cli.bin, "postgres", &url, notifications).await;
            }
        }
        Cmd::Kb { articles, requests } => kb::run(&cli.bin, dir.path(), articles, requests).await,
        Cmd::Large { tickets, requests } => {
            bench_large(
                &cli.bin,
                "sqlite",
                &sqlite_url,
                DatabaseUrl::Sqlite(sqlite.clone()),
                tickets,
                requests,
            )
            .await;
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".into(), |s| s.trim().to_owned())
}

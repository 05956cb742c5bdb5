//! Command-line definitions (`tierdesk <noun> <verb>`) and the process-wide commands (serve,
//! demo, tokens, users, reports, SLA repair); `ticket`, `kb` and the alerting nouns live in their
//! own modules.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tierdesk_app::search::KbSearch;
use tierdesk_app::{App, AppError, DatabaseUrl, Principal, SystemClock, auth, demo};
use tierdesk_domain::{Role, Roles};

mod alerting;
mod kb;
mod ticket;

use alerting::{IntegrationVerb, SilenceVerb};
use kb::KbVerb;
use ticket::TicketVerb;

use crate::config;
use crate::output::{line, print};

/// tierdesk: tiered service management (L1 service desk → L2 operations → L3 engineering).
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Examples:\n  tierdesk serve --demo\n  tierdesk token create --user alice --role requester\n  tierdesk ticket create --as dana --title 'VPN down' --impact 2 --urgency 1\n  tierdesk ticket escalate INC-3 --as dana --note 'L1 steps done'"
)]
pub struct Cli {
    /// Database: sqlite://PATH (default ./tierdesk.db) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "TIERDESK_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file.
    #[arg(long, global = true, env = "TIERDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of this node's knowledge search index, or `memory` (default: beside the
    /// SQLite file, or ./tierdesk-kb-index for PostgreSQL).
    #[arg(long, global = true, env = "TIERDESK_KB_INDEX")]
    kb_index: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TIERDESK_LISTEN")]
        listen: Option<String>,
        /// Load the demo organisation first when the database is empty.
        #[arg(long)]
        demo: bool,
        /// Log as JSON lines.
        #[arg(long, env = "TIERDESK_LOG_JSON")]
        log_json: bool,
        /// Do not run the SLA timer and webhook deliverer in this process.
        #[arg(long, env = "TIERDESK_NO_BACKGROUND_JOBS")]
        no_background_jobs: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Load the demo organisation into an empty database and print demo tokens.
    Demo,
    /// API tokens.
    Token {
        #[command(subcommand)]
        verb: TokenVerb,
    },
    /// Users.
    User {
        #[command(subcommand)]
        verb: UserVerb,
    },
    /// Tickets.
    Ticket {
        #[command(subcommand)]
        verb: TicketVerb,
    },
    /// Print the summary report (MTTA, MTTR, SLA compliance, FCR, escalation rates, backlog).
    Report {
        #[command(flatten)]
        actor: Actor,
        /// Window start (RFC 3339; default 30 days before --to).
        #[arg(long)]
        from: Option<String>,
        /// Window end (RFC 3339; default now).
        #[arg(long)]
        to: Option<String>,
        /// tier, team, priority or service.
        #[arg(long, default_value = "tier")]
        group_by: String,
    },
    /// Knowledge base.
    Kb {
        #[command(subcommand)]
        verb: KbVerb,
    },
    /// Silences and maintenance windows for monitoring alerts.
    Silence {
        #[command(subcommand)]
        verb: SilenceVerb,
    },
    /// Monitoring integrations (Alertmanager, Grafana, PagerDuty-compatible, generic).
    Integration {
        #[command(subcommand)]
        verb: IntegrationVerb,
    },
    /// SLA engine.
    Sla {
        #[command(subcommand)]
        verb: SlaVerb,
    },
}

#[derive(Debug, Subcommand)]
enum SlaVerb {
    /// Recompute clocks from the timelines after a policy or calendar change.
    Repair {
        /// Only tickets updated at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenVerb {
    /// Create a token for a user (created with ROLE when missing); prints only the token.
    Create {
        /// User login name.
        #[arg(long)]
        user: String,
        /// Role for a new user, or added to an existing one.
        #[arg(long)]
        role: Option<String>,
        /// Label stored with the token.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserVerb {
    /// Add a user.
    Add {
        /// Login name.
        name: String,
        /// Roles, comma-separated: requester, agent, lead, approver, admin.
        #[arg(long, default_value = "requester")]
        roles: String,
        /// Email.
        #[arg(long)]
        email: Option<String>,
        /// Display name.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Args)]
struct Actor {
    /// Act as this user (login name).
    #[arg(long = "as", env = "TIERDESK_USER", default_value = "admin")]
    user: String,
}

struct Ctx {
    db: DatabaseUrl,
    kb_index: Option<PathBuf>,
    sla_seed: Option<tierdesk_app::sla::SlaSeed>,
    listen: String,
    log_json: bool,
    json: bool,
}

fn context(cli: &Cli) -> anyhow::Result<Ctx> {
    let (path, explicit) = match &cli.config {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("tierdesk.toml"), false),
    };
    let file = config::load(&path, explicit)?;
    let url = cli
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| config::DEFAULT_DATABASE_URL.to_owned());
    let db = DatabaseUrl::parse(&url).map_err(AppError::from)?;
    let kb_index = config::kb_index_dir(cli.kb_index.as_deref().or(file.kb_index.as_deref()), &db);
    Ok(Ctx {
        db,
        kb_index,
        sla_seed: file.sla,
        listen: file
            .listen
            .unwrap_or_else(|| config::DEFAULT_LISTEN.to_owned()),
        log_json: file.log_format.as_deref() == Some("json"),
        json: cli.json,
    })
}

/// Opens the database. Commands that search or write articles (`Index::Node`) use this node's
/// index on disk; the rest get an empty one in memory and never touch the index directory.
fn open_app(ctx: &Ctx, index: Index) -> anyhow::Result<App> {
    let kb = match (index, ctx.kb_index.as_deref()) {
        (Index::Node, Some(dir)) => KbSearch::open(dir)?,
        _ => KbSearch::in_memory()?,
    };
    let app = App::open_with_index(&ctx.db, Arc::new(SystemClock), kb)?;
    if index == Index::Node && ctx.kb_index.is_none() {
        tierdesk_app::search::catch_up(&app)?;
    }
    if let Some(seed) = ctx.sla_seed.clone() {
        tierdesk_app::sla::seed(&app, seed)?;
    }
    Ok(app)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    /// This node's search index.
    Node,
    /// None needed.
    Skip,
}

fn open(ctx: &Ctx) -> anyhow::Result<App> {
    open_app(ctx, Index::Skip)
}

fn actor(app: &App, a: &Actor) -> anyhow::Result<Principal> {
    let user = app
        .store
        .read(|r| r.user_by_name(&a.user))
        .map_err(AppError::from)?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "user '{}' (give --as NAME or add it with 'tierdesk user add')",
                a.user
            ))
        })?;
    Ok(Principal::from(user))
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut ctx = context(&cli)?;
    match cli.command {
        Command::Serve {
            listen,
            demo,
            log_json,
            no_background_jobs,
        } => {
            if let Some(l) = listen {
                ctx.listen = l;
            }
            ctx.log_json |= log_json;
            serve(&ctx, demo, !no_background_jobs)
        }
        Command::Sla {
            verb: SlaVerb::Repair { since },
        } => sla_repair(&ctx, since),
        Command::Kb { verb } => kb::kb(&ctx, verb),
        Command::Silence { verb } => alerting::silence(&ctx, verb),
        Command::Integration { verb } => alerting::integration(&ctx, verb),
        Command::Report {
            actor: a,
            from,
            to,
            group_by,
        } => report(&ctx, &a, from, to, group_by),
        Command::Migrate => {
            let app = open(&ctx)?;
            let applied = app.store.migrate(app.now()).map_err(AppError::from)?;
            print(
                ctx.json,
                &serde_json::json!({ "backend": app.store.backend_name(), "schema": "up to date" }),
                || {
                    format!(
                        "{}: schema up to date {}",
                        app.store.backend_name(),
                        if applied.is_empty() { "" } else { "(migrated)" }
                    )
                },
            );
            Ok(())
        }
        Command::Demo => {
            let app = open_app(&ctx, Index::Node)?;
            let summary = demo::load(&app)?;
            print_demo(&ctx, &summary);
            Ok(())
        }
        Command::Token {
            verb: TokenVerb::Create { user, role, label },
        } => {
            let app = open(&ctx)?;
            let role = role
                .as_deref()
                .map(|r| Role::parse("role", r))
                .transpose()
                .map_err(AppError::from)?;
            let token = auth::create_token(&app, &user, role, &label)?;
            line(&token);
            Ok(())
        }
        Command::User {
            verb:
                UserVerb::Add {
                    name,
                    roles,
                    email,
                    display_name,
                    password_stdin,
                },
        } => {
            let app = open(&ctx)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let roles = Roles::parse("roles", &roles).map_err(AppError::from)?;
            let user = auth::add_user(
                &app,
                auth::AddUser {
                    name,
                    display_name,
                    email,
                    roles,
                    password,
                },
            )?;
            print(ctx.json, &user, || {
                format!(
                    "added user {} (id {}, roles {})",
                    user.name,
                    user.id,
                    user.roles.to_list()
                )
            });
            Ok(())
        }
        Command::Ticket { verb } => ticket::ticket(&ctx, verb),
    }
}

fn print_demo(ctx: &Ctx, summary: &demo::DemoSummary) {
    let tokens: Vec<_> = summary
        .tokens
        .iter()
        .map(|(u, r, t)| serde_json::json!({ "user": u, "roles": r, "token": t }))
        .collect();
    print(
        ctx.json,
        &serde_json::json!({ "tokens": tokens, "tickets": summary.tickets }),
        || {
            let mut out =
                String::from("Loaded the demo organisation. Demo tokens (one per user):\n");
            for (u, r, t) in &summary.tokens {
                out.push_str(&format!("  {u:<7} {r:<16} {t}\n"));
            }
            out.push_str(&format!("Sample tickets: {}", summary.tickets.join(", ")));
            out
        },
    );
}

fn serve(ctx: &Ctx, demo_data: bool, background_jobs: bool) -> anyhow::Result<()> {
    init_logging(ctx.log_json);
    let app = open_app(ctx, Index::Node)?;
    if ctx.kb_index.is_some() {
        let start = std::time::Instant::now();
        let n = tierdesk_app::search::catch_up(&app)?;
        if n > 0 {
            tracing::info!(
                articles = n,
                ms = start.elapsed().as_millis() as u64,
                "search index brought up to date"
            );
        }
    }
    if demo_data && tierdesk_app::org::list_teams(&app)?.is_empty() {
        let summary = demo::load(&app)?;
        print_demo(ctx, &summary);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&ctx.listen)
            .await
            .with_context(|| format!("cannot listen on {}", ctx.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, backend = app.store.backend_name(), database = ?ctx.db, "tierdesk listening");
        eprintln!("tierdesk listening on http://{addr} ({} database)", app.store.backend_name());
        tierdesk_http::serve(listener, app, background_jobs, shutdown_signal()).await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIERDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

fn sla_repair(ctx: &Ctx, since: Option<String>) -> anyhow::Result<()> {
    let app = open(ctx)?;
    let since = since
        .map(|s| chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&chrono::Utc)))
        .transpose()
        .map_err(|e| AppError::invalid("since", format!("not an RFC 3339 time: {e}")))?;
    let json = ctx.json;
    let (checked, changed) = tierdesk_app::sla::repair(&app, since, &|checked, changed| {
        if !json {
            eprint!("\rchecked {checked} tickets, recomputed {changed}");
        }
    })?;
    if !json {
        eprintln!();
    }
    print(
        json,
        &serde_json::json!({ "checked": checked, "recomputed": changed }),
        || format!("checked {checked} tickets; recomputed the clocks of {changed}"),
    );
    Ok(())
}

fn report(
    ctx: &Ctx,
    a: &Actor,
    from: Option<String>,
    to: Option<String>,
    group_by: String,
) -> anyhow::Result<()> {
    let app = open(ctx)?;
    let p = actor(&app, a)?;
    let q = tierdesk_app::reports::ReportQuery {
        from,
        to,
        group_by: Some(group_by),
    };
    let s = tierdesk_app::reports::summary(&app, &p, &q)?;
    print(ctx.json, &s, || {
        let pct = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{:.1}%", x * 100.0));
        let dur = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{:.0}m", x / 60.0));
        let mut out = format!(
            "{} to {}, by {}\n{:<24} {:>7} {:>8} {:>6} {:>7} {:>7} {:>6} {:>7} {:>7} {:>8}\n",
            s.from.to_rfc3339(),
            s.to.to_rfc3339(),
            s.group_by,
            "group",
            "created",
            "resolved",
            "MTTA",
            "MTTR",
            "in SLA",
            "FCR",
            "L1>L2",
            "L2>L3",
            "backlog"
        );
        for r in &s.items {
            let backlog =
                r.backlog.under_1d + r.backlog.d1_to_3 + r.backlog.d3_to_7 + r.backlog.over_7d;
            out.push_str(&format!(
                "{:<24} {:>7} {:>8} {:>6} {:>7} {:>7} {:>6} {:>7} {:>7} {:>8}\n",
                r.group,
                r.created,
                r.resolved,
                dur(r.mtta_seconds),
                dur(r.mttr_seconds),
                pct(r.sla_compliance),
                pct(r.first_contact_resolution),
                pct(r.escalation_rate_l1_l2),
                pct(r.escalation_rate_l2_l3),
                backlog
            ));
        }
        out.trim_end().to_owned()
    });
    Ok(())
}

//! `tierdesk ticket …`: create, list, show, escalate, resolve.

use clap::Subcommand;
use tierdesk_app::tickets::{self, CreateTicket, ListQuery, Ref, ResolveInput, TierMoveInput};

use super::{Actor, Ctx, Index, actor, open_app};
use crate::output::{line, print};

#[derive(Debug, Subcommand)]
pub(crate) enum TicketVerb {
    /// Create a ticket.
    Create {
        #[command(flatten)]
        actor: Actor,
        /// Title.
        #[arg(long)]
        title: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// incident or request.
        #[arg(long)]
        kind: Option<String>,
        /// Impact 1 (high) – 3 (low).
        #[arg(long)]
        impact: Option<i64>,
        /// Urgency 1 (high) – 3 (low).
        #[arg(long)]
        urgency: Option<i64>,
        /// Service name.
        #[arg(long)]
        service: Option<String>,
        /// Category name.
        #[arg(long)]
        category: Option<String>,
        /// Requester (agents only).
        #[arg(long)]
        requester: Option<String>,
    },
    /// List tickets.
    List {
        #[command(flatten)]
        actor: Actor,
        /// Status, or "open".
        #[arg(long)]
        status: Option<String>,
        /// Tier (L1, L2, L3).
        #[arg(long)]
        tier: Option<String>,
        /// Team name.
        #[arg(long)]
        team: Option<String>,
        /// Sort: created or sla_due.
        #[arg(long)]
        sort: Option<String>,
        /// Page size.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Show a ticket and its timeline.
    Show {
        #[command(flatten)]
        actor: Actor,
        /// Ticket key.
        key: String,
    },
    /// Escalate to the next tier (or --to-tier) with a note.
    Escalate {
        #[command(flatten)]
        actor: Actor,
        /// Ticket key.
        key: String,
        /// What was tried.
        #[arg(long)]
        note: String,
        /// Target tier.
        #[arg(long)]
        to_tier: Option<String>,
        /// Target team.
        #[arg(long)]
        team: Option<String>,
    },
    /// Resolve with a code and note.
    Resolve {
        #[command(flatten)]
        actor: Actor,
        /// Ticket key.
        key: String,
        /// Resolution code (fixed, workaround, no_fault, …).
        #[arg(long)]
        code: String,
        /// What fixed it.
        #[arg(long)]
        note: String,
    },
}

pub(super) fn ticket(ctx: &Ctx, verb: TicketVerb) -> anyhow::Result<()> {
    let index = if matches!(verb, TicketVerb::Create { .. }) {
        Index::Node
    } else {
        Index::Skip
    };
    let app = open_app(ctx, index)?;
    let show = |v: &tierdesk_app::view::TicketView| {
        print(ctx.json, v, || {
            format!(
                "{} [{} {} {}] {} — team {}, assignee {}, response due {}",
                v.key,
                v.priority,
                v.tier,
                v.status,
                v.title,
                v.team.as_deref().unwrap_or("-"),
                v.assignee.as_deref().unwrap_or("-"),
                v.sla.response_due.map_or("-".into(), |d| d.to_rfc3339())
            )
        })
    };
    match verb {
        TicketVerb::Create {
            actor: a,
            title,
            description,
            kind,
            impact,
            urgency,
            service,
            category,
            requester,
        } => {
            let p = actor(&app, &a)?;
            let input = CreateTicket {
                title: Some(title),
                description,
                requester,
                kind,
                impact,
                urgency,
                category,
                service,
                channel: None,
                tags: None,
            };
            let created = tickets::create(&app, &p, input, None)?;
            let v = tickets::get(&app, &p, &created.key)?;
            show(&v);
        }
        TicketVerb::List {
            actor: a,
            status,
            tier,
            team,
            sort,
            limit,
        } => {
            let p = actor(&app, &a)?;
            let q = ListQuery {
                status,
                tier,
                team,
                sort,
                limit: Some(limit),
                ..ListQuery::default()
            };
            let page = tickets::list(&app, &p, &q)?;
            if ctx.json {
                print(true, &page, String::new);
            } else {
                for v in &page.items {
                    show(v);
                }
            }
        }
        TicketVerb::Show { actor: a, key } => {
            let p = actor(&app, &a)?;
            let v = tickets::get(&app, &p, &key)?;
            let timeline = tickets::timeline(&app, &p, &key)?;
            if ctx.json {
                print(
                    true,
                    &serde_json::json!({ "ticket": v, "timeline": timeline }),
                    String::new,
                );
            } else {
                show(&v);
                for e in &timeline {
                    line(&format!(
                        "  {} {:<8} {}",
                        e.at.to_rfc3339(),
                        e.actor,
                        e.kind
                    ));
                }
            }
        }
        TicketVerb::Escalate {
            actor: a,
            key,
            note,
            to_tier,
            team,
        } => {
            let p = actor(&app, &a)?;
            let input = TierMoveInput {
                note: Some(note),
                to_tier,
                team: team.map(Ref::Name),
                articles: None,
            };
            show(&tickets::move_tier(&app, &p, &key, input, true, None)?);
        }
        TicketVerb::Resolve {
            actor: a,
            key,
            code,
            note,
        } => {
            let p = actor(&app, &a)?;
            let input = ResolveInput {
                code: Some(code),
                note: Some(note),
                article_id: None,
            };
            show(&tickets::resolve(&app, &p, &key, input, None)?);
        }
    }
    Ok(())
}

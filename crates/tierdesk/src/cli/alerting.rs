//! `tierdesk silence …` and `tierdesk integration …`: monitoring alert intake.

use clap::Subcommand;

use super::{Actor, Ctx, actor, open};
use crate::output::print;

#[derive(Debug, Subcommand)]
pub(crate) enum SilenceVerb {
    /// Silence alerts matching every matcher, e.g. `alertname=DiskFull instance=~"db-.*"`.
    Add {
        #[command(flatten)]
        actor: Actor,
        /// Matchers: name=value, name!=value, name=~regex, name!~regex.
        #[arg(required = true)]
        matchers: Vec<String>,
        /// How long, e.g. 2h (from --starts-at or now).
        #[arg(long)]
        duration: Option<String>,
        /// Start (RFC 3339; default now).
        #[arg(long)]
        starts_at: Option<String>,
        /// End (RFC 3339), instead of --duration.
        #[arg(long)]
        ends_at: Option<String>,
        /// Why.
        #[arg(long)]
        comment: String,
    },
    /// Silences that have not ended.
    List {
        #[command(flatten)]
        actor: Actor,
    },
    /// End a silence now.
    Expire {
        #[command(flatten)]
        actor: Actor,
        /// Silence id.
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IntegrationVerb {
    /// Create an integration; prints its key once.
    Add {
        #[command(flatten)]
        actor: Actor,
        /// Unique name.
        name: String,
        /// alertmanager, grafana, pagerduty, generic or heartbeat.
        #[arg(long)]
        kind: String,
        /// Service its incidents are about.
        #[arg(long)]
        service: Option<String>,
        /// Team its incidents go to.
        #[arg(long)]
        team: Option<String>,
        /// Tier to open incidents at (L1, L2, …).
        #[arg(long)]
        tier: Option<String>,
        /// Expected heartbeat interval, e.g. 5m.
        #[arg(long)]
        heartbeat_interval: Option<String>,
    },
    /// Every integration (without keys).
    List {
        #[command(flatten)]
        actor: Actor,
    },
}

pub(super) fn silence(ctx: &Ctx, verb: SilenceVerb) -> anyhow::Result<()> {
    use tierdesk_app::intake::silences;
    let app = open(ctx)?;
    match verb {
        SilenceVerb::Add {
            actor: a,
            matchers,
            duration,
            starts_at,
            ends_at,
            comment,
        } => {
            let p = actor(&app, &a)?;
            let s = silences::create(
                &app,
                &p,
                silences::SilenceInput {
                    matchers: Some(matchers),
                    starts_at,
                    ends_at,
                    duration,
                    comment: Some(comment),
                },
            )?;
            print(ctx.json, &s, || {
                format!("silence {} until {}", s.id, s.ends_at.to_rfc3339())
            });
        }
        SilenceVerb::List { actor: a } => {
            let p = actor(&app, &a)?;
            let list = silences::list(&app, &p, false)?;
            print(ctx.json, &list, || {
                list.iter()
                    .map(|s| {
                        format!(
                            "{}\t{} → {}\t{}\t{}",
                            s.id,
                            s.starts_at.to_rfc3339(),
                            s.ends_at.to_rfc3339(),
                            s.matchers,
                            s.comment
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        SilenceVerb::Expire { actor: a, id } => {
            let p = actor(&app, &a)?;
            silences::expire(&app, &p, id)?;
            print(ctx.json, &serde_json::json!({"expired": id}), || {
                format!("silence {id} ended")
            });
        }
    }
    Ok(())
}

pub(super) fn integration(ctx: &Ctx, verb: IntegrationVerb) -> anyhow::Result<()> {
    use tierdesk_app::intake::integrations;
    let app = open(ctx)?;
    match verb {
        IntegrationVerb::Add {
            actor: a,
            name,
            kind,
            service,
            team,
            tier,
            heartbeat_interval,
        } => {
            let p = actor(&app, &a)?;
            let v = integrations::create(
                &app,
                &p,
                integrations::IntegrationInput {
                    name: Some(name),
                    kind: Some(kind),
                    service,
                    team,
                    tier,
                    heartbeat_interval,
                    ..Default::default()
                },
            )?;
            print(ctx.json, &v, || v.key.clone().unwrap_or_default());
        }
        IntegrationVerb::List { actor: a } => {
            let p = actor(&app, &a)?;
            let list = integrations::list(&app, &p)?;
            print(ctx.json, &list, || {
                list.iter()
                    .map(|i| format!("{}\t{}", i.integration.name, i.integration.kind))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

//! `tierdesk kb …`: import, export, reindex the knowledge base.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Actor, Ctx, Index, actor, open_app};
use crate::output::print;

#[derive(Debug, Subcommand)]
pub(crate) enum KbVerb {
    /// Import Markdown files with front matter from DIR (idempotent by file name = slug).
    Import {
        #[command(flatten)]
        actor: Actor,
        /// Folder of *.md files.
        dir: PathBuf,
    },
    /// Rebuild this node's search index from the database.
    Reindex,
    /// Export every article to DIR as <slug>.md.
    Export {
        #[command(flatten)]
        actor: Actor,
        /// Target folder (created when missing).
        dir: PathBuf,
    },
}

pub(super) fn progress_bar(json: bool) -> impl Fn(usize, usize) {
    move |done, total| {
        if !json && total > 0 {
            let width = 30;
            let filled = done * width / total;
            eprint!(
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    }
}

pub(super) fn kb(ctx: &Ctx, verb: KbVerb) -> anyhow::Result<()> {
    let app = open_app(ctx, Index::Node)?;
    match verb {
        KbVerb::Reindex => {
            let bar = progress_bar(ctx.json);
            let report = tierdesk_app::search::reindex(&app, &|done, total| {
                bar(
                    usize::try_from(done).unwrap_or(usize::MAX),
                    usize::try_from(total).unwrap_or(usize::MAX),
                );
            })?;
            print(ctx.json, &report, || {
                format!(
                    "indexed {} articles in {:.1} s{}",
                    report.articles,
                    report.millis as f64 / 1000.0,
                    report
                        .bytes
                        .map(|b| format!(", {:.1} MB on disk", b as f64 / 1e6))
                        .unwrap_or_default()
                )
            });
            Ok(())
        }
        KbVerb::Import { actor: a, dir } => {
            let p = actor(&app, &a)?;
            let report = tierdesk_app::kb_io::import(&app, &p, &dir, &progress_bar(ctx.json))?;
            print(ctx.json, &report, || {
                let mut out = format!(
                    "created {}, updated {}, unchanged {}, failed {}",
                    report.created.len(),
                    report.updated.len(),
                    report.unchanged.len(),
                    report.failed.len()
                );
                for (file, why) in &report.failed {
                    out.push_str(&format!("\n  {file}: {why}"));
                }
                out
            });
            if !report.failed.is_empty() {
                anyhow::bail!(
                    "{} file(s) were not imported (named above); the rest were",
                    report.failed.len()
                );
            }
            Ok(())
        }
        KbVerb::Export { actor: a, dir } => {
            let p = actor(&app, &a)?;
            let n = tierdesk_app::kb_io::export(&app, &p, &dir, &progress_bar(ctx.json))?;
            print(ctx.json, &serde_json::json!({ "exported": n }), || {
                format!("exported {n} articles to {}", dir.display())
            });
            Ok(())
        }
    }
}

//! Configuration: `tierdesk.toml`, overridden by `TIERDESK_*` environment variables and flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file's contents; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `sqlite://path` or `postgres://…`.
    pub database_url: Option<String>,
    /// Listen address for `serve`.
    pub listen: Option<String>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    /// Directory of this node's knowledge search index, or `memory`.
    pub kb_index: Option<String>,
    /// SLA calendars, policies and escalation rules to seed an empty database with.
    pub sla: Option<tierdesk_app::sla::SlaSeed>,
}

/// Reads `path` when it exists; a missing default file is not an error.
pub fn load(path: &Path, explicit: bool) -> anyhow::Result<FileConfig> {
    if !path.exists() {
        if explicit {
            anyhow::bail!("config file {} does not exist", path.display());
        }
        return Ok(FileConfig::default());
    }
    let text = std::fs::read_to_string(path)?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Defaults when nothing else sets a value.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./tierdesk.db";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where the search index lives when nothing says: beside a SQLite file (`tierdesk.db` →
/// `tierdesk.db.kb-index`), or `./tierdesk-kb-index` for PostgreSQL. `memory` keeps it in RAM
/// (rebuilt at every start).
pub fn kb_index_dir(setting: Option<&str>, db: &tierdesk_app::DatabaseUrl) -> Option<PathBuf> {
    match setting.filter(|s| !s.is_empty()) {
        Some("memory") => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => Some(match db {
            tierdesk_app::DatabaseUrl::Sqlite(path) => {
                let mut p = path.clone().into_os_string();
                p.push(".kb-index");
                PathBuf::from(p)
            }
            tierdesk_app::DatabaseUrl::Postgres(_) => PathBuf::from("tierdesk-kb-index"),
        }),
    }
}

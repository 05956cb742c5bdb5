//! Silences and maintenance windows: label matchers with a start and an end. Matching alerts
//! are recorded and visible but open no incident and notify no one; a resolution always passes.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tierdesk_domain::alert::Matcher;
use tierdesk_domain::duration::parse_duration;
use tierdesk_store::SilenceRecord;

use super::process::ActiveSilence;
use crate::{App, AppError, Principal};

/// `POST /silences` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceInput {
    /// Matchers like `alertname=DiskFull`, `env!=dev`, `instance=~"db-.*"`, `job!~test.*`.
    pub matchers: Option<Vec<String>>,
    /// Start (RFC 3339; default now).
    pub starts_at: Option<String>,
    /// End (RFC 3339); or give `duration`.
    pub ends_at: Option<String>,
    /// Length from the start, e.g. `2h`.
    pub duration: Option<String>,
    /// Why (required: a maintenance window without a reason helps nobody).
    pub comment: Option<String>,
}

fn time(field: &'static str, s: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| AppError::invalid(field, "an RFC 3339 time like 2026-11-23T22:00:00Z"))
}

/// Creates a silence (agents).
pub fn create(app: &App, p: &Principal, input: SilenceInput) -> Result<SilenceRecord, AppError> {
    p.require_agent()?;
    let texts = input.matchers.unwrap_or_default();
    if texts.is_empty() {
        return Err(AppError::invalid("matchers", "give at least one matcher"));
    }
    let matchers = texts
        .iter()
        .map(|t| Matcher::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let now = app.now();
    let starts_at = input
        .starts_at
        .as_deref()
        .map(|s| time("starts_at", s))
        .transpose()?
        .unwrap_or(now);
    let ends_at = match (input.ends_at.as_deref(), input.duration.as_deref()) {
        (Some(e), None) => time("ends_at", e)?,
        (None, Some(d)) => starts_at + chrono::Duration::seconds(parse_duration("duration", d)?),
        _ => {
            return Err(AppError::invalid(
                "ends_at",
                "give either ends_at or duration",
            ));
        }
    };
    if ends_at <= starts_at {
        return Err(AppError::invalid("ends_at", "must be after starts_at"));
    }
    let comment = input.comment.unwrap_or_default();
    if comment.trim().is_empty() {
        return Err(AppError::invalid(
            "comment",
            "say why (e.g. the change or maintenance)",
        ));
    }
    let mut rec = SilenceRecord {
        id: 0,
        matchers: serde_json::to_value(&matchers).unwrap_or_default(),
        starts_at,
        ends_at,
        comment,
        created_by: Some(p.id),
        created_at: now,
    };
    let r2 = rec.clone();
    rec.id = app.store.write(move |r| r.insert_silence(&r2))?;
    Ok(rec)
}

/// Silences that have not ended (agents), or all with `all`.
pub fn list(app: &App, p: &Principal, all: bool) -> Result<Vec<SilenceRecord>, AppError> {
    p.require_agent()?;
    let now = (!all).then(|| app.now());
    Ok(app.store.read(|r| r.list_silences(now))?)
}

/// Ends a silence now (agents).
pub fn expire(app: &App, p: &Principal, id: i64) -> Result<(), AppError> {
    p.require_agent()?;
    let now = app.now();
    if app.store.write(move |r| r.expire_silence(id, now))? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("active silence {id}")))
    }
}

/// Silences in force at `now`, compiled.
pub fn active(app: &App, now: DateTime<Utc>) -> Result<Vec<ActiveSilence>, AppError> {
    let list = app.store.read(|r| r.list_silences(Some(now)))?;
    Ok(list
        .into_iter()
        .filter(|s| s.starts_at <= now)
        .filter_map(|s| {
            let matchers: Vec<Matcher> = serde_json::from_value(s.matchers).ok()?;
            let matchers = matchers
                .into_iter()
                .map(Matcher::compiled)
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            Some(ActiveSilence { id: s.id, matchers })
        })
        .collect())
}

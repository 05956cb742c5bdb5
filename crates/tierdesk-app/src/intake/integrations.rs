//! Integrations (admin): where alerts come from, whom their incidents go to, and the policies
//! applied to them. Each has a secret key: 32 hex characters (PagerDuty clients accept it as a
//! `routing_key`), shown once, stored only as its SHA-256.

use std::collections::BTreeMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tierdesk_domain::duration::parse_duration;
use tierdesk_store::IntegrationRecord;

use crate::tickets::{Ref, resolve_team, tier_by_short};
use crate::{App, AppError, Principal};

/// Integration kinds.
pub const KINDS: [&str; 5] = [
    "alertmanager",
    "grafana",
    "pagerduty",
    "generic",
    "heartbeat",
];

/// A new random key.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a key.
pub fn key_hash(key: &str) -> String {
    Sha256::digest(key.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `POST /integrations` and `PATCH /integrations/{name}` body.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationInput {
    /// Unique name.
    pub name: Option<String>,
    /// `alertmanager`, `grafana`, `pagerduty`, `generic` or `heartbeat` (create only).
    pub kind: Option<String>,
    /// Team name for its incidents (default: routed by service and tier).
    pub team: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Tier to open incidents at (`L1`, `L2`, …; default the first).
    pub tier: Option<String>,
    /// Severity → `[impact, urgency]`, e.g. `{"warning": [3, 2]}`.
    pub severity_map: Option<BTreeMap<String, [i64; 2]>>,
    /// `resolve` (default) or `annotate`.
    pub resolve_policy: Option<String>,
    /// A group firing again this soon after its incident was resolved reopens it (`30m`).
    pub reopen_window: Option<String>,
    /// State changes within `flap_window` that mark a group flapping (default 6; 0 = off).
    pub flap_changes: Option<i64>,
    /// Flap window (`30m`).
    pub flap_window: Option<String>,
    /// New groups per minute beyond which more join one storm incident (default 50; 0 = off).
    pub storm_groups_per_minute: Option<i64>,
    /// Expected heartbeat interval (`5m`); a missed beat opens an incident.
    pub heartbeat_interval: Option<String>,
    /// A firing group not heard of for this long is stale and its incident resolves (per the
    /// resolve policy), e.g. `12h` (three Alertmanager repeat intervals); `0` = never.
    pub stale_after: Option<String>,
}

/// An integration as shown to admins; `key` only in the answer that created or rotated it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IntegrationView {
    /// Settings.
    #[serde(flatten)]
    pub integration: IntegrationRecord,
    /// The secret key (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Receiver URLs for this kind (put the key in the last segment or send it as a Bearer
    /// token).
    pub endpoints: Vec<String>,
}

fn endpoints(kind: &str) -> Vec<String> {
    match kind {
        "pagerduty" => vec!["/v2/enqueue (routing_key = key)".into()],
        "heartbeat" => vec!["/api/v1/intake/heartbeat/{key}".into()],
        k => vec![
            format!("/api/v1/intake/{k}/{{key}}"),
            "/api/v1/intake/heartbeat/{key}".into(),
        ],
    }
}

fn view(i: IntegrationRecord, key: Option<String>) -> IntegrationView {
    let endpoints = endpoints(&i.kind);
    IntegrationView {
        integration: i,
        key,
        endpoints,
    }
}

fn secs(field: &'static str, v: &Option<String>) -> Result<Option<i64>, AppError> {
    v.as_deref()
        .map(|t| parse_duration(field, t).map_err(AppError::from))
        .transpose()
}

fn apply(
    repo: &mut tierdesk_store::Repo<'_>,
    i: &mut IntegrationRecord,
    input: IntegrationInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    if let Some(n) = input.name {
        let n = n.trim().to_owned();
        if n.is_empty() || n.len() > 100 {
            return Err(AppError::invalid(
                "name",
                "is required, at most 100 characters",
            ));
        }
        i.name = n;
    }
    if let Some(t) = &input.team {
        i.team_id = Some(resolve_team(repo, "team", &Ref::Name(t.clone()))?.id);
    }
    if let Some(s) = &input.service {
        i.service_id = Some(
            repo.service_by_name(s)?
                .ok_or_else(|| AppError::invalid("service", format!("unknown service '{s}'")))?
                .id,
        );
    }
    if let Some(t) = &input.tier {
        let tiers = repo.list_tiers()?;
        i.tier = i64::from(tier_by_short(&tiers, "tier", t)?.level);
    }
    if let Some(m) = input.severity_map {
        if m.values().flatten().any(|v| !(1..=4).contains(v)) {
            return Err(AppError::invalid(
                "severity_map",
                "impact and urgency are 1–4",
            ));
        }
        let lower: BTreeMap<String, [i64; 2]> = m
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        i.severity_map = serde_json::to_value(lower).unwrap_or_default();
    }
    if let Some(p) = input.resolve_policy {
        if !["resolve", "annotate"].contains(&p.as_str()) {
            return Err(AppError::invalid("resolve_policy", "resolve or annotate"));
        }
        i.resolve_policy = p;
    }
    if let Some(s) = secs("reopen_window", &input.reopen_window)? {
        i.reopen_window_secs = s;
    }
    if let Some(n) = input.flap_changes {
        if !(0..=1000).contains(&n) {
            return Err(AppError::invalid("flap_changes", "0–1000"));
        }
        i.flap_changes = n;
    }
    if let Some(s) = secs("flap_window", &input.flap_window)? {
        i.flap_window_secs = s.max(1);
    }
    if let Some(n) = input.storm_groups_per_minute {
        if !(0..=1_000_000).contains(&n) {
            return Err(AppError::invalid("storm_groups_per_minute", "0–1000000"));
        }
        i.storm_groups_per_minute = n;
    }
    if let Some(s) = secs("stale_after", &input.stale_after)? {
        i.stale_after_secs = (s > 0).then_some(s);
    }
    if let Some(s) = secs("heartbeat_interval", &input.heartbeat_interval)? {
        if s < 1 {
            return Err(AppError::invalid("heartbeat_interval", "at least 1s"));
        }
        i.heartbeat_interval_secs = Some(s);
        i.heartbeat_due_at = Some(now + chrono::Duration::seconds(s));
    }
    i.updated_at = now;
    Ok(())
}

/// Creates an integration (admins); the answer carries the key, once.
pub fn create(
    app: &App,
    p: &Principal,
    input: IntegrationInput,
) -> Result<IntegrationView, AppError> {
    p.require_admin()?;
    let kind = input
        .kind
        .clone()
        .ok_or_else(|| AppError::invalid("kind", format!("one of: {}", KINDS.join(", "))))?;
    if !KINDS.contains(&kind.as_str()) {
        return Err(AppError::invalid(
            "kind",
            format!("one of: {}", KINDS.join(", ")),
        ));
    }
    if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::invalid("name", "is required"));
    }
    let now = app.now();
    let key = new_key();
    let hash = key_hash(&key);
    let saved = app.store.write(move |r| {
        let mut i = IntegrationRecord {
            id: 0,
            name: String::new(),
            kind,
            team_id: None,
            service_id: None,
            tier: 1,
            severity_map: serde_json::json!({}),
            resolve_policy: "resolve".into(),
            reopen_window_secs: 1800,
            flap_changes: 6,
            flap_window_secs: 1800,
            storm_groups_per_minute: 50,
            storm_ticket_id: None,
            stale_after_secs: None,
            heartbeat_interval_secs: None,
            heartbeat_due_at: None,
            heartbeat_ticket_id: None,
            created_at: now,
            updated_at: now,
        };
        apply(r, &mut i, input, now)?;
        if r.integration_by_name(&i.name)?.is_some() {
            return Err(AppError::Conflict(format!(
                "an integration named '{}' exists",
                i.name
            )));
        }
        i.id = r.insert_integration(&i, &hash)?;
        Ok::<_, AppError>(i)
    })?;
    Ok(view(saved, Some(key)))
}

/// Changes an integration's settings (admins).
pub fn update(
    app: &App,
    p: &Principal,
    name: &str,
    input: IntegrationInput,
) -> Result<IntegrationView, AppError> {
    p.require_admin()?;
    if input.kind.is_some() {
        return Err(AppError::invalid(
            "kind",
            "cannot change; create another integration",
        ));
    }
    let (name, now) = (name.to_owned(), app.now());
    let saved = app.store.write(move |r| {
        let mut i = r
            .integration_by_name(&name)?
            .ok_or_else(|| AppError::NotFound(format!("integration '{name}'")))?;
        apply(r, &mut i, input, now)?;
        r.update_integration(&i)?;
        Ok::<_, AppError>(i)
    })?;
    Ok(view(saved, None))
}

/// Replaces an integration's key (admins); the old one stops working at once.
pub fn rotate_key(app: &App, p: &Principal, name: &str) -> Result<IntegrationView, AppError> {
    p.require_admin()?;
    let (name, key) = (name.to_owned(), new_key());
    let hash = key_hash(&key);
    let saved = app.store.write(move |r| {
        let i = r
            .integration_by_name(&name)?
            .ok_or_else(|| AppError::NotFound(format!("integration '{name}'")))?;
        r.set_integration_key(i.id, &hash)?;
        Ok::<_, AppError>(i)
    })?;
    Ok(view(saved, Some(key)))
}

/// Every integration (admins), without keys.
pub fn list(app: &App, p: &Principal) -> Result<Vec<IntegrationView>, AppError> {
    p.require_admin()?;
    Ok(app
        .store
        .read(|r| r.list_integrations())?
        .into_iter()
        .map(|i| view(i, None))
        .collect())
}

/// The integration a key belongs to; a wrong key is `Unauthorized`.
pub fn by_key(app: &App, key: &str) -> Result<IntegrationRecord, AppError> {
    let hash = key_hash(key);
    app.store
        .read(|r| r.integration_by_key_hash(&hash))?
        .ok_or_else(|| AppError::Unauthorized("unknown integration key".into()))
}

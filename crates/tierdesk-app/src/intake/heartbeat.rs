//! Heartbeats (dead-man's switch): an integration with an expected interval must be heard from
//! — a beat on `/api/v1/intake/heartbeat/{key}`, or Alertmanager's always-firing `Watchdog`
//! alert — at least that often. A missed beat opens an incident; the next beat resolves it.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tierdesk_domain::alert::{AlertState, Notification};
use tierdesk_domain::ticket::{Level, NewTicket};
use tierdesk_domain::{Channel, EventKind, Kind};
use tierdesk_store::{IntegrationRecord, Repo};

use super::process::MONITORING_USER;
use crate::sla::SlaConfig;
use crate::tickets::{OpenSpec, open_in, system_change};
use crate::{App, AppError};

/// Whether a notification is Alertmanager's `Watchdog` (or any alert named so).
pub fn is_watchdog(n: &Notification) -> bool {
    n.status == AlertState::Firing
        && !n.alerts.is_empty()
        && n.alerts
            .iter()
            .all(|a| a.labels.get("alertname").is_some_and(|v| v == "Watchdog"))
}

/// Records a beat inside a write: pushes the deadline and resolves a missed-beat incident.
pub(crate) fn beat_in(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    integration: &IntegrationRecord,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut i = repo
        .integration_for_update(integration.id)?
        .ok_or_else(|| AppError::NotFound("integration".into()))?;
    let Some(every) = i.heartbeat_interval_secs else {
        return Err(AppError::invalid(
            "heartbeat_interval",
            format!("integration '{}' expects no heartbeat", i.name),
        ));
    };
    i.heartbeat_due_at = Some(now + Duration::seconds(every));
    if let Some(id) = i.heartbeat_ticket_id.take()
        && repo
            .ticket_by_id(id, false)?
            .is_some_and(|t| t.status.is_open())
    {
        system_change(repo, cfg, id, now, move |t| {
            t.resolve("auto_resolved", "The heartbeat is back.", None, now)?;
            Ok((EventKind::Resolved, false, json!({"heartbeat": "received"})))
        })?;
    }
    i.updated_at = now;
    repo.update_integration(&i)?;
    Ok(())
}

/// A beat from the heartbeat endpoint.
pub fn beat(app: &App, integration: &IntegrationRecord) -> Result<Option<DateTime<Utc>>, AppError> {
    let now = app.now();
    let cache = app.config.clone();
    let i = integration.clone();
    app.store.write(move |repo| {
        let cfg = cache.get(repo)?;
        beat_in(repo, &cfg, &i, now)?;
        Ok(i.heartbeat_interval_secs
            .map(|s| now + Duration::seconds(s)))
    })
}

/// Opens an incident for every integration whose beat is overdue at `now`; returns how many.
pub fn check_overdue(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let due = app.store.read(|r| r.overdue_heartbeats(now))?;
    let mut opened = 0;
    for d in due {
        let cache = app.config.clone();
        let did = app.store.write(move |repo| {
            let Some(mut i) = repo.integration_for_update(d.id)? else {
                return Ok(false);
            };
            if i.heartbeat_ticket_id.is_some() || i.heartbeat_due_at.is_none_or(|t| t > now) {
                return Ok(false);
            }
            let cfg = cache.get(repo)?;
            let monitoring = repo
                .user_by_name(MONITORING_USER)?
                .ok_or_else(|| AppError::Conflict("the monitoring user is missing".into()))?
                .id;
            let last = i
                .heartbeat_due_at
                .zip(i.heartbeat_interval_secs)
                .map(|(d, s)| (d - Duration::seconds(s)).to_rfc3339());
            let t = open_in(
                repo,
                &cfg,
                OpenSpec {
                    new: NewTicket {
                        kind: Kind::Incident,
                        title: format!("Heartbeat missed: {}", i.name),
                        description: format!(
                            "No heartbeat from `{}` since {}; expected every {} s. The monitoring \
                             pipeline itself may be down. The next beat resolves this incident.",
                            i.name,
                            last.unwrap_or_else(|| "its creation".into()),
                            i.heartbeat_interval_secs.unwrap_or(0)
                        ),
                        requester_id: monitoring,
                        channel: Channel::Alert,
                        category_id: None,
                        service_id: i.service_id,
                        impact: Level::new("impact", 2).unwrap_or(Level::MEDIUM),
                        urgency: Level::new("urgency", 1).unwrap_or(Level::MEDIUM),
                        tags: vec!["alert".into(), "heartbeat".into()],
                    },
                    tier: i32::try_from(i.tier).ok(),
                    team: i.team_id,
                    actor: None,
                    by_agent: false,
                },
                now,
            )?;
            i.heartbeat_ticket_id = Some(t.id);
            i.updated_at = now;
            repo.update_integration(&i)?;
            Ok::<_, AppError>(true)
        })?;
        opened += usize::from(did);
    }
    Ok(opened)
}

/// The next time a heartbeat falls due.
pub fn next_due(app: &App) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(app.store.read(|r| r.next_heartbeat_due())?)
}

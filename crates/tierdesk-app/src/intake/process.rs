//! Applying one notification, in one transaction with its raw body: dedup of redeliveries,
//! silences, the group and its alerts, flapping, storms, and the group's incident (open, add
//! alerts, resolve or annotate, reopen).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use tierdesk_domain::alert::{
    AlertInstance, AlertState, Matcher, Notification, all_match, flapping, impact_urgency,
};
use tierdesk_domain::ticket::NewTicket;
use tierdesk_domain::{Channel, EventKind, Kind, Status, Ticket};
use tierdesk_store::{AlertGroupRecord, AlertUpsert, IntegrationRecord, Repo};

use crate::AppError;
use crate::sla::SlaConfig;
use crate::tickets::{OpenSpec, open_in, system_change};

/// The login of the user alert-born incidents are filed by.
pub const MONITORING_USER: &str = "monitoring";

/// What became of a notification.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    /// `accepted`, `duplicate` (a redelivery: nothing changed), `silenced` or `heartbeat`.
    pub outcome: String,
    /// The group key.
    pub group_key: String,
    /// The incident the group belongs to, if any.
    pub ticket: Option<String>,
    /// What happened to it: `opened`, `updated`, `resolved`, `annotated`, `reopened`,
    /// `storm`, or none.
    pub action: Option<String>,
}

/// A silence, compiled.
#[derive(Debug, Clone)]
pub struct ActiveSilence {
    /// Id.
    pub id: i64,
    /// Its matchers.
    pub matchers: Vec<Matcher>,
}

fn render_description(n: &Notification, integration: &str) -> String {
    let mut out = String::new();
    if !n.description.trim().is_empty() {
        out.push_str(n.description.trim());
        out.push_str("\n\n");
    }
    if !n.labels.is_empty() {
        let labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
        out.push_str(&format!("**Labels:** {}\n\n", labels.join(" ")));
    }
    let mut links: Vec<String> = Vec::new();
    for l in n
        .alerts
        .iter()
        .flat_map(|a| a.links.iter())
        .chain(n.links.iter())
    {
        let text = l.text.clone().unwrap_or_else(|| {
            let mut t = l.rel.clone();
            if let Some(c) = t.get_mut(..1) {
                c.make_ascii_uppercase();
            }
            t
        });
        let item = format!("[{text}]({})", l.href);
        if !links.contains(&item) {
            links.push(item);
        }
    }
    if !links.is_empty() {
        out.push_str(&format!("**Links:** {}\n\n", links.join(" · ")));
    }
    if n.truncated > 0 {
        out.push_str(&format!(
            "The sender left out {} more alerts of this group (`max_alerts`).\n\n",
            n.truncated
        ));
    }
    out.push_str(&format!("Opened by the `{integration}` integration."));
    out
}

fn alert_json(a: &AlertInstance) -> serde_json::Value {
    json!({"fingerprint": a.fingerprint, "summary": a.summary, "severity": a.severity, "labels": a.labels})
}

/// Whether a new group joins the integration's storm incident: more than the allowed new groups
/// arrived in the last minute.
fn storm_or_new(
    repo: &mut Repo<'_>,
    i: &IntegrationRecord,
    g: &AlertGroupRecord,
    created: bool,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    if !created || i.storm_groups_per_minute <= 0 {
        return Ok(false);
    }
    let recent = repo.count_new_groups(i.id, now - Duration::seconds(60))?;
    Ok(recent > i.storm_groups_per_minute && g.ticket_id.is_none())
}

struct Ctx<'a> {
    cfg: &'a SlaConfig,
    integration: &'a IntegrationRecord,
    monitoring: i64,
    now: DateTime<Utc>,
}

fn open_incident(
    repo: &mut Repo<'_>,
    c: &Ctx<'_>,
    n: &Notification,
    title: &str,
) -> Result<Ticket, AppError> {
    let overrides = serde_json::from_value(c.integration.severity_map.clone()).unwrap_or_default();
    let (impact, urgency) = impact_urgency(n.severity(), &overrides);
    let title: String = title.chars().take(300).collect();
    open_in(
        repo,
        c.cfg,
        OpenSpec {
            new: NewTicket {
                kind: Kind::Incident,
                title: if title.trim().is_empty() {
                    "Alert".into()
                } else {
                    title
                },
                description: render_description(n, &c.integration.name),
                requester_id: c.monitoring,
                channel: Channel::Alert,
                category_id: None,
                service_id: c.integration.service_id,
                impact,
                urgency,
                tags: vec!["alert".into(), c.integration.kind.clone()],
            },
            tier: i32::try_from(c.integration.tier).ok(),
            team: c.integration.team_id,
            actor: None,
            by_agent: false,
        },
        c.now,
    )
}

fn note(
    repo: &mut Repo<'_>,
    c: &Ctx<'_>,
    ticket_id: i64,
    data: serde_json::Value,
) -> Result<Ticket, AppError> {
    system_change(repo, c.cfg, ticket_id, c.now, move |_| {
        Ok((EventKind::Alert, false, data))
    })
}

/// What a snapshot changed among a group's alerts.
struct AlertChanges {
    /// Alerts firing now that were not before (and are not silenced).
    added: Vec<serde_json::Value>,
    /// Alerts resolved now that were firing.
    resolved: Vec<serde_json::Value>,
    /// Some alert fires and no silence matches it.
    firing_unmuted: bool,
    /// Some firing alert is silenced.
    firing_muted: bool,
}

/// Stores every alert of the snapshot (silenced ones marked) and reports what changed.
fn upsert_alerts(
    repo: &mut Repo<'_>,
    group_id: i64,
    n: &Notification,
    silences: &[ActiveSilence],
    now: DateTime<Utc>,
) -> Result<AlertChanges, AppError> {
    let mut ch = AlertChanges {
        added: Vec::new(),
        resolved: Vec::new(),
        firing_unmuted: false,
        firing_muted: false,
    };
    for a in &n.alerts {
        let mut labels = n.labels.clone();
        labels.extend(a.labels.clone());
        let muted = a.status == AlertState::Firing
            && silences.iter().any(|s| all_match(&s.matchers, &labels));
        let prev = repo.upsert_alert(
            group_id,
            &AlertUpsert {
                fingerprint: &a.fingerprint,
                status: a.status.as_str(),
                severity: a.severity.as_deref(),
                summary: &a.summary,
                labels: serde_json::to_value(&a.labels).unwrap_or_default(),
                annotations: serde_json::to_value(&a.annotations).unwrap_or_default(),
                links: serde_json::to_value(&a.links).unwrap_or_default(),
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                silenced: muted,
            },
            now,
        )?;
        match (a.status, muted) {
            (AlertState::Firing, true) => ch.firing_muted = true,
            (AlertState::Firing, false) => {
                ch.firing_unmuted = true;
                if prev.as_deref() != Some("firing") {
                    ch.added.push(alert_json(a));
                }
            }
            (AlertState::Resolved, _) => {
                if prev.as_deref() == Some("firing") {
                    ch.resolved.push(alert_json(a));
                }
            }
        }
    }
    Ok(ch)
}

/// The integration's open storm incident, opened when there is none; the group joins it.
fn join_storm(
    repo: &mut Repo<'_>,
    c: &Ctx<'_>,
    n: &Notification,
    added: &[serde_json::Value],
) -> Result<Ticket, AppError> {
    let mut i = repo
        .integration_for_update(c.integration.id)?
        .ok_or_else(|| AppError::NotFound("integration".into()))?;
    let open_storm = match i.storm_ticket_id {
        Some(id) => repo.ticket_by_id(id, true)?.filter(|t| t.status.is_open()),
        None => None,
    };
    let storm = match open_storm {
        Some(t) => t,
        None => {
            let mut sn = n.clone();
            sn.description = format!(
                "More than {} new alert groups a minute arrived from `{}`; further groups are attached here instead of opening incidents of their own.",
                i.storm_groups_per_minute, i.name
            );
            let t = open_incident(repo, c, &sn, &format!("Alert storm: {}", i.name))?;
            i.storm_ticket_id = Some(t.id);
            i.updated_at = c.now;
            repo.update_integration(&i)?;
            t
        }
    };
    note(
        repo,
        c,
        storm.id,
        json!({"action": "storm_attached", "group": n.group_key, "title": n.title, "alerts": added}),
    )?;
    Ok(storm)
}

/// Applies `n` from `integration` (the raw body already recorded).
pub(crate) fn apply(
    repo: &mut Repo<'_>,
    cfg: &SlaConfig,
    integration: &IntegrationRecord,
    monitoring: i64,
    n: &Notification,
    silences: &[ActiveSilence],
    now: DateTime<Utc>,
) -> Result<Receipt, AppError> {
    let c = Ctx {
        cfg,
        integration,
        monitoring,
        now,
    };
    let (mut g, created) =
        repo.alert_group_for_update(integration.id, &n.group_key, &n.title, now)?;
    let before = (!created).then(|| g.status.clone());
    g.notifications += 1;
    g.last_seen = now;
    // A PagerDuty acknowledge or resolve carries no payload: keep what the trigger said.
    if !n.title.is_empty() && n.title != n.group_key {
        g.title = n.title.clone();
    }
    if !n.labels.is_empty() {
        g.labels = serde_json::to_value(&n.labels).unwrap_or_default();
    }
    if !n.links.is_empty() {
        g.links = serde_json::to_value(&n.links).unwrap_or_default();
    }

    let AlertChanges {
        added,
        resolved,
        firing_unmuted,
        firing_muted,
    } = upsert_alerts(repo, g.id, n, silences, now)?;
    let firing =
        n.status == AlertState::Firing && (firing_unmuted || firing_muted || n.alerts.is_empty());
    let state = if firing {
        AlertState::Firing
    } else {
        AlertState::Resolved
    };
    let changed = before.as_deref().map_or(firing, |b| b != state.as_str());
    let history: Vec<DateTime<Utc>> =
        serde_json::from_value(g.state_changes.clone()).unwrap_or_default();
    let (kept, flaps) = flapping(
        &history,
        changed,
        now,
        usize::try_from(integration.flap_changes).unwrap_or(0),
        Duration::seconds(integration.flap_window_secs),
    );
    let became_flapping = flaps && !g.flapping;
    // Hysteresis: a flapping group calms down once fewer than half the threshold of changes
    // remain in the window.
    let threshold = usize::try_from(integration.flap_changes).unwrap_or(0);
    g.flapping = flaps || (g.flapping && kept.len() * 2 >= threshold.max(1));
    g.state_changes = serde_json::to_value(&kept).unwrap_or_default();
    g.status = state.as_str().to_owned();
    g.silenced = firing && !firing_unmuted && firing_muted;

    let current = match g.ticket_id {
        Some(id) => repo.ticket_by_id(id, true)?,
        None => None,
    };
    let is_storm_ticket =
        |t: &Ticket| integration.storm_ticket_id == Some(t.id) && t.status.is_open();
    let mut action: Option<&str> = None;
    let mut ticket_key = current.as_ref().map(|t| t.key.clone());

    if firing && firing_unmuted {
        match &current {
            Some(t) if t.status.is_open() => {
                if !added.is_empty() && !created {
                    note(
                        repo,
                        &c,
                        t.id,
                        json!({"action": "alerts_added", "group": n.group_key, "alerts": added}),
                    )?;
                    action = Some("updated");
                }
                if !resolved.is_empty() {
                    note(
                        repo,
                        &c,
                        t.id,
                        json!({"action": "alerts_resolved", "group": n.group_key, "alerts": resolved}),
                    )?;
                    action = Some("updated");
                }
                if became_flapping {
                    note(
                        repo,
                        &c,
                        t.id,
                        json!({"action": "flapping", "group": n.group_key, "changes": kept.len()}),
                    )?;
                    action = Some("flapping");
                }
                if n.acknowledge {
                    note(
                        repo,
                        &c,
                        t.id,
                        json!({"action": "acknowledged", "group": n.group_key}),
                    )?;
                    action = Some("acknowledged");
                }
            }
            Some(t)
                if t.status == Status::Resolved
                    && (g.flapping
                        || t.resolved_at.is_some_and(|r| {
                            now - r <= Duration::seconds(integration.reopen_window_secs)
                        })) =>
            {
                let data = json!({"reason": "the alert group fired again", "group": n.group_key, "alerts": added});
                system_change(repo, cfg, t.id, now, move |t| {
                    t.transition(Status::InProgress, None, now)?;
                    Ok((EventKind::StatusChanged, false, data))
                })?;
                action = Some("reopened");
            }
            // PagerDuty drops an acknowledge for a key with no open alert; so do we.
            _ if n.acknowledge => {}
            _ => {
                if storm_or_new(repo, integration, &g, created, now)? {
                    let storm = join_storm(repo, &c, n, &added)?;
                    g.ticket_id = Some(storm.id);
                    ticket_key = Some(storm.key.clone());
                    action = Some("storm");
                } else {
                    let t = open_incident(repo, &c, n, &n.title)?;
                    repo.set_ticket_alert_group(t.id, g.id)?;
                    g.ticket_id = Some(t.id);
                    ticket_key = Some(t.key.clone());
                    action = Some("opened");
                }
            }
        }
    } else if let Some(t) = current.as_ref().filter(|t| t.status.is_open()) {
        if !firing && (changed || !resolved.is_empty()) {
            let annotate_only =
                integration.resolve_policy == "annotate" || g.flapping || is_storm_ticket(t);
            if annotate_only {
                let why = if g.flapping {
                    "flapping"
                } else if is_storm_ticket(t) {
                    "storm incident"
                } else {
                    "policy"
                };
                note(
                    repo,
                    &c,
                    t.id,
                    json!({"action": "resolved", "group": n.group_key, "alerts": resolved, "kept_open": why}),
                )?;
                action = Some("annotated");
            } else {
                system_change(repo, cfg, t.id, now, move |t| {
                    t.resolve(
                        "auto_resolved",
                        "Every alert of the group resolved.",
                        None,
                        now,
                    )?;
                    Ok((EventKind::Resolved, false, json!({"alerts": resolved})))
                })?;
                action = Some("resolved");
            }
        } else if !resolved.is_empty() {
            note(
                repo,
                &c,
                t.id,
                json!({"action": "alerts_resolved", "group": n.group_key, "alerts": resolved}),
            )?;
            action = Some("updated");
        }
    }
    repo.update_alert_group(&g)?;
    let outcome = if firing && !firing_unmuted && firing_muted {
        "silenced"
    } else {
        "accepted"
    };
    Ok(Receipt {
        outcome: outcome.into(),
        group_key: n.group_key.clone(),
        ticket: ticket_key,
        action: action.map(str::to_owned),
    })
}

/// Resolves (or, per policy and while flapping, annotates) the incidents of firing groups that
/// integrations with `stale_after` have not heard of since: the resolution the sender never
/// sent (silenced or inhibited upstream, lost). Returns how many groups went stale.
pub fn sweep_stale(app: &crate::App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let integrations = app.store.read(|r| r.list_integrations())?;
    let mut total = 0;
    for i in integrations {
        let Some(after) = i.stale_after_secs else {
            continue;
        };
        let cutoff = now - Duration::seconds(after);
        let (id, cache) = (i.id, app.config.clone());
        let n = app.store.write(move |repo| {
            let cfg = cache.get(repo)?;
            let mut n = 0;
            for g in repo.stale_groups(id, cutoff)? {
                let (mut g, _) = repo.alert_group_for_update(id, &g.group_key, &g.title, now)?;
                if g.status != "firing" || g.last_seen >= cutoff {
                    continue;
                }
                repo.resolve_group_alerts(g.id, now)?;
                g.status = "resolved".into();
                let open = match g.ticket_id {
                    Some(t) => repo.ticket_by_id(t, true)?.filter(|t| t.status.is_open()),
                    None => None,
                };
                if let Some(t) = open {
                    let data = json!({"action": "stale", "group": g.group_key, "last_seen": g.last_seen, "stale_after_secs": after});
                    if i.resolve_policy == "annotate" || g.flapping || i.storm_ticket_id == Some(t.id) {
                        system_change(repo, &cfg, t.id, now, move |_| {
                            Ok((EventKind::Alert, false, data))
                        })?;
                    } else {
                        system_change(repo, &cfg, t.id, now, move |t| {
                            t.resolve(
                                "auto_resolved",
                                "No notification for the alert group within stale_after; resolved as stale.",
                                None,
                                now,
                            )?;
                            Ok((EventKind::Resolved, false, data))
                        })?;
                    }
                }
                repo.update_alert_group(&g)?;
                n += 1;
            }
            Ok::<_, AppError>(n)
        })?;
        total += n;
    }
    Ok(total)
}

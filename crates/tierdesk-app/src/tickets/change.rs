//! Ticket changes: every one loads, checks, changes and saves the ticket with its timeline
//! event (and recomputed clocks) in one transaction.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tierdesk_domain::event::EventKind;
use tierdesk_domain::ticket::check_note;
use tierdesk_domain::{NewEvent, PendingReason, Priority, Status, Ticket};
use tierdesk_store::{Repo, StoreError};

use crate::sla::{fact_for, refresh};
use crate::view::{Names, TicketView};
use crate::{App, AppError, Principal, webhooks};

use super::{Ref, check_text, load_visible, resolve_team, resolve_user, route_team, tier_by_short};

/// What a change operation returns: the event kind, visibility and extra data.
type Change = (EventKind, bool, serde_json::Value);

/// Loads, checks, changes and saves a ticket with its event, in one transaction.
fn mutate<F>(
    app: &App,
    p: &Principal,
    key: &str,
    if_match: Option<i64>,
    agent_only: bool,
    op: F,
) -> Result<TicketView, AppError>
where
    F: FnOnce(&mut Repo<'_>, &Principal, &mut Ticket, DateTime<Utc>) -> Result<Change, AppError>
        + Send
        + 'static,
{
    let p = p.clone();
    let key = key.to_owned();
    let now = app.now();
    let cache = app.config.clone();
    app.store.write(move |repo| {
        let mut t = load_visible(repo, &p, &key, true)?;
        if agent_only {
            p.require_agent()?;
        }
        if let Some(v) = if_match
            && v != t.version
        {
            return Err(AppError::PreconditionFailed(format!(
                "ticket {} is at version {}, not {v}; reload and retry",
                t.key, t.version
            )));
        }
        let before = t.clone();
        let (kind, public, mut extra) = op(repo, &p, &mut t, now)?;
        if let Some(map) = extra.as_object_mut() {
            map.insert("by_agent".into(), p.is_agent().into());
        }
        let cfg = cache.get(repo)?;
        let actor = (Some(p.id), p.is_agent());
        record_change(
            repo,
            &cfg,
            &before,
            &mut t,
            (kind, public, extra),
            actor,
            now,
        )?;
        Ok(Names::new(repo)?.view(repo, &t)?)
    })
}

/// The bookkeeping of every change: recompute the SLA clocks with this event, save the ticket
/// against the version it was read at, append the event, queue it for webhook subscribers.
/// `actor` is the user (none for the system) and whether they act as an agent.
fn record_change(
    repo: &mut Repo<'_>,
    cfg: &crate::sla::SlaConfig,
    before: &Ticket,
    t: &mut Ticket,
    (kind, public, extra): Change,
    actor: (Option<i64>, bool),
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let fact = fact_for(t, kind, now, actor.1, public, None);
    refresh(repo, cfg, t, Some(fact))?;
    repo.update_ticket(t, before.version)?;
    let event = NewEvent::change(kind, public, before, t, extra);
    repo.append_event(t.id, now, actor.0, &event)?;
    webhooks::fan_out(repo, &cfg.webhooks, t, kind.as_str(), &event.data, now)?;
    Ok(())
}

/// Applies a change made by the system (no user: monitoring intake, heartbeats) to ticket `id`
/// inside a write, with the same bookkeeping as [`mutate`].
pub(crate) fn system_change<F>(
    repo: &mut Repo<'_>,
    cfg: &crate::sla::SlaConfig,
    id: i64,
    now: DateTime<Utc>,
    op: F,
) -> Result<Ticket, AppError>
where
    F: FnOnce(&mut Ticket) -> Result<Change, AppError>,
{
    let mut t = repo
        .ticket_by_id(id, true)?
        .ok_or_else(|| AppError::NotFound(format!("ticket {id}")))?;
    let before = t.clone();
    let change = op(&mut t)?;
    record_change(repo, cfg, &before, &mut t, change, (None, false), now)?;
    Ok(t)
}

/// `POST /tickets/{key}/comments` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// Text.
    pub body: Option<String>,
    /// Public (the requester sees it) or internal work note. Default: internal for agents,
    /// public for requesters.
    pub public: Option<bool>,
}

/// Adds a comment.
pub fn comment(
    app: &App,
    p: &Principal,
    key: &str,
    input: CommentInput,
) -> Result<TicketView, AppError> {
    let body = input.body.unwrap_or_default();
    if body.trim().is_empty() {
        return Err(AppError::invalid(
            "body",
            "is required and must not be blank",
        ));
    }
    check_text("body", &body)?;
    let public = input.public.unwrap_or(!p.is_agent());
    if !public && !p.is_agent() {
        return Err(AppError::Forbidden(
            "requesters can only add public comments".into(),
        ));
    }
    mutate(app, p, key, None, false, move |_, p, t, now| {
        let by_requester = t.requester_id == p.id;
        t.comment(public, p.is_agent(), by_requester, now)?;
        Ok((
            EventKind::Commented,
            public,
            serde_json::json!({ "body": body, "public": public }),
        ))
    })
}

/// `POST /tickets/{key}/assign` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// Team name or id.
    pub team: Option<Ref>,
    /// Agent login name or id.
    pub assignee: Option<Ref>,
}

/// Assigns a team and/or agent (agents only).
pub fn assign(
    app: &App,
    p: &Principal,
    key: &str,
    input: AssignInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    mutate(app, p, key, if_match, true, move |repo, _, t, now| {
        let team = input
            .team
            .as_ref()
            .map(|r| resolve_team(repo, "team", r))
            .transpose()?;
        if let Some(team) = &team
            && team.tier != t.tier
        {
            return Err(AppError::invalid(
                "team",
                format!(
                    "team '{}' works at another tier than the ticket; escalate or hand back instead",
                    team.name
                ),
            ));
        }
        let assignee = input
            .assignee
            .as_ref()
            .map(|r| resolve_user(repo, "assignee", r))
            .transpose()?;
        if let Some(a) = &assignee
            && (!a.roles.is_agent() || a.disabled)
        {
            return Err(AppError::invalid(
                "assignee",
                format!("'{}' is not an active agent", a.name),
            ));
        }
        t.assign(
            team.as_ref().map(|x| x.id),
            assignee.as_ref().map(|a| a.id),
            now,
        )?;
        Ok((
            EventKind::Assigned,
            false,
            serde_json::json!({ "team": team.map(|x| x.name), "assignee": assignee.map(|a| a.name) }),
        ))
    })
}

/// `POST /tickets/{key}/transition` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// Target status.
    pub status: Option<String>,
    /// Pending reason (`requester`, `vendor`, `change`) when moving to `pending`.
    pub reason: Option<String>,
    /// Note recorded with the change.
    pub note: Option<String>,
}

/// Changes status by the state machine (agents only).
pub fn transition(
    app: &App,
    p: &Principal,
    key: &str,
    input: TransitionInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    let status = input
        .status
        .as_deref()
        .ok_or_else(|| AppError::invalid("status", "is required"))?;
    let to = Status::parse("status", status)?;
    let reason = input
        .reason
        .as_deref()
        .map(|r| PendingReason::parse("reason", r))
        .transpose()?;
    if let Some(n) = &input.note {
        check_text("note", n)?;
    }
    mutate(app, p, key, if_match, true, move |_, _, t, now| {
        let from = t.status;
        t.transition(to, reason, now)?;
        Ok((
            EventKind::StatusChanged,
            true,
            serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "reason": input.reason, "note": input.note }),
        ))
    })
}

/// `POST /tickets/{key}/escalate` and `/hand-back` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierMoveInput {
    /// Required: what was tried and why the ticket moves.
    pub note: Option<String>,
    /// Target tier short name; default the next tier up (escalate) or down (hand-back).
    pub to_tier: Option<String>,
    /// Team name or id at the target tier; default routed.
    pub team: Option<Ref>,
    /// Knowledge articles consulted before escalating.
    pub articles: Option<Vec<i64>>,
}

fn last_team_at(
    repo: &mut Repo<'_>,
    ticket_id: i64,
    tier_short: &str,
) -> Result<Option<i64>, StoreError> {
    let events = repo.events_for(ticket_id, false)?;
    Ok(events
        .iter()
        .rev()
        .filter(|e| e.kind == EventKind::Escalated.as_str())
        .find(|e| e.data.get("from_tier").and_then(|v| v.as_str()) == Some(tier_short))
        .and_then(|e| e.data.get("from_team_id").and_then(|v| v.as_i64())))
}

/// Escalates (up) or hands back (down) a ticket (agents only).
pub fn move_tier(
    app: &App,
    p: &Principal,
    key: &str,
    input: TierMoveInput,
    up: bool,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    let note = check_note("note", input.note.as_deref())?;
    mutate(app, p, key, if_match, true, move |repo, _, t, now| {
        let tiers = repo.list_tiers()?;
        let current = tiers.iter().position(|x| x.level == t.tier).unwrap_or(0);
        let target = match &input.to_tier {
            Some(short) => tier_by_short(&tiers, "to_tier", short)?.clone(),
            None => {
                let idx = if up {
                    current.checked_add(1)
                } else {
                    current.checked_sub(1)
                };
                idx.and_then(|i| tiers.get(i)).cloned().ok_or_else(|| {
                    AppError::invalid(
                        "to_tier",
                        if up {
                            "the ticket is already at the highest tier"
                        } else {
                            "the ticket is already at the first tier"
                        },
                    )
                })?
            }
        };
        let from_short = tiers
            .get(current)
            .map(|x| x.short.clone())
            .unwrap_or_default();
        if up && target.level <= t.tier {
            return Err(AppError::invalid(
                "to_tier",
                format!("{} is not above {from_short}; use hand-back", target.short),
            ));
        }
        if !up && target.level >= t.tier {
            return Err(AppError::invalid(
                "to_tier",
                format!("{} is not below {from_short}; use escalate", target.short),
            ));
        }
        let explicit = match &input.team {
            Some(r) => {
                let team = resolve_team(repo, "team", r)?;
                if team.tier != target.level {
                    return Err(AppError::invalid(
                        "team",
                        format!("team '{}' does not work at {}", team.name, target.short),
                    ));
                }
                Some(team.id)
            }
            None if !up => last_team_at(repo, t.id, &target.short)?,
            None => None,
        };
        let routed = route_team(repo, t.service_id, t.category_id, &target, explicit)?;
        if let Some(ids) = &input.articles {
            for id in ids {
                if repo.article_by_id(*id)?.is_none() {
                    return Err(AppError::invalid(
                        "articles",
                        format!("unknown article {id}"),
                    ));
                }
            }
        }
        let mut consulted: Vec<i64> = repo
            .ticket_articles(t.id)?
            .into_iter()
            .filter(|a| a.relation == "opened")
            .map(|a| a.article_id)
            .collect();
        for id in input.articles.iter().flatten() {
            if !consulted.contains(id) {
                consulted.push(*id);
            }
        }
        let mut consulted_titles = Vec::new();
        for id in &consulted {
            if let Some(a) = repo.article_by_id(*id)? {
                consulted_titles.push(serde_json::json!({ "id": a.id, "title": a.title }));
            }
        }
        let from_team = t.team_id;
        let team_id = routed.map(|(id, _)| id);
        t.move_to_tier(target.level, team_id, now)?;
        let to_team_name = team_id
            .map(|id| repo.team_by_id(id))
            .transpose()?
            .flatten()
            .map(|x| x.name);
        let kind = if up {
            EventKind::Escalated
        } else {
            EventKind::HandedBack
        };
        Ok((
            kind,
            false,
            serde_json::json!({
                "note": note,
                "from_tier": from_short,
                "to_tier": target.short,
                "from_team_id": from_team,
                "to_team_id": team_id,
                "to_team": to_team_name,
                "route": routed.map(|(_, src)| src),
                "articles": consulted,
                "consulted": consulted_titles,
            }),
        ))
    })
}

/// Escalates to a higher tier (agents only).
pub fn escalate(
    app: &App,
    p: &Principal,
    key: &str,
    input: TierMoveInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    let view = move_tier(app, p, key, input, true, if_match)?;
    app.metrics.escalated(1);
    Ok(view)
}

/// Hands back to a lower tier (agents only).
pub fn hand_back(
    app: &App,
    p: &Principal,
    key: &str,
    input: TierMoveInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    move_tier(app, p, key, input, false, if_match)
}

/// `POST /tickets/{key}/resolve` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// Resolution code, e.g. `fixed`, `workaround`, `no_fault`.
    pub code: Option<String>,
    /// What fixed it.
    pub note: Option<String>,
    /// Knowledge article used.
    pub article_id: Option<i64>,
}

/// Resolves a ticket (agents only).
pub fn resolve(
    app: &App,
    p: &Principal,
    key: &str,
    input: ResolveInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    let code = input.code.clone().unwrap_or_default();
    let note = input.note.clone().unwrap_or_default();
    mutate(app, p, key, if_match, true, move |repo, _, t, now| {
        if let Some(id) = input.article_id
            && repo.article_by_id(id)?.is_none()
        {
            return Err(AppError::invalid(
                "article_id",
                format!("unknown article {id}"),
            ));
        }
        t.resolve(&code, &note, input.article_id, now)?;
        if let Some(id) = input.article_id {
            repo.count_article_use(id)?;
        }
        Ok((
            EventKind::Resolved,
            true,
            serde_json::json!({ "code": code.trim(), "note": note.trim(), "article_id": input.article_id }),
        ))
    })
}

/// `POST /tickets/{key}/priority` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityInput {
    /// `P1`..`P4`.
    pub priority: Option<String>,
    /// Why the matrix priority is overridden.
    pub reason: Option<String>,
}

/// Overrides the matrix priority with a reason (agents only).
pub fn set_priority(
    app: &App,
    p: &Principal,
    key: &str,
    input: PriorityInput,
    if_match: Option<i64>,
) -> Result<TicketView, AppError> {
    let priority = Priority::parse("priority", input.priority.as_deref().unwrap_or(""))?;
    let reason = input.reason.unwrap_or_default();
    mutate(app, p, key, if_match, true, move |_, _, t, now| {
        let from = t.priority;
        t.set_priority(priority, &reason, now)?;
        Ok((
            EventKind::PriorityChanged,
            true,
            serde_json::json!({ "from": from.as_str(), "to": priority.as_str(), "reason": reason.trim() }),
        ))
    })
}

//! Ticket use cases: create, read, list, timeline, comment, assign, transition, escalate,
//! hand back, resolve, re-prioritise. Each write is one transaction holding the ticket change
//! and its timeline event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tierdesk_domain::event::EventKind;
use tierdesk_domain::routing::{RouteCandidates, RouteSource, route};
use tierdesk_domain::ticket::{Level, NewTicket, check_title};
use tierdesk_domain::{Channel, Kind, NewEvent, Ticket, TicketKey, Tier};
use tierdesk_store::{EventRecord, IdempotencyRecord, Repo, StoreError};

use crate::sla::{fact_for, refresh};
use crate::view::{Names, TicketView};
use crate::{App, AppError, Principal, webhooks};

mod change;
mod list;

pub use change::*;
pub use list::*;

/// A team or user named by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Ref {
    /// Database id.
    Id(i64),
    /// Unique name.
    Name(String),
}

/// `POST /tickets` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    /// Required summary.
    pub title: Option<String>,
    /// Details.
    pub description: Option<String>,
    /// Requester login name (agents only; requesters file for themselves).
    pub requester: Option<String>,
    /// `incident` (default) or `request`.
    pub kind: Option<String>,
    /// 1 (high) – 3 (low), default 2.
    pub impact: Option<i64>,
    /// 1 (high) – 3 (low), default 2.
    pub urgency: Option<i64>,
    /// Category name.
    pub category: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Intake channel (default `api`).
    pub channel: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
}

/// The answer to a create: the HTTP status and exact body, stored for idempotent replays.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    /// 201.
    pub status: u16,
    /// The ticket JSON, byte-identical on replay.
    pub body: String,
    /// The new ticket's key.
    pub key: String,
    /// True when this answer is a replay of an earlier request with the same key.
    pub replayed: bool,
}

pub(crate) const MAX_TEXT: usize = 100_000;

pub(crate) fn check_text(field: &'static str, text: &str) -> Result<(), AppError> {
    if text.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

pub(crate) fn tier_by_short<'t>(
    tiers: &'t [Tier],
    field: &'static str,
    short: &str,
) -> Result<&'t Tier, AppError> {
    tiers
        .iter()
        .find(|t| t.short.eq_ignore_ascii_case(short))
        .ok_or_else(|| {
            let names: Vec<&str> = tiers.iter().map(|t| t.short.as_str()).collect();
            AppError::invalid(
                field,
                format!("unknown tier '{short}'; one of: {}", names.join(", ")),
            )
        })
}

pub(crate) fn category_team(
    repo: &mut Repo<'_>,
    category_id: Option<i64>,
    tier: i32,
) -> Result<Option<i64>, StoreError> {
    let Some(cat) = category_id
        .map(|id| repo.category_by_id(id))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    if let Some(service) = cat.default_service_id
        && let Some(team) = repo.service_owner(service, tier)?
    {
        return Ok(Some(team));
    }
    if let Some(team) = cat.default_team_id
        && repo.team_by_id(team)?.is_some_and(|t| t.tier == tier)
    {
        return Ok(Some(team));
    }
    Ok(None)
}

/// Routes a ticket to a team at `tier` (SPEC §3), with no explicit team.
pub(crate) fn route_for(
    repo: &mut Repo<'_>,
    service: Option<i64>,
    category: Option<i64>,
    tier: &Tier,
) -> Result<Option<(i64, RouteSource)>, StoreError> {
    route_team(repo, service, category, tier, None)
}

/// Routes a ticket to a team at `tier` (SPEC §3).
pub(crate) fn route_team(
    repo: &mut Repo<'_>,
    t_service: Option<i64>,
    t_category: Option<i64>,
    tier: &Tier,
    explicit: Option<i64>,
) -> Result<Option<(i64, RouteSource)>, StoreError> {
    let service_owner = match t_service {
        Some(s) => repo.service_owner(s, tier.level)?,
        None => None,
    };
    let category_team = category_team(repo, t_category, tier.level)?;
    Ok(route(&RouteCandidates {
        explicit,
        service_owner,
        category_team,
        tier_default: tier.default_team_id,
    }))
}

pub(crate) fn resolve_team(
    repo: &mut Repo<'_>,
    field: &'static str,
    r: &Ref,
) -> Result<tierdesk_store::TeamRecord, AppError> {
    let id = match r {
        Ref::Id(id) => Some(*id),
        Ref::Name(n) => repo.team_id_by_name(n)?,
    };
    id.map(|id| repo.team_by_id(id))
        .transpose()?
        .flatten()
        .ok_or_else(|| AppError::invalid(field, format!("unknown team {}", ref_text(r))))
}

pub(crate) fn resolve_user(
    repo: &mut Repo<'_>,
    field: &'static str,
    r: &Ref,
) -> Result<tierdesk_store::UserRecord, AppError> {
    let u = match r {
        Ref::Id(id) => repo.user_by_id(*id)?,
        Ref::Name(n) => repo.user_by_name(n)?,
    };
    u.ok_or_else(|| AppError::invalid(field, format!("unknown user {}", ref_text(r))))
}

pub(crate) fn ref_text(r: &Ref) -> String {
    match r {
        Ref::Id(id) => id.to_string(),
        Ref::Name(n) => format!("'{n}'"),
    }
}

/// The knowledge articles suggested for a ticket and those agents opened on it (agents).
pub fn articles(
    app: &App,
    p: &Principal,
    key: &str,
) -> Result<Vec<tierdesk_store::TicketArticle>, AppError> {
    p.require_agent()?;
    let (principal, key) = (p.clone(), key.to_owned());
    app.store.read(move |r| {
        let t = load_visible(r, &principal, &key, false)?;
        Ok(r.ticket_articles(t.id)?)
    })
}

/// Loads a ticket the caller may see; a hidden ticket answers exactly like a missing one.
pub(crate) fn load_visible(
    repo: &mut Repo<'_>,
    p: &Principal,
    key: &str,
    for_update: bool,
) -> Result<Ticket, AppError> {
    let not_found = || AppError::NotFound(format!("ticket {key}"));
    let Some(k) = TicketKey::parse(key) else {
        return Err(not_found());
    };
    let t = repo
        .ticket_by_key(&k.to_string(), for_update)?
        .ok_or_else(not_found)?;
    if !p.is_agent() && t.requester_id != p.id {
        return Err(not_found());
    }
    Ok(t)
}

fn request_hash(input: &CreateTicket) -> String {
    let text = serde_json::to_string(input).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What [`open_in`] opens.
pub(crate) struct OpenSpec {
    /// The ticket's fields.
    pub new: NewTicket,
    /// Tier level to open at (default: the first).
    pub tier: Option<i32>,
    /// Team (default: routed from service, category and tier).
    pub team: Option<i64>,
    /// Who opens it (none for the system).
    pub actor: Option<i64>,
    /// Whether an agent opens it (for the SLA facts).
    pub by_agent: bool,
}

/// Opens a ticket inside a write: routes the team, numbers it, computes its SLA clocks, inserts
/// it with its `created` event and queues it for webhook subscribers.
pub(crate) fn open_in(
    repo: &mut Repo<'_>,
    cfg: &crate::sla::SlaConfig,
    spec: OpenSpec,
    now: DateTime<Utc>,
) -> Result<Ticket, AppError> {
    let tier = cfg
        .tiers
        .iter()
        .find(|t| Some(t.level) == spec.tier)
        .or_else(|| cfg.tiers.first())
        .ok_or_else(|| AppError::Conflict("no tiers are configured".into()))?
        .clone();
    let team = match spec.team {
        Some(t) => Some(t),
        None => route_team(repo, spec.new.service_id, spec.new.category_id, &tier, None)?
            .map(|(t, _)| t),
    };
    let number = repo.next_ticket_number(spec.new.kind)?;
    let mut ticket = Ticket::open(spec.new, number, tier.level, team, now);
    let created = fact_for(&ticket, EventKind::Created, now, spec.by_agent, true, None);
    refresh(repo, cfg, &mut ticket, Some(created))?;
    ticket.id = repo.insert_ticket(&ticket)?;
    repo.append_event(ticket.id, now, spec.actor, &NewEvent::created(&ticket))?;
    webhooks::fan_out(
        repo,
        &cfg.webhooks,
        &ticket,
        EventKind::Created.as_str(),
        &serde_json::json!({}),
        now,
    )?;
    Ok(ticket)
}

/// Creates a ticket at the first tier. With an idempotency key, a repeat of the same request
/// returns the first answer; the same key with another body is refused.
pub fn create(
    app: &App,
    p: &Principal,
    input: CreateTicket,
    idempotency_key: Option<String>,
) -> Result<Created, AppError> {
    let title = check_title(input.title.as_deref().unwrap_or(""))?;
    let description = input.description.clone().unwrap_or_default();
    check_text("description", &description)?;
    let kind = input
        .kind
        .as_deref()
        .map(|k| Kind::parse("kind", k))
        .transpose()?
        .unwrap_or(Kind::Incident);
    let impact = input
        .impact
        .map(|v| Level::new("impact", v))
        .transpose()?
        .unwrap_or(Level::MEDIUM);
    let urgency = input
        .urgency
        .map(|v| Level::new("urgency", v))
        .transpose()?
        .unwrap_or(Level::MEDIUM);
    let default_channel = if p.is_agent() {
        Channel::Api
    } else {
        Channel::Portal
    };
    let channel = input
        .channel
        .as_deref()
        .map(|c| Channel::parse("channel", c))
        .transpose()?
        .unwrap_or(default_channel);
    let tags = input.tags.clone().unwrap_or_default();
    if tags.len() > 50 || tags.iter().any(|t| t.trim().is_empty() || t.len() > 64) {
        return Err(AppError::invalid(
            "tags",
            "at most 50 tags of 1–64 characters",
        ));
    }
    if let Some(key) = &idempotency_key
        && (key.is_empty() || key.len() > 200)
    {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1–200 characters",
        ));
    }
    if !p.is_agent() && input.requester.as_deref().is_some_and(|r| r != p.name) {
        return Err(AppError::Forbidden(
            "requesters file tickets for themselves".into(),
        ));
    }
    let suggestions = crate::search::for_ticket(
        app,
        p,
        &title,
        &description,
        input.service.as_deref(),
        input.category.as_deref(),
    )
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "no knowledge suggestions for the new ticket");
        Vec::new()
    });
    let hash = request_hash(&input);
    let hash_for_race = hash.clone();
    let now = app.now();
    let principal = p.clone();
    let key = idempotency_key.clone();
    let cache = app.config.clone();
    let result = app.store.write(move |repo| {
        if let Some(k) = &key
            && let Some(prev) = repo.idempotency_get(principal.id, k)?
        {
            return replay(prev, &hash);
        }
        let requester_id = match &input.requester {
            Some(name) if principal.is_agent() => {
                resolve_user(repo, "requester", &Ref::Name(name.clone()))?.id
            }
            _ => principal.id,
        };
        let service_id = match &input.service {
            Some(s) => Some(
                repo.service_by_name(s)?
                    .ok_or_else(|| AppError::invalid("service", format!("unknown service '{s}'")))?
                    .id,
            ),
            None => None,
        };
        let category =
            match &input.category {
                Some(c) => Some(repo.category_by_name(c)?.ok_or_else(|| {
                    AppError::invalid("category", format!("unknown category '{c}'"))
                })?),
                None => None,
            };
        let service_id = service_id.or(category.as_ref().and_then(|c| c.default_service_id));
        let category_id = category.map(|c| c.id);
        let cfg = cache.get(repo)?;
        let ticket = open_in(
            repo,
            &cfg,
            OpenSpec {
                new: NewTicket {
                    kind,
                    title,
                    description,
                    requester_id,
                    channel,
                    category_id,
                    service_id,
                    impact,
                    urgency,
                    tags,
                },
                tier: None,
                team: None,
                actor: Some(principal.id),
                by_agent: principal.is_agent(),
            },
            now,
        )?;
        for s in &suggestions {
            repo.link_ticket_article(ticket.id, s.id, "suggested", None, Some(s.score), now)?;
        }
        let mut view = Names::new(repo)?.view(repo, &ticket)?;
        view.suggestions = Some(suggestions);
        let body = serde_json::to_string(&view).map_err(|e| StoreError::Other(e.to_string()))?;
        if let Some(k) = &key {
            let rec = IdempotencyRecord {
                request_hash: hash,
                status: 201,
                body: body.clone(),
            };
            repo.idempotency_put(principal.id, k, &rec, now)?;
        }
        Ok(Created {
            status: 201,
            body,
            key: ticket.key,
            replayed: false,
        })
    });
    if let Ok(c) = &result
        && !c.replayed
    {
        app.metrics.ticket_created(kind == Kind::Incident);
    }
    match (result, idempotency_key) {
        // Another node committed the same key first: answer with its result.
        (Err(AppError::Store(StoreError::Unique(_))), Some(k)) => {
            match app.store.read(|r| r.idempotency_get(p.id, &k))? {
                Some(prev) => replay(prev, &hash_for_race),
                None => Err(AppError::Conflict(
                    "concurrent request with the same Idempotency-Key; retry".into(),
                )),
            }
        }
        (other, _) => other,
    }
}

fn replay(prev: IdempotencyRecord, hash: &str) -> Result<Created, AppError> {
    if prev.request_hash != hash {
        return Err(AppError::IdempotencyMismatch);
    }
    let key = serde_json::from_str::<serde_json::Value>(&prev.body)
        .ok()
        .and_then(|v| v.get("key").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_default();
    Ok(Created {
        status: u16::try_from(prev.status).unwrap_or(201),
        body: prev.body,
        key,
        replayed: true,
    })
}

/// A ticket the caller may see.
pub fn get(app: &App, p: &Principal, key: &str) -> Result<TicketView, AppError> {
    app.store.read(|repo| {
        let t = load_visible(repo, p, key, false)?;
        Ok(Names::new(repo)?.view(repo, &t)?)
    })
}

/// One timeline entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    /// When.
    pub at: DateTime<Utc>,
    /// Actor's login name, or `system`.
    pub actor: String,
    /// Event kind.
    pub kind: String,
    /// Whether requesters see it.
    pub public: bool,
    /// Kind-specific data.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<EventRecord> for TimelineItem {
    fn from(e: EventRecord) -> Self {
        TimelineItem {
            at: e.at,
            actor: e.actor.unwrap_or_else(|| "system".into()),
            kind: e.kind,
            public: e.public,
            data: e.data,
        }
    }
}

/// A ticket's timeline; requesters see public events only.
pub fn timeline(app: &App, p: &Principal, key: &str) -> Result<Vec<TimelineItem>, AppError> {
    app.store.read(|repo| {
        let t = load_visible(repo, p, key, false)?;
        Ok(repo
            .events_for(t.id, !p.is_agent())?
            .into_iter()
            .map(TimelineItem::from)
            .collect())
    })
}

/// The raw events of a ticket, for replay checks and tools (agents only).
pub fn events(app: &App, p: &Principal, key: &str) -> Result<Vec<EventRecord>, AppError> {
    p.require_agent()?;
    app.store.read(|repo| {
        let t = load_visible(repo, p, key, false)?;
        Ok(repo.events_for(t.id, false)?)
    })
}

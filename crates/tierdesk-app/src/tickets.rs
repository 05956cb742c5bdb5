//! Ticket use cases: create, read, list, timeline, comment, assign, transition, escalate,
//! hand back, resolve, re-prioritise. Each write is one transaction holding the ticket change
//! and its timeline event.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tierdesk_domain::event::EventKind;
use tierdesk_domain::routing::{RouteCandidates, RouteSource, route};
use tierdesk_domain::ticket::{Level, NewTicket, check_note, check_title};
use tierdesk_domain::{
    Channel, Kind, NewEvent, PendingReason, Priority, Status, Ticket, TicketKey, Tier,
};
use tierdesk_store::{EventRecord, IdempotencyRecord, Repo, StoreError, TicketFilter, TicketSort};

use crate::sla::{fact_for, refresh};
use crate::view::{Names, TicketView};
use crate::{App, AppError, Principal, articles, webhooks};

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

const MAX_TEXT: usize = 100_000;

fn check_text(field: &'static str, text: &str) -> Result<(), AppError> {
    if text.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

fn tier_by_short<'t>(
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

fn category_team(
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
fn route_team(
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

fn resolve_team(
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

fn resolve_user(
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

fn ref_text(r: &Ref) -> String {
    match r {
        Ref::Id(id) => id.to_string(),
        Ref::Name(n) => format!("'{n}'"),
    }
}

/// Loads a ticket the caller may see; a hidden ticket answers exactly like a missing one.
fn load_visible(
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
    let suggestions = articles::suggest(app, p, &format!("{title} {description}"))?;
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
        let first = cfg
            .tiers
            .first()
            .ok_or_else(|| AppError::Conflict("no tiers are configured".into()))?
            .clone();
        let team = route_team(repo, service_id, category_id, &first, None)?.map(|(t, _)| t);
        let number = repo.next_ticket_number(kind)?;
        let new = NewTicket {
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
        };
        let mut ticket = Ticket::open(new, number, first.level, team, now);
        let created = fact_for(
            &ticket,
            EventKind::Created,
            now,
            principal.is_agent(),
            true,
            None,
        );
        refresh(repo, &cfg, &mut ticket, Some(created))?;
        ticket.id = repo.insert_ticket(&ticket)?;
        repo.append_event(
            ticket.id,
            now,
            Some(principal.id),
            &NewEvent::created(&ticket),
        )?;
        webhooks::fan_out(
            repo,
            &cfg.webhooks,
            &ticket,
            EventKind::Created.as_str(),
            &serde_json::json!({}),
            now,
        )?;
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

/// Query of `GET /tickets`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A status, or `open` for every unresolved status.
    pub status: Option<String>,
    /// Tier short name.
    pub tier: Option<String>,
    /// Team name or id.
    pub team: Option<String>,
    /// Assignee login name, or `me`.
    pub assignee: Option<String>,
    /// `P1`..`P4`.
    pub priority: Option<String>,
    /// Substring of the title or key.
    pub q: Option<String>,
    /// `created` (newest first, default) or `sla_due` (open tickets, earliest due first).
    pub sort: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One page of tickets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketPage {
    /// Tickets.
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(sort: TicketSort, t: &Ticket) -> String {
    let raw = match sort {
        TicketSort::Newest => format!("n:{}", t.id),
        TicketSort::SlaDue => format!(
            "d:{}:{}",
            t.sla_due().map_or(-1, |d| d.timestamp_micros()),
            t.id
        ),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(sort: TicketSort, text: &str) -> Result<(Option<DateTime<Utc>>, i64), AppError> {
    let bad = || {
        AppError::invalid(
            "cursor",
            "not a cursor from this list; start again without it",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let parts: Vec<&str> = raw.split(':').collect();
    match (sort, parts.as_slice()) {
        (TicketSort::Newest, ["n", id]) => Ok((None, id.parse().map_err(|_| bad())?)),
        (TicketSort::SlaDue, ["d", due, id]) => {
            let due: i64 = due.parse().map_err(|_| bad())?;
            let due = if due < 0 {
                None
            } else {
                Some(DateTime::from_timestamp_micros(due).ok_or_else(bad)?)
            };
            Ok((due, id.parse().map_err(|_| bad())?))
        }
        _ => Err(bad()),
    }
}

/// Lists tickets; requesters only ever see their own.
pub fn list(app: &App, p: &Principal, q: &ListQuery) -> Result<TicketPage, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let sort = match q.sort.as_deref() {
        None | Some("created") => TicketSort::Newest,
        Some("sla_due") => TicketSort::SlaDue,
        Some(other) => {
            return Err(AppError::invalid(
                "sort",
                format!("unknown sort '{other}'; one of: created, sla_due"),
            ));
        }
    };
    let mut f = TicketFilter {
        limit,
        sort,
        ..TicketFilter::default()
    };
    match q.status.as_deref() {
        None => {}
        Some("open") => f.open_only = true,
        Some(s) => f.status = Some(Status::parse("status", s)?),
    }
    f.priority = q
        .priority
        .as_deref()
        .map(|s| Priority::parse("priority", s))
        .transpose()?;
    if let Some(qs) = &q.q {
        if qs.chars().count() > 200 {
            return Err(AppError::invalid("q", "must be at most 200 characters"));
        }
        f.q = Some(qs.clone());
    }
    f.after = q
        .cursor
        .as_deref()
        .map(|c| decode_cursor(sort, c))
        .transpose()?;
    if !p.is_agent() {
        f.requester_id = Some(p.id);
    }
    app.store.read(|repo| {
        if let Some(tier) = &q.tier {
            let tiers = repo.list_tiers()?;
            f.tier = Some(tier_by_short(&tiers, "tier", tier)?.level);
        }
        if let Some(team) = &q.team {
            let r = team
                .parse::<i64>()
                .map(Ref::Id)
                .unwrap_or_else(|_| Ref::Name(team.clone()));
            f.team_id = Some(resolve_team(repo, "team", &r)?.id);
        }
        if let Some(a) = &q.assignee {
            f.assignee_id = Some(if a == "me" {
                p.id
            } else {
                resolve_user(repo, "assignee", &Ref::Name(a.clone()))?.id
            });
        }
        let (tickets, more) = repo.list_tickets(&f)?;
        let mut names = Names::new(repo)?;
        let items = tickets
            .iter()
            .map(|t| names.view(repo, t))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if more {
            tickets.last().map(|t| encode_cursor(sort, t))
        } else {
            None
        };
        Ok(TicketPage { items, next_cursor })
    })
}

/// Ticket counts by status among the tickets the caller may see.
pub fn counts(app: &App, p: &Principal) -> Result<Vec<(String, i64)>, AppError> {
    let scope = if p.is_agent() { None } else { Some(p.id) };
    Ok(app.store.read(|r| r.count_tickets_by_status(scope))?)
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
        let fact = fact_for(&t, kind, now, p.is_agent(), public, None);
        refresh(repo, &cfg, &mut t, Some(fact))?;
        repo.update_ticket(&t, before.version)?;
        let event = NewEvent::change(kind, public, &before, &t, extra);
        repo.append_event(t.id, now, Some(p.id), &event)?;
        webhooks::fan_out(repo, &cfg.webhooks, &t, kind.as_str(), &event.data, now)?;
        Ok(Names::new(repo)?.view(repo, &t)?)
    })
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
                "articles": input.articles.unwrap_or_default(),
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

//! What the API returns for a ticket: the stored row with ids resolved to names.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tierdesk_domain::{Clock, Ticket};
use tierdesk_store::{Repo, StoreError};

/// One SLA clock as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    /// Identity within the ticket, named by `sla_warning` / `sla_breach` events.
    pub key: String,
    /// `response`, `resolution` or `keep_in_loop`.
    pub kind: String,
    /// Tier short name for response clocks.
    pub tier: Option<String>,
    /// `running`, `paused`, `met`, `breached` or `cancelled`.
    pub state: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// Due time.
    pub due_at: DateTime<Utc>,
    /// Target, written like `15m`.
    pub target: String,
    /// Seconds paused so far.
    pub paused_seconds: i64,
    /// Stop time.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Warning time.
    pub warned_at: Option<DateTime<Utc>>,
    /// Breach time.
    pub breached_at: Option<DateTime<Utc>>,
}

/// The SLA summary of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    /// Due time of the current tier's running response clock.
    pub response_due: Option<DateTime<Utc>>,
    /// Due time of the running resolution clock.
    pub resolution_due: Option<DateTime<Utc>>,
    /// Every clock, oldest first.
    pub clocks: Vec<ClockView>,
    /// The policy the clocks follow, and why it matched.
    pub policy: Option<PolicyView>,
}

/// Which SLA policy applies and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    /// Policy name (`default` when none matched).
    pub name: String,
    /// Why it matched.
    pub reason: String,
}

/// A suggested knowledge article.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// Article id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Kind (`sop`, `faq`, …).
    pub kind: String,
    /// Relevance, higher is better.
    pub score: f64,
}

/// Resolution details.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResolutionView {
    /// Code such as `fixed`.
    pub code: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Article used.
    pub article_id: Option<i64>,
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    /// `INC-n` / `REQ-n`.
    pub key: String,
    /// `incident` or `request`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: String,
    /// Pending reason while pending.
    pub pending_reason: Option<String>,
    /// `P1`..`P4`.
    pub priority: String,
    /// Reason for a priority override.
    pub priority_reason: Option<String>,
    /// Impact 1..3.
    pub impact: i64,
    /// Urgency 1..3.
    pub urgency: i64,
    /// Tier short name (`L1`).
    pub tier: String,
    /// Owning team name.
    pub team: Option<String>,
    /// Owning team id.
    pub team_id: Option<i64>,
    /// Assignee login name.
    pub assignee: Option<String>,
    /// Requester login name.
    pub requester: String,
    /// Intake channel.
    pub channel: String,
    /// Category name.
    pub category: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Major-incident flag.
    pub major: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// Creation.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// First agent response.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Resolution time.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Close time.
    pub closed_at: Option<DateTime<Utc>>,
    /// Resolution, once resolved.
    pub resolution: Option<ResolutionView>,
    /// SLA clocks.
    pub sla: SlaView,
    /// Suggested articles (on creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<Suggestion>>,
    /// Version, also sent as the ETag.
    pub version: i64,
}

/// Resolves ids to names, caching within one request.
#[derive(Default)]
pub struct Names {
    tiers: HashMap<i32, String>,
    teams: HashMap<i64, Option<String>>,
    users: HashMap<i64, Option<String>>,
    services: HashMap<i64, Option<String>>,
    categories: HashMap<i64, Option<String>>,
}

impl Names {
    /// Loads the tier names.
    pub fn new(repo: &mut Repo<'_>) -> Result<Names, StoreError> {
        let tiers = repo
            .list_tiers()?
            .into_iter()
            .map(|t| (t.level, t.short))
            .collect();
        Ok(Names {
            tiers,
            ..Names::default()
        })
    }

    /// Tier short name, or `L<n>` for an unknown level.
    pub fn tier(&self, level: i32) -> String {
        self.tiers
            .get(&level)
            .cloned()
            .unwrap_or_else(|| format!("L{level}"))
    }

    fn team(&mut self, repo: &mut Repo<'_>, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(n) = self.teams.get(&id) {
            return Ok(n.clone());
        }
        let n = repo.team_by_id(id)?.map(|t| t.name);
        self.teams.insert(id, n.clone());
        Ok(n)
    }

    /// A user's login name.
    pub fn user(&mut self, repo: &mut Repo<'_>, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(n) = self.users.get(&id) {
            return Ok(n.clone());
        }
        let n = repo.user_by_id(id)?.map(|u| u.name);
        self.users.insert(id, n.clone());
        Ok(n)
    }

    fn service(&mut self, repo: &mut Repo<'_>, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(n) = self.services.get(&id) {
            return Ok(n.clone());
        }
        let n = repo.service_by_id(id)?.map(|s| s.name);
        self.services.insert(id, n.clone());
        Ok(n)
    }

    fn category(&mut self, repo: &mut Repo<'_>, id: i64) -> Result<Option<String>, StoreError> {
        if let Some(n) = self.categories.get(&id) {
            return Ok(n.clone());
        }
        let n = repo.category_by_id(id)?.map(|c| c.name);
        self.categories.insert(id, n.clone());
        Ok(n)
    }

    fn clock(&self, c: &Clock) -> ClockView {
        let name = |v: &dyn erased::AsStr| v.as_api();
        ClockView {
            key: c.key.clone(),
            kind: name(&c.kind),
            tier: c.tier.map(|l| self.tier(l)),
            state: name(&c.state),
            started_at: c.started_at,
            due_at: c.due_at,
            target: tierdesk_domain::duration::format_duration(c.target_secs),
            paused_seconds: c.paused_secs,
            stopped_at: c.stopped_at,
            warned_at: c.warned_at,
            breached_at: c.breached_at,
        }
    }

    /// The API view of a ticket.
    pub fn view(&mut self, repo: &mut Repo<'_>, t: &Ticket) -> Result<TicketView, StoreError> {
        let team = t
            .team_id
            .map(|id| self.team(repo, id))
            .transpose()?
            .flatten();
        let assignee = t
            .assignee_id
            .map(|id| self.user(repo, id))
            .transpose()?
            .flatten();
        let requester = self.user(repo, t.requester_id)?.unwrap_or_default();
        let service = t
            .service_id
            .map(|id| self.service(repo, id))
            .transpose()?
            .flatten();
        let category = t
            .category_id
            .map(|id| self.category(repo, id))
            .transpose()?
            .flatten();
        let resolution = t.resolution_code.as_ref().map(|_| ResolutionView {
            code: t.resolution_code.clone(),
            note: t.resolution_note.clone(),
            article_id: t.article_id,
        });
        Ok(TicketView {
            key: t.key.clone(),
            kind: t.kind.as_str().to_owned(),
            title: t.title.clone(),
            description: t.description.clone(),
            status: t.status.as_str().to_owned(),
            pending_reason: t.pending_reason.map(|p| erased::AsStr::as_api(&p)),
            priority: t.priority.as_str().to_owned(),
            priority_reason: t.priority_reason.clone(),
            impact: i64::from(t.impact),
            urgency: i64::from(t.urgency),
            tier: self.tier(t.tier),
            team,
            team_id: t.team_id,
            assignee,
            requester,
            channel: t.channel.as_str().to_owned(),
            category,
            service,
            major: t.major,
            tags: t.tags.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            first_response_at: t.first_response_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            resolution,
            sla: SlaView {
                response_due: t.response_due(),
                resolution_due: t.resolution_due(),
                clocks: t.clocks.iter().map(|c| self.clock(c)).collect(),
                policy: t.sla_policy.as_ref().map(|name| PolicyView {
                    name: name.clone(),
                    reason: t.sla_policy_reason.clone().unwrap_or_default(),
                }),
            },
            suggestions: None,
            version: t.version,
        })
    }
}

/// Serde names of small domain enums.
mod erased {
    /// Anything whose serde form is a plain string.
    pub trait AsStr {
        /// The serde string.
        fn as_api(&self) -> String;
    }

    impl<T: serde::Serialize> AsStr for T {
        fn as_api(&self) -> String {
            match serde_json::to_value(self) {
                Ok(serde_json::Value::String(s)) => s,
                _ => String::new(),
            }
        }
    }
}

//! Tickets (SPEC §2): kinds, keys, the impact × urgency matrix and the operations that change a
//! ticket. Every operation is a pure method taking `now`; the caller records the change as a
//! timeline event with [`crate::event::NewEvent::change`].

use serde::{Deserialize, Serialize};

use crate::sla::{Clock, ClockKind};
use crate::status::{PendingReason, Status};
use crate::{DomainError, Timestamp};

/// Incident or service request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Something is broken: key `INC-n`.
    Incident,
    /// Something is wanted: key `REQ-n`.
    Request,
}

impl Kind {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::Request => "request",
        }
    }

    /// Key prefix: `INC` or `REQ`.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Incident => "INC",
            Kind::Request => "REQ",
        }
    }

    /// Parses `incident` or `request`.
    pub fn parse(field: &'static str, text: &str) -> Result<Kind, DomainError> {
        match text {
            "incident" => Ok(Kind::Incident),
            "request" => Ok(Kind::Request),
            _ => Err(DomainError::field(
                field,
                format!("unknown kind '{text}'; one of: incident, request"),
            )),
        }
    }
}

/// Where the ticket came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Self-service portal.
    Portal,
    /// The HTTP API or CLI.
    Api,
    /// Inbound email.
    Email,
    /// Chat slash command.
    Chat,
    /// A monitoring alert.
    Alert,
}

impl Channel {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Api => "api",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Alert => "alert",
        }
    }

    /// Parses an API name.
    pub fn parse(field: &'static str, text: &str) -> Result<Channel, DomainError> {
        [
            Channel::Portal,
            Channel::Api,
            Channel::Email,
            Channel::Chat,
            Channel::Alert,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
        .ok_or_else(|| {
            DomainError::field(
                field,
                format!("unknown channel '{text}'; one of: portal, api, email, chat, alert"),
            )
        })
    }
}

/// `P1` (most urgent) to `P4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// Critical.
    P1,
    /// High.
    P2,
    /// Moderate.
    P3,
    /// Low.
    P4,
}

impl Priority {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    /// Index 0..4 for target tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses `P1`..`P4`.
    pub fn parse(field: &'static str, text: &str) -> Result<Priority, DomainError> {
        match text {
            "P1" => Ok(Priority::P1),
            "P2" => Ok(Priority::P2),
            "P3" => Ok(Priority::P3),
            "P4" => Ok(Priority::P4),
            _ => Err(DomainError::field(
                field,
                format!("unknown priority '{text}'; one of: P1, P2, P3, P4"),
            )),
        }
    }

    /// The impact × urgency matrix of SPEC §2 (1 = high, 3 = low).
    pub fn from_matrix(impact: Level, urgency: Level) -> Priority {
        match impact.get() + urgency.get() {
            2 => Priority::P1,
            3 => Priority::P2,
            4 => Priority::P3,
            _ => Priority::P4,
        }
    }
}

/// Impact or urgency: 1 (high), 2 (medium) or 3 (low).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Level(u8);

impl Level {
    /// Medium, the default when the caller gives none.
    pub const MEDIUM: Level = Level(2);

    /// Checks 1..=3, naming `field` otherwise.
    pub fn new(field: &'static str, value: i64) -> Result<Level, DomainError> {
        match value {
            1..=3 => Ok(Level(value as u8)),
            _ => Err(DomainError::field(
                field,
                format!("must be 1 (high), 2 (medium) or 3 (low), got {value}"),
            )),
        }
    }

    /// The number 1..=3.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for Level {
    type Error = DomainError;
    fn try_from(v: i64) -> Result<Self, Self::Error> {
        Level::new("level", v)
    }
}

impl From<Level> for i64 {
    fn from(l: Level) -> i64 {
        i64::from(l.0)
    }
}

/// A ticket key such as `INC-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketKey {
    /// Incident or request.
    pub kind: Kind,
    /// The number, unique per kind.
    pub number: i64,
}

impl TicketKey {
    /// Parses `INC-42` / `REQ-7` (prefix case-insensitive). `None` for anything else.
    pub fn parse(text: &str) -> Option<TicketKey> {
        let (prefix, number) = text.split_once('-')?;
        let kind = if prefix.eq_ignore_ascii_case("INC") {
            Kind::Incident
        } else if prefix.eq_ignore_ascii_case("REQ") {
            Kind::Request
        } else {
            return None;
        };
        if number.is_empty() || number.len() > 18 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number = number.parse().ok()?;
        Some(TicketKey { kind, number })
    }
}

impl std::fmt::Display for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.kind.prefix(), self.number)
    }
}

/// A ticket as stored: the row that replaying its timeline reproduces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Database id (0 before insert).
    pub id: i64,
    /// `INC-n` / `REQ-n`.
    pub key: String,
    /// Incident or request.
    pub kind: Kind,
    /// Short summary.
    pub title: String,
    /// Details.
    pub description: String,
    /// The user the ticket is for.
    pub requester_id: i64,
    /// Intake channel.
    pub channel: Channel,
    /// Category id.
    pub category_id: Option<i64>,
    /// Affected service id.
    pub service_id: Option<i64>,
    /// Impact 1..3.
    pub impact: Level,
    /// Urgency 1..3.
    pub urgency: Level,
    /// Priority, from the matrix unless overridden.
    pub priority: Priority,
    /// Why the priority differs from the matrix, when it does.
    pub priority_reason: Option<String>,
    /// Life-cycle status.
    pub status: Status,
    /// Why it is pending, while pending.
    pub pending_reason: Option<PendingReason>,
    /// Current tier level (1 = L1).
    pub tier: i32,
    /// Owning team.
    pub team_id: Option<i64>,
    /// Owning agent.
    pub assignee_id: Option<i64>,
    /// Major-incident flag.
    pub major: bool,
    /// Free tags.
    pub tags: Vec<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// First public agent response.
    pub first_response_at: Option<Timestamp>,
    /// When it was (last) resolved.
    pub resolved_at: Option<Timestamp>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// Resolution code, such as `fixed` or `workaround`.
    pub resolution_code: Option<String>,
    /// Resolution note.
    pub resolution_note: Option<String>,
    /// Knowledge article used to resolve it.
    pub article_id: Option<i64>,
    /// SLA clocks, oldest first (computed from the timeline by [`crate::sla::compute`]).
    pub clocks: Vec<Clock>,
    /// Name of the SLA policy the clocks follow.
    #[serde(default)]
    pub sla_policy: Option<String>,
    /// Why that policy matched.
    #[serde(default)]
    pub sla_policy_reason: Option<String>,
    /// Optimistic-concurrency version, bumped on every change (the ETag).
    pub version: i64,
}

/// What a new ticket is made from, after the application layer resolved names to ids.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Incident or request.
    pub kind: Kind,
    /// Short summary (required).
    pub title: String,
    /// Details.
    pub description: String,
    /// Requester user id.
    pub requester_id: i64,
    /// Intake channel.
    pub channel: Channel,
    /// Category id.
    pub category_id: Option<i64>,
    /// Service id.
    pub service_id: Option<i64>,
    /// Impact.
    pub impact: Level,
    /// Urgency.
    pub urgency: Level,
    /// Tags.
    pub tags: Vec<String>,
}

/// Checks a title: required, at most 300 characters.
pub fn check_title(title: &str) -> Result<String, DomainError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(DomainError::field(
            "title",
            "is required and must not be blank",
        ));
    }
    if t.chars().count() > 300 {
        return Err(DomainError::field(
            "title",
            "must be at most 300 characters",
        ));
    }
    Ok(t.to_owned())
}

/// Checks a required note (escalation, hand-back): not blank, at most 20,000 characters.
pub fn check_note(field: &'static str, note: Option<&str>) -> Result<String, DomainError> {
    let note = note.map(str::trim).unwrap_or("");
    if note.is_empty() {
        return Err(DomainError::field(
            field,
            "is required: say what was tried and why",
        ));
    }
    if note.chars().count() > 20_000 {
        return Err(DomainError::field(
            field,
            "must be at most 20000 characters",
        ));
    }
    Ok(note.to_owned())
}

impl Ticket {
    /// A new ticket at the first tier with its L1 response clock and resolution clock running.
    pub fn open(
        new: NewTicket,
        number: i64,
        first_tier: i32,
        team_id: Option<i64>,
        now: Timestamp,
    ) -> Ticket {
        let priority = Priority::from_matrix(new.impact, new.urgency);
        Ticket {
            id: 0,
            key: TicketKey {
                kind: new.kind,
                number,
            }
            .to_string(),
            kind: new.kind,
            title: new.title,
            description: new.description,
            requester_id: new.requester_id,
            channel: new.channel,
            category_id: new.category_id,
            service_id: new.service_id,
            impact: new.impact,
            urgency: new.urgency,
            priority,
            priority_reason: None,
            status: Status::New,
            pending_reason: None,
            tier: first_tier,
            team_id,
            assignee_id: None,
            major: false,
            tags: new.tags,
            created_at: now,
            updated_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            resolution_code: None,
            resolution_note: None,
            article_id: None,
            clocks: Vec::new(),
            sla_policy: None,
            sla_policy_reason: None,
            version: 1,
        }
    }

    fn touch(&mut self, now: Timestamp) {
        self.updated_at = now;
        self.version += 1;
    }

    /// The running response clock of the current tier, if any.
    pub fn response_due(&self) -> Option<Timestamp> {
        self.running_due(ClockKind::Response)
    }

    /// The running resolution clock's due time, if any.
    pub fn resolution_due(&self) -> Option<Timestamp> {
        self.running_due(ClockKind::Resolution)
    }

    /// The earliest due time of any running clock: what a queue sorts by.
    pub fn sla_due(&self) -> Option<Timestamp> {
        self.clocks
            .iter()
            .filter(|c| c.is_running())
            .map(|c| c.due_at)
            .min()
    }

    fn running_due(&self, kind: ClockKind) -> Option<Timestamp> {
        self.clocks
            .iter()
            .rev()
            .find(|c| c.kind == kind && c.is_running())
            .map(|c| c.due_at)
    }

    fn refuse_if_final(&self, what: &str) -> Result<(), DomainError> {
        if self.status.is_final() {
            return Err(DomainError::NotAllowed(format!(
                "ticket {} is {}: it cannot be {what}",
                self.key, self.status
            )));
        }
        Ok(())
    }

    /// An agent of the current tier acted (public reply or status change): meets that tier's
    /// response clock and sets the first response time.
    pub fn record_agent_response(&mut self, now: Timestamp) {
        if self.first_response_at.is_none() {
            self.first_response_at = Some(now);
        }
    }

    /// Adds a comment's effect on the ticket. Only a public comment by an agent counts as a
    /// response; a requester reply reopens a resolved ticket.
    pub fn comment(
        &mut self,
        public: bool,
        by_agent: bool,
        by_requester: bool,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        if self.status == Status::Closed {
            return Err(DomainError::NotAllowed(format!(
                "ticket {} is closed: open a follow-up ticket instead",
                self.key
            )));
        }
        if public && by_agent {
            self.record_agent_response(now);
        }
        if by_requester && self.status == Status::Resolved {
            self.reopen(now);
        }
        // The requester answered: the ticket waits on the agent again and the clocks resume.
        if by_requester
            && !by_agent
            && self.status == Status::Pending
            && self.pending_reason == Some(PendingReason::Requester)
        {
            self.status = Status::InProgress;
            self.pending_reason = None;
        }
        self.touch(now);
        Ok(())
    }

    fn reopen(&mut self, _now: Timestamp) {
        self.status = Status::InProgress;
        self.resolved_at = None;
        self.resolution_code = None;
        self.resolution_note = None;
    }

    /// Changes status by the state machine. `resolved` goes through [`Ticket::resolve`].
    pub fn transition(
        &mut self,
        to: Status,
        pending_reason: Option<PendingReason>,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        self.status.check_transition(to)?;
        if to == Status::Resolved {
            return Err(DomainError::field(
                "status",
                "use POST /tickets/{key}/resolve, which records the resolution code and note",
            ));
        }
        if to == Status::Pending && pending_reason.is_none() {
            return Err(DomainError::field(
                "reason",
                "pending needs a reason: requester, vendor or change",
            ));
        }
        if to == Status::Assigned && self.team_id.is_none() && self.assignee_id.is_none() {
            return Err(DomainError::field("status", "assign a team or agent first"));
        }
        if self.status == Status::Resolved && to == Status::InProgress {
            self.reopen(now);
        }
        self.status = to;
        self.pending_reason = if to == Status::Pending {
            pending_reason
        } else {
            None
        };
        match to {
            Status::Closed | Status::Cancelled => {
                self.closed_at = Some(now);
            }
            _ => self.record_agent_response(now),
        }
        self.touch(now);
        Ok(())
    }

    /// Assigns a team and/or agent. Assigning a new ticket moves it to `assigned`.
    pub fn assign(
        &mut self,
        team_id: Option<i64>,
        assignee_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        self.refuse_if_final("assigned")?;
        if team_id.is_none() && assignee_id.is_none() {
            return Err(DomainError::field(
                "team",
                "give a team, an assignee or both",
            ));
        }
        if let Some(team) = team_id
            && self.team_id != Some(team)
        {
            self.team_id = Some(team);
            if assignee_id.is_none() {
                self.assignee_id = None;
            }
        }
        if assignee_id.is_some() {
            self.assignee_id = assignee_id;
        }
        if self.status == Status::New {
            self.status = Status::Assigned;
        }
        self.touch(now);
        Ok(())
    }

    /// Moves the ticket to another tier (escalation when higher, hand-back when lower): the
    /// old tier's response clock stops (the move is that tier's action), the new tier's starts.
    pub fn move_to_tier(
        &mut self,
        tier: i32,
        team_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        self.refuse_if_final("moved to another tier")?;
        if tier == self.tier {
            return Err(DomainError::field(
                "to_tier",
                format!("the ticket is already at tier level {tier}"),
            ));
        }
        self.record_agent_response(now);
        self.tier = tier;
        self.team_id = team_id;
        self.assignee_id = None;
        if self.status.is_open() {
            self.status = if team_id.is_some() {
                Status::Assigned
            } else {
                Status::New
            };
            self.pending_reason = None;
        }
        self.touch(now);
        Ok(())
    }

    /// Resolves with a code and note; stops the running clocks.
    pub fn resolve(
        &mut self,
        code: &str,
        note: &str,
        article_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        self.status.check_transition(Status::Resolved)?;
        let code = code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(DomainError::field(
                "code",
                "is required (e.g. fixed, workaround, no_fault), at most 64 characters",
            ));
        }
        let note = check_note("note", Some(note))?;
        self.record_agent_response(now);
        self.status = Status::Resolved;
        self.pending_reason = None;
        self.resolved_at = Some(now);
        self.resolution_code = Some(code.to_owned());
        self.resolution_note = Some(note);
        self.article_id = article_id;
        self.touch(now);
        Ok(())
    }

    /// Overrides the matrix priority with a reason (the SLA clocks re-target from the timeline).
    pub fn set_priority(
        &mut self,
        priority: Priority,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        self.refuse_if_final("re-prioritised")?;
        let reason = check_note("reason", Some(reason))?;
        self.priority = priority;
        self.priority_reason = Some(reason);
        self.touch(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
    }

    fn level(v: i64) -> Level {
        Level::new("x", v).unwrap()
    }

    fn new_ticket() -> Ticket {
        let new = NewTicket {
            kind: Kind::Incident,
            title: "User cannot log in".into(),
            description: String::new(),
            requester_id: 7,
            channel: Channel::Portal,
            category_id: None,
            service_id: None,
            impact: level(2),
            urgency: level(1),
            tags: vec![],
        };
        Ticket::open(new, 42, 1, Some(1), t0())
    }

    #[test]
    fn matrix_matches_spec_table() {
        let expect = [["P1", "P2", "P3"], ["P2", "P3", "P4"], ["P3", "P4", "P4"]];
        for i in 1..=3 {
            for u in 1..=3 {
                let p = Priority::from_matrix(level(i), level(u));
                assert_eq!(p.as_str(), expect[(i - 1) as usize][(u - 1) as usize]);
            }
        }
    }

    #[test]
    fn level_bounds() {
        assert!(Level::new("impact", 0).is_err());
        let err = Level::new("impact", 7).unwrap_err();
        assert!(err.to_string().starts_with("impact:"));
    }

    #[test]
    fn keys_parse_and_print() {
        let k = TicketKey::parse("inc-1042").unwrap();
        assert_eq!(k.to_string(), "INC-1042");
        for bad in [
            "INC-",
            "INC-x",
            "FOO-1",
            "INC1",
            "INC--1",
            "INC-99999999999999999999",
        ] {
            assert!(TicketKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn open_ticket_has_l1_response_due_in_15_minutes() {
        let t = new_ticket();
        assert_eq!(t.key, "INC-42");
        assert_eq!(t.priority, Priority::P2);
        assert_eq!(t.tier, 1);
        assert!(
            t.clocks.is_empty(),
            "clocks are computed from the timeline by sla::compute"
        );
    }

    #[test]
    fn escalation_starts_the_next_tiers_clock() {
        let mut t = new_ticket();
        let later = t0() + chrono::Duration::minutes(5);
        t.move_to_tier(2, Some(5), later).unwrap();
        assert_eq!(t.status, Status::Assigned);
        assert_eq!((t.tier, t.team_id, t.assignee_id), (2, Some(5), None));
        assert_eq!(t.first_response_at, Some(later));
    }

    #[test]
    fn resolve_then_requester_reply_reopens() {
        let mut t = new_ticket();
        t.resolve("fixed", "reset password", None, t0()).unwrap();
        assert_eq!(t.status, Status::Resolved);
        t.comment(true, false, true, t0()).unwrap();
        assert_eq!(t.status, Status::InProgress);
        assert_eq!(t.resolved_at, None);
    }

    #[test]
    fn pending_needs_reason_and_closed_is_final() {
        let mut t = new_ticket();
        assert!(t.transition(Status::Pending, None, t0()).is_err());
        t.resolve("fixed", "done", None, t0()).unwrap();
        t.transition(Status::Closed, None, t0()).unwrap();
        assert!(t.comment(true, true, false, t0()).is_err());
        assert!(matches!(
            t.transition(Status::InProgress, None, t0()),
            Err(DomainError::InvalidTransition { .. })
        ));
    }
}

//! SLA (SPEC §4): policies, and clocks computed as a pure function of a ticket's timeline.
//!
//! Which events meet or restart a target:
//! - **response** (per tier, "time to own"): starts when the ticket enters the tier (creation for
//!   the first tier, escalation or hand-back for the others, and again when a resolved ticket is
//!   reopened). Met by the first action of an agent while the ticket is at that tier: a public
//!   comment, an assignment, a status change, a resolution, or moving the ticket to another tier.
//!   An internal note does not meet it; neither does anything a requester does.
//! - **resolution**: starts at creation, stops (met or breached) when the ticket is resolved,
//!   continues from where it stopped when the ticket is reopened. A priority change re-targets it.
//! - **keep-in-loop** (when the policy sets it): after each public agent update (public comment,
//!   status change, resolution) a new clock measures the time to the next one, while the ticket
//!   waits on the agent.
//! - Every running clock pauses while the ticket is `pending` (when the policy says so) and is
//!   cancelled when the ticket is closed or cancelled. Time counts only inside the calendar.
//!
//! Warnings and breaches are recorded by the SLA timer as `sla_warning` / `sla_breach` events
//! naming the clock's `key`; replaying them sets `warned_at` / `breached_at`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::duration::parse_duration;
use crate::event::EventKind;
use crate::status::Status;
use crate::ticket::{Kind, Priority};
use crate::{DomainError, Timestamp};

/// Which target a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Time for a tier to respond after the ticket entered it.
    Response,
    /// Time from creation to resolution.
    Resolution,
    /// Time between public agent updates.
    KeepInLoop,
    /// Time until the next reminder to a requester the ticket is pending on.
    Reminder,
}

impl ClockKind {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Response => "response",
            ClockKind::Resolution => "resolution",
            ClockKind::KeepInLoop => "keep_in_loop",
            ClockKind::Reminder => "reminder",
        }
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Counting down.
    Running,
    /// Not counting (pending); resumes later.
    Paused,
    /// Stopped within its target.
    Met,
    /// Stopped after its target.
    Breached,
    /// Stopped without a verdict (ticket closed or cancelled while it ran).
    Cancelled,
}

/// One SLA clock of a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Stable identity within the ticket, e.g. `response:2` (the second response clock).
    #[serde(default)]
    pub key: String,
    /// Response, resolution or keep-in-loop.
    pub kind: ClockKind,
    /// Tier level for response clocks.
    pub tier: Option<i32>,
    /// Current state.
    pub state: ClockState,
    /// When it started.
    pub started_at: Timestamp,
    /// Target in seconds of counted (business, unpaused) time.
    pub target_secs: i64,
    /// When it is (or was) due. For a paused clock: the due time if it resumed at the pause.
    pub due_at: Timestamp,
    /// When the warning is due (running clocks).
    #[serde(default)]
    pub warn_due_at: Option<Timestamp>,
    /// Counted seconds so far (up to the last event).
    #[serde(default)]
    pub elapsed_secs: i64,
    /// Business seconds spent paused.
    pub paused_secs: i64,
    /// When it stopped (met, breached or cancelled).
    pub stopped_at: Option<Timestamp>,
    /// When the warning fired.
    pub warned_at: Option<Timestamp>,
    /// When the breach fired.
    pub breached_at: Option<Timestamp>,
    /// For reminder clocks: which reminder of the current pending period (1, 2, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
}

impl Clock {
    /// True while the clock counts down.
    pub fn is_running(&self) -> bool {
        self.state == ClockState::Running
    }

    /// The next instant the SLA timer must act on this clock, if any.
    pub fn next_firing(&self) -> Option<(Timestamp, Firing)> {
        if !self.is_running() {
            return None;
        }
        if self.kind != ClockKind::Reminder
            && self.warned_at.is_none()
            && self.breached_at.is_none()
            && let Some(w) = self.warn_due_at
            && w < self.due_at
        {
            return Some((w, Firing::Warning));
        }
        if self.breached_at.is_none() {
            return Some((self.due_at, Firing::Breach));
        }
        None
    }
}

/// What the SLA timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Firing {
    /// `warn_at` of the target elapsed.
    Warning,
    /// The target elapsed.
    Breach,
}

impl Firing {
    /// `warning` or `breach`.
    pub fn as_str(self) -> &'static str {
        match self {
            Firing::Warning => "warning",
            Firing::Breach => "breach",
        }
    }
}

/// Conditions of a policy; an empty list matches anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyMatch {
    /// Priorities (`P1`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority: Vec<String>,
    /// Kinds (`incident`, `request`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<String>,
    /// Category names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    /// Service names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<String>,
}

/// Reminders while pending on the requester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    /// Interval between reminders, counted in the policy's calendar (`2d`).
    pub every: String,
    /// Resolve after this many unanswered reminders.
    pub resolve_after: u32,
}

fn default_calendar() -> String {
    crate::calendar::ALWAYS.to_owned()
}
fn default_warn_at() -> f64 {
    0.75
}
fn default_true() -> bool {
    true
}

/// An SLA policy as the API writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Unique name.
    pub name: String,
    /// When it applies.
    #[serde(rename = "match", default)]
    pub matches: PolicyMatch,
    /// Response target per tier short name (`{"L1": "15m"}`); missing tiers use the tier's own.
    #[serde(default)]
    pub response: BTreeMap<String, String>,
    /// Resolution target per priority (`{"P1": "4h"}`); missing ones use SPEC §4's.
    #[serde(default)]
    pub resolution: BTreeMap<String, String>,
    /// Keep-in-loop target: longest gap between public agent updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_in_loop: Option<String>,
    /// `24x7` or a calendar name.
    #[serde(default = "default_calendar")]
    pub calendar: String,
    /// Fraction of the target at which the warning fires.
    #[serde(default = "default_warn_at")]
    pub warn_at: f64,
    /// Whether clocks pause while the ticket is pending.
    #[serde(default = "default_true")]
    pub pause_on_pending: bool,
    /// Reminders while pending on the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Reminders>,
}

/// A validated policy with targets in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledPolicy {
    /// As written.
    pub spec: Policy,
    /// Tier short name → seconds.
    pub response_secs: BTreeMap<String, i64>,
    /// P1..P4 → seconds, where set.
    pub resolution_secs: [Option<i64>; 4],
    /// Keep-in-loop seconds.
    pub keep_in_loop_secs: Option<i64>,
    /// Reminder interval seconds and count.
    pub reminders: Option<(i64, u32)>,
}

/// SPEC §4 resolution defaults: P1 4 h, P2 8 h, P3 3 days, P4 5 days.
pub const DEFAULT_RESOLUTION_SECS: [i64; 4] = [4 * 3600, 8 * 3600, 3 * 86_400, 5 * 86_400];

fn positive(field: &'static str, text: &str) -> Result<i64, DomainError> {
    let secs = parse_duration(field, text)?;
    if secs <= 0 {
        return Err(DomainError::field(field, "must be longer than zero"));
    }
    Ok(secs)
}

impl Policy {
    /// Validates durations, priorities, kinds and tiers (`tiers` = configured short names).
    pub fn compile(&self, tiers: &[String]) -> Result<CompiledPolicy, DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::field("name", "is required"));
        }
        for p in &self.matches.priority {
            Priority::parse("match.priority", p)?;
        }
        for k in &self.matches.kind {
            Kind::parse("match.kind", k)?;
        }
        let mut response_secs = BTreeMap::new();
        for (tier, d) in &self.response {
            if !tiers.iter().any(|t| t == tier) {
                return Err(DomainError::field(
                    "response",
                    format!("unknown tier '{tier}'; one of: {}", tiers.join(", ")),
                ));
            }
            response_secs.insert(tier.clone(), positive("response", d)?);
        }
        let mut resolution_secs = [None; 4];
        for (p, d) in &self.resolution {
            resolution_secs[Priority::parse("resolution", p)?.index()] =
                Some(positive("resolution", d)?);
        }
        if !(self.warn_at > 0.0 && self.warn_at < 1.0) {
            return Err(DomainError::field(
                "warn_at",
                "must be between 0 and 1 (e.g. 0.75)",
            ));
        }
        let keep_in_loop_secs = self
            .keep_in_loop
            .as_deref()
            .map(|d| positive("keep_in_loop", d))
            .transpose()?;
        let reminders = match &self.reminders {
            Some(r) if r.resolve_after == 0 => {
                return Err(DomainError::field(
                    "reminders.resolve_after",
                    "must be at least 1",
                ));
            }
            Some(r) => Some((positive("reminders.every", &r.every)?, r.resolve_after)),
            None => None,
        };
        Ok(CompiledPolicy {
            spec: self.clone(),
            response_secs,
            resolution_secs,
            keep_in_loop_secs,
            reminders,
        })
    }
}

/// What a policy is matched against.
#[derive(Debug, Clone)]
pub struct MatchFacts<'a> {
    /// Priority.
    pub priority: Priority,
    /// Kind.
    pub kind: Kind,
    /// Category name.
    pub category: Option<&'a str>,
    /// Service name.
    pub service: Option<&'a str>,
}

impl CompiledPolicy {
    /// The built-in policy when none matches: SPEC §4's targets, 24×7, pause on pending.
    pub fn default_policy() -> CompiledPolicy {
        CompiledPolicy {
            spec: Policy {
                name: "default".into(),
                matches: PolicyMatch::default(),
                response: BTreeMap::new(),
                resolution: BTreeMap::new(),
                keep_in_loop: None,
                calendar: default_calendar(),
                warn_at: default_warn_at(),
                pause_on_pending: true,
                reminders: None,
            },
            response_secs: BTreeMap::new(),
            resolution_secs: [None; 4],
            keep_in_loop_secs: None,
            reminders: None,
        }
    }

    /// Why this policy applies to `f`, or `None` when it does not.
    pub fn matches(&self, f: &MatchFacts<'_>) -> Option<String> {
        let m = &self.spec.matches;
        let mut why = Vec::new();
        let mut check = |field: &str, list: &[String], value: Option<&str>| -> bool {
            if list.is_empty() {
                return true;
            }
            match value {
                Some(v) if list.iter().any(|x| x == v) => {
                    why.push(format!("{field} {v} in [{}]", list.join(", ")));
                    true
                }
                _ => false,
            }
        };
        let ok = check("priority", &m.priority, Some(f.priority.as_str()))
            && check("kind", &m.kind, Some(f.kind.as_str()))
            && check("category", &m.category, f.category)
            && check("service", &m.service, f.service);
        if !ok {
            return None;
        }
        Some(if why.is_empty() {
            "matches every ticket".to_owned()
        } else {
            why.join("; ")
        })
    }

    /// Resolution target for a priority.
    pub fn resolution_target(&self, p: Priority) -> i64 {
        self.resolution_secs[p.index()].unwrap_or(DEFAULT_RESOLUTION_SECS[p.index()])
    }
}

/// The first policy that matches, and why; the built-in default when none does.
pub fn select_policy<'p>(
    policies: &'p [CompiledPolicy],
    f: &MatchFacts<'_>,
    fallback: &'p CompiledPolicy,
) -> (&'p CompiledPolicy, String) {
    for p in policies {
        if let Some(why) = p.matches(f) {
            return (p, why);
        }
    }
    (fallback, "no policy matched; SPEC §4 defaults".to_owned())
}

/// One timeline event as the clocks see it: the ticket's state right after it.
#[derive(Debug, Clone)]
pub struct Fact {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// Done by an agent (not a requester or the system).
    pub by_agent: bool,
    /// Visible to the requester.
    pub public: bool,
    /// Status after.
    pub status: Status,
    /// Tier level after.
    pub tier: i32,
    /// Priority after.
    pub priority: Priority,
    /// Pending reason after.
    pub pending_reason: Option<crate::PendingReason>,
    /// For `sla_warning` / `sla_breach` / `reminder`: the clock key.
    pub clock: Option<String>,
}

/// What clocks need besides the facts.
pub struct ClockContext<'a> {
    /// The matched policy.
    pub policy: &'a CompiledPolicy,
    /// Its calendar.
    pub calendar: &'a Calendar,
    /// Tier short name and default response target by level.
    pub tier: &'a dyn Fn(i32) -> (String, i64),
}

#[derive(Debug, Clone)]
struct Acc {
    clock: Clock,
    last: Timestamp,
    /// Counted and paused time in milliseconds (the clock shows whole seconds).
    elapsed_ms: i64,
    paused_ms: i64,
}

impl Acc {
    fn advance(&mut self, cal: &Calendar, t: Timestamp) {
        if t <= self.last {
            return;
        }
        match self.clock.state {
            ClockState::Running => self.elapsed_ms += cal.between_ms(self.last, t),
            ClockState::Paused => self.paused_ms += cal.between_ms(self.last, t),
            _ => {}
        }
        self.clock.elapsed_secs = self.elapsed_ms / 1000;
        self.clock.paused_secs = self.paused_ms / 1000;
        self.last = t;
    }

    fn schedule(&mut self, cal: &Calendar, warn_at: f64, t: Timestamp) {
        let target_ms = self.clock.target_secs.saturating_mul(1000);
        self.clock.due_at = cal.add_ms(t, (target_ms - self.elapsed_ms).max(0));
        let warn_ms = (target_ms as f64 * warn_at).round() as i64;
        self.clock.warn_due_at = Some(cal.add_ms(t, (warn_ms - self.elapsed_ms).max(0)));
    }

    fn stop(&mut self, t: Timestamp) {
        if matches!(self.clock.state, ClockState::Running | ClockState::Paused) {
            let within = self.elapsed_ms <= self.clock.target_secs.saturating_mul(1000);
            self.clock.state = if within && self.clock.breached_at.is_none() {
                ClockState::Met
            } else {
                ClockState::Breached
            };
            self.clock.stopped_at = Some(t);
            self.clock.warn_due_at = None;
        }
    }
}

/// Computes every clock of a ticket from its timeline facts (in order).
pub fn compute(ctx: &ClockContext<'_>, facts: &[Fact]) -> Vec<Clock> {
    let cal = ctx.calendar;
    let policy = ctx.policy;
    let warn_at = policy.spec.warn_at;
    let mut accs: Vec<Acc> = Vec::new();
    let mut counts: BTreeMap<ClockKind, usize> = BTreeMap::new();
    let start = |accs: &mut Vec<Acc>,
                 counts: &mut BTreeMap<ClockKind, usize>,
                 kind: ClockKind,
                 tier: Option<i32>,
                 target: i64,
                 t: Timestamp,
                 paused: bool| {
        let n = counts.entry(kind).or_insert(0);
        *n += 1;
        let mut acc = Acc {
            clock: Clock {
                key: if kind == ClockKind::Resolution {
                    "resolution".into()
                } else {
                    format!("{}:{n}", kind.as_str())
                },
                kind,
                tier,
                state: if paused {
                    ClockState::Paused
                } else {
                    ClockState::Running
                },
                started_at: t,
                target_secs: target,
                due_at: t,
                warn_due_at: None,
                elapsed_secs: 0,
                paused_secs: 0,
                stopped_at: None,
                warned_at: None,
                breached_at: None,
                round: None,
            },
            last: t,
            elapsed_ms: 0,
            paused_ms: 0,
        };
        acc.schedule(cal, warn_at, t);
        accs.push(acc);
    };
    let response_target = |level: i32| {
        let (short, default) = (ctx.tier)(level);
        policy.response_secs.get(&short).copied().unwrap_or(default)
    };
    let mut prev: Option<&Fact> = None;
    let mut reminder_round = 0;
    for f in facts {
        for a in accs.iter_mut() {
            a.advance(cal, f.at);
        }
        let pause = policy.spec.pause_on_pending && f.status == Status::Pending;
        let open = f.status.is_open();
        let Some(p) = prev else {
            // Creation.
            start(
                &mut accs,
                &mut counts,
                ClockKind::Response,
                Some(f.tier),
                response_target(f.tier),
                f.at,
                pause,
            );
            start(
                &mut accs,
                &mut counts,
                ClockKind::Resolution,
                None,
                policy.resolution_target(f.priority),
                f.at,
                pause,
            );
            prev = Some(f);
            continue;
        };
        // SLA firings recorded by the timer.
        if let (Some(key), EventKind::SlaWarning | EventKind::SlaBreach) = (&f.clock, f.kind)
            && let Some(a) = accs.iter_mut().find(|a| &a.clock.key == key)
        {
            if f.kind == EventKind::SlaWarning {
                a.clock.warned_at.get_or_insert(f.at);
            } else {
                a.clock.breached_at.get_or_insert(f.at);
            }
        }
        // An agent's action meets the current tier's response clock.
        let agent_action = f.by_agent
            && (matches!(
                f.kind,
                EventKind::Assigned
                    | EventKind::StatusChanged
                    | EventKind::Resolved
                    | EventKind::Escalated
                    | EventKind::HandedBack
            ) || (f.kind == EventKind::Commented && f.public));
        if agent_action {
            for a in accs
                .iter_mut()
                .filter(|a| a.clock.kind == ClockKind::Response && a.clock.tier == Some(p.tier))
            {
                a.stop(f.at);
            }
        }
        // Keep-in-loop: each public agent update restarts it.
        let public_update = f.by_agent
            && f.public
            && matches!(
                f.kind,
                EventKind::Commented | EventKind::StatusChanged | EventKind::Resolved
            );
        if let (Some(target), true) = (policy.keep_in_loop_secs, public_update) {
            for a in accs
                .iter_mut()
                .filter(|a| a.clock.kind == ClockKind::KeepInLoop)
            {
                a.stop(f.at);
            }
            if open {
                start(
                    &mut accs,
                    &mut counts,
                    ClockKind::KeepInLoop,
                    None,
                    target,
                    f.at,
                    pause,
                );
            }
        }
        // Tier change: the new tier's response clock.
        if f.tier != p.tier {
            for a in accs
                .iter_mut()
                .filter(|a| a.clock.kind == ClockKind::Response)
            {
                a.stop(f.at);
            }
            if open {
                start(
                    &mut accs,
                    &mut counts,
                    ClockKind::Response,
                    Some(f.tier),
                    response_target(f.tier),
                    f.at,
                    pause,
                );
            }
        }
        // Priority change: re-target the resolution clock.
        if f.priority != p.priority {
            let target = policy.resolution_target(f.priority);
            for a in accs
                .iter_mut()
                .filter(|a| a.clock.kind == ClockKind::Resolution)
            {
                a.clock.target_secs = target;
                if a.clock.state == ClockState::Running {
                    a.schedule(cal, warn_at, f.at);
                }
            }
        }
        // Status effects.
        if f.status != p.status {
            match f.status {
                Status::Resolved => accs.iter_mut().for_each(|a| a.stop(f.at)),
                Status::Closed | Status::Cancelled => {
                    for a in accs.iter_mut().filter(|a| {
                        matches!(a.clock.state, ClockState::Running | ClockState::Paused)
                    }) {
                        a.clock.state = ClockState::Cancelled;
                        a.clock.stopped_at = Some(f.at);
                        a.clock.warn_due_at = None;
                    }
                }
                _ if p.status == Status::Resolved && open => {
                    // Reopened: resolution continues, the tier owes a new response.
                    for a in accs
                        .iter_mut()
                        .filter(|a| a.clock.kind == ClockKind::Resolution)
                    {
                        a.clock.state = if pause {
                            ClockState::Paused
                        } else {
                            ClockState::Running
                        };
                        a.clock.stopped_at = None;
                        a.schedule(cal, warn_at, f.at);
                    }
                    start(
                        &mut accs,
                        &mut counts,
                        ClockKind::Response,
                        Some(f.tier),
                        response_target(f.tier),
                        f.at,
                        pause,
                    );
                }
                _ if pause => {
                    for a in accs
                        .iter_mut()
                        .filter(|a| a.clock.state == ClockState::Running)
                    {
                        a.clock.state = ClockState::Paused;
                    }
                }
                _ if p.status == Status::Pending && policy.spec.pause_on_pending => {
                    for a in accs
                        .iter_mut()
                        .filter(|a| a.clock.state == ClockState::Paused)
                    {
                        a.clock.state = ClockState::Running;
                        a.schedule(cal, warn_at, f.at);
                    }
                }
                _ => {}
            }
        }
        // Reminders while pending on the requester (they run while the other clocks pause).
        if let Some((every, _)) = policy.reminders {
            let waiting = |x: &Fact| {
                x.status == Status::Pending
                    && x.pending_reason == Some(crate::PendingReason::Requester)
            };
            let fired_reminder = f.kind == EventKind::Reminder;
            if !waiting(f) || fired_reminder {
                for a in accs
                    .iter_mut()
                    .filter(|a| a.clock.kind == ClockKind::Reminder)
                {
                    a.stop(f.at);
                }
            }
            let round = if waiting(f) && !waiting(p) {
                Some(1)
            } else if waiting(f) && fired_reminder {
                Some(reminder_round + 1)
            } else {
                None
            };
            if let Some(r) = round {
                reminder_round = r;
                start(
                    &mut accs,
                    &mut counts,
                    ClockKind::Reminder,
                    None,
                    every,
                    f.at,
                    false,
                );
                if let Some(last) = accs.last_mut() {
                    last.clock.round = Some(r);
                }
            }
        }
        prev = Some(f);
    }
    accs.into_iter().map(|a| a.clock).collect()
}

/// The clocks of a ticket that has only its creation event.
pub fn clocks_at_creation(ctx: &ClockContext<'_>, t: &crate::Ticket) -> Vec<Clock> {
    let fact = Fact {
        at: t.created_at,
        kind: EventKind::Created,
        by_agent: false,
        public: true,
        status: t.status,
        tier: t.tier,
        priority: t.priority,
        pending_reason: t.pending_reason,
        clock: None,
    };
    compute(ctx, &[fact])
}

/// The earliest instant the SLA timer must act on, over all clocks.
pub fn next_firing(clocks: &[Clock]) -> Option<Timestamp> {
    clocks
        .iter()
        .filter_map(|c| c.next_firing().map(|(t, _)| t))
        .min()
}

#[cfg(test)]
mod tests;

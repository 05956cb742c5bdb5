//! Timeline events (SPEC §2): the append-only audit trail, and replaying it.
//!
//! The `created` event carries the whole ticket; every later event carries
//! `changes: {field: [before, after]}` for each field it changed. Replaying the events in order
//! therefore reproduces the ticket row exactly ([`replay`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Timestamp;
use crate::sla::Fact;
use crate::ticket::Ticket;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Ticket created; data holds the whole ticket.
    Created,
    /// Public or internal comment.
    Commented,
    /// Status changed.
    StatusChanged,
    /// Team or assignee changed.
    Assigned,
    /// Moved to a higher tier.
    Escalated,
    /// Moved back to a lower tier.
    HandedBack,
    /// Resolved with a code and note.
    Resolved,
    /// Priority overridden.
    PriorityChanged,
    /// An SLA clock reached its warning threshold.
    SlaWarning,
    /// An SLA clock passed its target.
    SlaBreach,
    /// A reminder went to a requester the ticket is pending on.
    Reminder,
    /// Clocks recomputed after a policy or calendar change (`tierdesk sla repair`).
    SlaRecomputed,
    /// Monitoring activity on an alert-born incident: alerts added or resolved, flapping, a
    /// storm group attached.
    Alert,
}

impl EventKind {
    /// API name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Commented => "commented",
            EventKind::StatusChanged => "status_changed",
            EventKind::Assigned => "assigned",
            EventKind::Escalated => "escalated",
            EventKind::HandedBack => "handed_back",
            EventKind::Resolved => "resolved",
            EventKind::PriorityChanged => "priority_changed",
            EventKind::SlaWarning => "sla_warning",
            EventKind::SlaBreach => "sla_breach",
            EventKind::Reminder => "reminder",
            EventKind::SlaRecomputed => "sla_recomputed",
            EventKind::Alert => "alert",
        }
    }

    /// Parses an API name.
    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Every kind.
    pub const ALL: [EventKind; 13] = [
        EventKind::Created,
        EventKind::Commented,
        EventKind::StatusChanged,
        EventKind::Assigned,
        EventKind::Escalated,
        EventKind::HandedBack,
        EventKind::Resolved,
        EventKind::PriorityChanged,
        EventKind::SlaWarning,
        EventKind::SlaBreach,
        EventKind::Reminder,
        EventKind::SlaRecomputed,
        EventKind::Alert,
    ];
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened.
    pub kind: EventKind,
    /// Whether the requester may see it.
    pub public: bool,
    /// Kind-specific data, including `changes` for state changes.
    pub data: Value,
}

impl NewEvent {
    /// The creation event: the whole ticket.
    pub fn created(ticket: &Ticket) -> NewEvent {
        NewEvent {
            kind: EventKind::Created,
            public: true,
            data: json!({ "ticket": ticket }),
        }
    }

    /// A change event: `extra` fields plus `changes` computed from `before` and `after`.
    pub fn change(
        kind: EventKind,
        public: bool,
        before: &Ticket,
        after: &Ticket,
        extra: Value,
    ) -> NewEvent {
        let mut data = match extra {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        data.insert("changes".into(), Value::Object(diff(before, after)));
        NewEvent {
            kind,
            public,
            data: Value::Object(data),
        }
    }
}

/// Field-by-field `[before, after]` of two tickets.
pub fn diff(before: &Ticket, after: &Ticket) -> Map<String, Value> {
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Map::new();
    };
    let mut out = Map::new();
    for (field, new) in a {
        let old = b.get(&field).cloned().unwrap_or(Value::Null);
        if old != new {
            out.insert(field, json!([old, new]));
        }
    }
    out
}

/// Why a timeline could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The first event is not `created` with a ticket.
    #[error("the timeline does not start with a created event")]
    NoCreation,
    /// Applying the changes produced something that is not a ticket.
    #[error("event {index} does not apply: {source}")]
    Bad {
        /// Position in the timeline.
        index: usize,
        /// Why.
        source: serde_json::Error,
    },
}

/// Rebuilds a ticket from its events (kind and data, in order).
pub fn replay<'a>(
    events: impl IntoIterator<Item = (EventKind, &'a Value)>,
) -> Result<Ticket, ReplayError> {
    let mut iter = events.into_iter();
    let mut state = match iter.next() {
        Some((EventKind::Created, data)) => match data.get("ticket") {
            Some(Value::Object(t)) => t.clone(),
            _ => return Err(ReplayError::NoCreation),
        },
        _ => return Err(ReplayError::NoCreation),
    };
    for (_, data) in iter {
        if let Some(Value::Object(changes)) = data.get("changes") {
            for (field, pair) in changes {
                if let Some(after) = pair.get(1) {
                    state.insert(field.clone(), after.clone());
                }
            }
        }
    }
    serde_json::from_value(Value::Object(state))
        .map_err(|source| ReplayError::Bad { index: 0, source })
}

/// A stored event as [`facts`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// Visible to the requester.
    pub public: bool,
    /// Its data.
    pub data: &'a Value,
}

/// Replays events into the facts SLA clocks are computed from (state after each event).
pub fn facts(events: &[EventView<'_>]) -> Result<Vec<Fact>, ReplayError> {
    let mut state: Option<Map<String, Value>> = None;
    let mut out = Vec::with_capacity(events.len());
    for (index, e) in events.iter().enumerate() {
        match (&mut state, e.kind) {
            (None, EventKind::Created) => match e.data.get("ticket") {
                Some(Value::Object(t)) => state = Some(t.clone()),
                _ => return Err(ReplayError::NoCreation),
            },
            (None, _) => return Err(ReplayError::NoCreation),
            (Some(s), _) => {
                if let Some(Value::Object(changes)) = e.data.get("changes") {
                    for (field, pair) in changes {
                        if let Some(after) = pair.get(1) {
                            s.insert(field.clone(), after.clone());
                        }
                    }
                }
            }
        }
        let s = state.as_ref().ok_or(ReplayError::NoCreation)?;
        let field = |name: &str| s.get(name).cloned().unwrap_or(Value::Null);
        let bad = |source| ReplayError::Bad { index, source };
        out.push(Fact {
            at: e.at,
            kind: e.kind,
            by_agent: e
                .data
                .get("by_agent")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            public: e.public,
            status: serde_json::from_value(field("status")).map_err(bad)?,
            tier: serde_json::from_value(field("tier")).map_err(bad)?,
            priority: serde_json::from_value(field("priority")).map_err(bad)?,
            pending_reason: serde_json::from_value(field("pending_reason")).map_err(bad)?,
            clock: e
                .data
                .get("clock")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("nope"), None);
    }
}

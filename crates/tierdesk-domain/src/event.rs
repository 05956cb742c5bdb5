//! Timeline events (SPEC §2): the append-only audit trail, and replaying it.
//!
//! The `created` event carries the whole ticket; every later event carries
//! `changes: {field: [before, after]}` for each field it changed. Replaying the events in order
//! therefore reproduces the ticket row exactly ([`replay`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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
        }
    }

    /// Parses an API name.
    pub fn parse(text: &str) -> Option<EventKind> {
        use EventKind::*;
        [
            Created,
            Commented,
            StatusChanged,
            Assigned,
            Escalated,
            HandedBack,
            Resolved,
            PriorityChanged,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
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

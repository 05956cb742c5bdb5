//! The ticket status machine of SPEC §2.
//!
//! `new → assigned → in_progress → pending → resolved → closed`, plus `cancelled`.
//! `closed` and `cancelled` are final; `resolved` can be reopened to `in_progress`.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Just created, nobody owns it yet.
    New,
    /// A team (and maybe an agent) owns it.
    Assigned,
    /// An agent is working on it.
    InProgress,
    /// Waiting on someone else; carries a [`PendingReason`].
    Pending,
    /// Fixed; the requester may still reply and reopen it.
    Resolved,
    /// Final.
    Closed,
    /// Final: withdrawn or a duplicate.
    Cancelled,
}

/// Why a ticket is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingReason {
    /// Waiting for the requester to answer.
    Requester,
    /// Waiting for a vendor.
    Vendor,
    /// Waiting for a change to be implemented.
    Change,
}

impl Status {
    /// Every status, in life-cycle order.
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::Assigned,
        Status::InProgress,
        Status::Pending,
        Status::Resolved,
        Status::Closed,
        Status::Cancelled,
    ];

    /// The API name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Pending => "pending",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses an API name; the error names the field and the valid values.
    pub fn parse(field: &'static str, text: &str) -> Result<Status, DomainError> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                DomainError::field(
                    field,
                    format!(
                        "unknown status '{text}'; one of: {}",
                        Status::ALL.map(Status::as_str).join(", ")
                    ),
                )
            })
    }

    /// Statuses this one may move to.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[Assigned, InProgress, Pending, Resolved, Cancelled],
            Assigned => &[InProgress, Pending, Resolved, Cancelled],
            InProgress => &[Assigned, Pending, Resolved, Cancelled],
            Pending => &[Assigned, InProgress, Resolved, Cancelled],
            Resolved => &[InProgress, Closed],
            Closed | Cancelled => &[],
        }
    }

    /// True while the ticket still needs work (not resolved, closed or cancelled).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Cancelled)
    }

    /// True for `closed` and `cancelled`.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }

    /// Checks a transition, naming the allowed ones when it is refused.
    pub fn check_transition(self, to: Status) -> Result<(), DomainError> {
        if self.allowed_next().contains(&to) {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self,
                to,
                allowed: self.allowed_next().to_vec(),
            })
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PendingReason {
    /// Parses `requester`, `vendor` or `change`.
    pub fn parse(field: &'static str, text: &str) -> Result<PendingReason, DomainError> {
        match text {
            "requester" => Ok(PendingReason::Requester),
            "vendor" => Ok(PendingReason::Vendor),
            "change" => Ok(PendingReason::Change),
            _ => Err(DomainError::field(
                field,
                format!("unknown pending reason '{text}'; one of: requester, vendor, change"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_allow_nothing() {
        assert!(Status::Closed.allowed_next().is_empty());
        assert!(Status::Cancelled.allowed_next().is_empty());
    }

    #[test]
    fn invalid_transition_names_allowed() {
        let err = Status::New.check_transition(Status::Closed).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("from new to closed"), "{text}");
        assert!(
            text.contains("assigned, in_progress, pending, resolved, cancelled"),
            "{text}"
        );
    }

    #[test]
    fn no_self_loops_and_parse_round_trip() {
        for s in Status::ALL {
            assert!(!s.allowed_next().contains(&s));
            assert_eq!(Status::parse("status", s.as_str()), Ok(s));
        }
        assert!(Status::parse("status", "done").is_err());
    }
}

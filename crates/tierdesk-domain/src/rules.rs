//! Time-based (hierarchical) escalation rules (SPEC §3): on an SLA warning or breach of a clock,
//! escalate, raise priority, assign to the team lead, or notify. Rules are configuration; each
//! fires once per clock because the firing itself happens once.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::sla::{ClockKind, Firing};
use crate::ticket::Priority;

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleAction {
    /// Move the ticket to the next tier (routed as a manual escalation).
    Escalate {},
    /// Raise the priority one step (P4 → P3 …, P1 stays).
    RaisePriority {},
    /// Assign the ticket to its team's lead.
    AssignLead {},
    /// Send the event to a webhook subscription.
    Notify {
        /// Subscription name.
        webhook: String,
    },
}

/// An escalation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRule {
    /// Unique name.
    pub name: String,
    /// `warning` or `breach`.
    pub on: Firing,
    /// Which clock kind (`response`, `resolution`, `keep_in_loop`).
    pub clock: ClockKind,
    /// Only tickets at this tier (short name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Only tickets of this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Only tickets of this team (name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Actions, in order.
    pub actions: Vec<RuleAction>,
}

impl EscalationRule {
    /// Validates names and values.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() {
            return Err(DomainError::field("name", "is required"));
        }
        if let Some(p) = &self.priority {
            Priority::parse("priority", p)?;
        }
        if self.actions.is_empty() {
            return Err(DomainError::field("actions", "give at least one action"));
        }
        Ok(())
    }

    /// True when the rule applies to this firing on a ticket with these attributes.
    pub fn applies(
        &self,
        firing: Firing,
        clock: ClockKind,
        tier: &str,
        priority: Priority,
        team: Option<&str>,
    ) -> bool {
        self.on == firing
            && self.clock == clock
            && self.tier.as_deref().is_none_or(|t| t == tier)
            && self
                .priority
                .as_deref()
                .is_none_or(|p| p == priority.as_str())
            && self.team.as_deref().is_none_or(|t| Some(t) == team)
    }
}

/// One step more urgent.
pub fn raised(p: Priority) -> Priority {
    match p {
        Priority::P4 => Priority::P3,
        Priority::P3 => Priority::P2,
        _ => Priority::P1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_the_contract_shape_and_filter() {
        let r: EscalationRule = serde_json::from_value(serde_json::json!({
            "name": "breach to L2", "on": "breach", "clock": "response", "tier": "L1",
            "actions": [{"escalate": {}}, {"raise_priority": {}}, {"assign_lead": {}}, {"notify": {"webhook": "ops"}}]
        }))
        .unwrap();
        r.check().unwrap();
        assert_eq!(r.actions.len(), 4);
        assert!(r.applies(
            Firing::Breach,
            ClockKind::Response,
            "L1",
            Priority::P3,
            None
        ));
        assert!(!r.applies(
            Firing::Warning,
            ClockKind::Response,
            "L1",
            Priority::P3,
            None
        ));
        assert!(!r.applies(
            Firing::Breach,
            ClockKind::Response,
            "L2",
            Priority::P3,
            None
        ));
        assert_eq!(raised(Priority::P4), Priority::P3);
        assert_eq!(raised(Priority::P1), Priority::P1);
    }
}

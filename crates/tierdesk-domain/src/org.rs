//! Organisation model (SPEC §1): tiers, roles; teams, services and categories as plain records.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What a user may do. A user holds a set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Submits and follows own tickets, reads public articles.
    Requester,
    /// Works tickets: assign, transition, escalate, resolve.
    Agent,
    /// An agent who also manages a team's queue.
    Lead,
    /// Approves changes (CAB).
    Approver,
    /// Manages the organisation.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Requester,
        Role::Agent,
        Role::Lead,
        Role::Approver,
        Role::Admin,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Agent => "agent",
            Role::Lead => "lead",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Parses an API name.
    pub fn parse(field: &'static str, text: &str) -> Result<Role, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                DomainError::field(
                    field,
                    format!(
                        "unknown role '{text}'; one of: {}",
                        Role::ALL.map(Role::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A set of roles, stored as a comma-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    /// Parses `agent,lead`.
    pub fn parse(field: &'static str, text: &str) -> Result<Roles, DomainError> {
        let mut roles = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let role = Role::parse(field, part)?;
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles.sort();
        Ok(Roles(roles))
    }

    /// The comma-separated form.
    pub fn to_list(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// True when the set holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// Agents, leads and admins work tickets.
    pub fn is_agent(&self) -> bool {
        self.has(Role::Agent) || self.has(Role::Lead) || self.has(Role::Admin)
    }

    /// Admins manage the organisation.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }
}

/// A support level. `level` orders tiers (1 = first line); `short` is the API name (`L1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Order, starting at 1.
    pub level: i32,
    /// API name such as `L1`.
    pub short: String,
    /// Display name such as `Service Desk`.
    pub name: String,
    /// Response target in seconds from entering the tier.
    pub response_target_secs: i64,
    /// Team that receives tickets routed to this tier when nothing more specific matches.
    pub default_team_id: Option<i64>,
}

/// The default three tiers of SPEC §1 with the response targets of §4 (15 min / 1 h / 4 h).
pub fn default_tiers() -> Vec<Tier> {
    [
        (1, "L1", "Service Desk", 15 * 60),
        (2, "L2", "Operations", 3600),
        (3, "L3", "Engineering", 4 * 3600),
    ]
    .into_iter()
    .map(|(level, short, name, secs)| Tier {
        level,
        short: short.to_owned(),
        name: name.to_owned(),
        response_target_secs: secs,
        default_team_id: None,
    })
    .collect()
}

/// Checks a name given to a team, service, category or user: 1–200 characters, not blank.
pub fn check_name(field: &'static str, name: &str) -> Result<String, DomainError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(DomainError::field(field, "must not be empty"));
    }
    if trimmed.chars().count() > 200 {
        return Err(DomainError::field(field, "must be at most 200 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_dedup_sorted() {
        let roles = Roles::parse("roles", "lead, agent,agent").unwrap();
        assert_eq!(roles.to_list(), "agent,lead");
        assert!(roles.is_agent());
        assert!(!roles.is_admin());
        assert!(Roles::parse("roles", "agent,boss").is_err());
    }

    #[test]
    fn default_tiers_match_spec() {
        let tiers = default_tiers();
        let targets: Vec<_> = tiers
            .iter()
            .map(|t| (t.short.as_str(), t.response_target_secs))
            .collect();
        assert_eq!(targets, [("L1", 900), ("L2", 3600), ("L3", 14_400)]);
    }
}

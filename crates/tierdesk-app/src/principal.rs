//! The authenticated caller.

use tierdesk_domain::{Role, Roles};
use tierdesk_store::UserRecord;

use crate::AppError;

/// Who is calling, resolved once per request from the bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// User id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Roles.
    pub roles: Roles,
    /// Team ids.
    pub teams: Vec<i64>,
}

impl From<UserRecord> for Principal {
    fn from(u: UserRecord) -> Self {
        Principal {
            id: u.id,
            name: u.name,
            roles: u.roles,
            teams: u.teams,
        }
    }
}

impl Principal {
    /// Agents, leads and admins work tickets.
    pub fn is_agent(&self) -> bool {
        self.roles.is_agent()
    }

    /// Admins manage the organisation.
    pub fn is_admin(&self) -> bool {
        self.roles.is_admin()
    }

    /// Refuses callers who are not agents.
    pub fn require_agent(&self) -> Result<(), AppError> {
        if self.is_agent() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this needs the agent, lead or admin role".into(),
            ))
        }
    }

    /// Refuses callers who are not admins.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden("this needs the admin role".into()))
        }
    }

    /// True when the user holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.has(role)
    }
}

//! Domain errors: a rule was broken by the input or the requested change.

use crate::status::Status;

/// A domain rule refused an input or a change. Each variant names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field has a value the domain does not accept.
    #[error("{field}: {message}")]
    InvalidField {
        /// The offending field, as named in the API.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A status change the state machine does not allow.
    #[error("cannot change status from {from} to {to}; allowed: {}", allowed_list(.allowed))]
    InvalidTransition {
        /// Current status.
        from: Status,
        /// Requested status.
        to: Status,
        /// Statuses reachable from `from`.
        allowed: Vec<Status>,
    },
    /// The ticket is in a state where the operation makes no sense.
    #[error("{0}")]
    NotAllowed(String),
}

fn allowed_list(allowed: &[Status]) -> String {
    if allowed.is_empty() {
        return "none (final status)".to_owned();
    }
    allowed
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl DomainError {
    /// Shorthand for [`DomainError::InvalidField`].
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::InvalidField {
            field,
            message: message.into(),
        }
    }
}

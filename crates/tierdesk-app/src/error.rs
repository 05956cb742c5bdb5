//! Application errors: what the HTTP layer maps once to problem+json and the CLI to one line.

use tierdesk_domain::{DomainError, Status};
use tierdesk_store::StoreError;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials.
    #[error("authentication required: {0}")]
    Unauthorized(String),
    /// Authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Missing, or hidden from the caller (both look the same).
    #[error("{0} not found")]
    NotFound(String),
    /// A field is invalid; names the field.
    #[error("{field}: {message}")]
    Invalid {
        /// API field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The status machine refused the change.
    #[error("cannot change status from {from} to {to}")]
    InvalidTransition {
        /// Current status.
        from: Status,
        /// Requested status.
        to: Status,
        /// Allowed next statuses.
        allowed: Vec<Status>,
    },
    /// The change conflicts with the current state (final ticket, taken name, stale version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` did not match the current version.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// The idempotency key was used with another request body.
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyMismatch,
    /// Storage trouble.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node's search index failed (the database is unaffected).
    #[error(transparent)]
    Search(#[from] tierdesk_search::SearchError),
}

impl AppError {
    /// Shorthand for [`AppError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::InvalidField { field, message } => AppError::Invalid {
                field: field.to_owned(),
                message,
            },
            DomainError::InvalidTransition { from, to, allowed } => {
                AppError::InvalidTransition { from, to, allowed }
            }
            DomainError::NotAllowed(m) => AppError::Conflict(m),
        }
    }
}

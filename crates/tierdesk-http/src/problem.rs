//! RFC 9457 problem+json: the one place errors become HTTP responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tierdesk_app::{AppError, StoreError};

/// One invalid field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Field name as in the request (`impact`, `Idempotency-Key`, `body`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Problem type URI.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened here.
    pub detail: String,
    /// Invalid fields, when the request was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Allowed next statuses, for a refused transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

/// Every error an HTTP handler can return.
#[derive(Debug)]
pub enum ApiError {
    /// From the application layer.
    App(AppError),
    /// The body is not JSON (400), too large (413) or of the wrong media type (415).
    Body {
        /// Status.
        status: StatusCode,
        /// Detail.
        detail: String,
    },
    /// A header or query parameter is invalid.
    Param {
        /// Which.
        field: String,
        /// Why.
        message: String,
    },
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<tierdesk_domain::DomainError> for ApiError {
    fn from(e: tierdesk_domain::DomainError) -> Self {
        ApiError::App(e.into())
    }
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: String) -> Problem {
    Problem {
        kind: format!("urn:tierdesk:problem:{slug}"),
        title: title.to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        allowed: None,
    }
}

impl ApiError {
    /// The problem document and status for this error.
    pub fn to_problem(&self) -> Problem {
        match self {
            ApiError::Body { status, detail } => {
                let (slug, title) = match *status {
                    StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "Request body too large"),
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => ("media-type", "Unsupported media type"),
                    _ => ("malformed", "Malformed request body"),
                };
                let mut p = problem(*status, slug, title, detail.clone());
                if *status != StatusCode::PAYLOAD_TOO_LARGE {
                    p.errors.push(FieldError {
                        field: "body".into(),
                        message: detail.clone(),
                    });
                }
                p
            }
            ApiError::Param { field, message } => {
                let mut p = problem(
                    StatusCode::BAD_REQUEST,
                    "invalid-parameter",
                    "Invalid parameter",
                    format!("{field}: {message}"),
                );
                p.errors.push(FieldError {
                    field: field.clone(),
                    message: message.clone(),
                });
                p
            }
            ApiError::App(e) => app_problem(e),
        }
    }
}

fn app_problem(e: &AppError) -> Problem {
    let detail = e.to_string();
    match e {
        AppError::Unauthorized(_) => problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        ),
        AppError::Forbidden(_) => problem(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail),
        AppError::NotFound(_) => problem(StatusCode::NOT_FOUND, "not-found", "Not found", detail),
        AppError::Invalid { field, message } => {
            let mut p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
                detail.clone(),
            );
            p.errors.push(FieldError {
                field: field.clone(),
                message: message.clone(),
            });
            p
        }
        AppError::InvalidTransition { from, to, allowed } => {
            let names: Vec<String> = allowed.iter().map(|s| s.as_str().to_owned()).collect();
            let list = if names.is_empty() {
                "none: the status is final".to_owned()
            } else {
                names.join(", ")
            };
            let mut p = problem(
                StatusCode::CONFLICT,
                "invalid-transition",
                "Invalid status transition",
                format!("cannot change status from {from} to {to}; allowed: {list}"),
            );
            p.errors.push(FieldError {
                field: "status".into(),
                message: format!("allowed from {from}: {list}"),
            });
            p.allowed = Some(names);
            p
        }
        AppError::Conflict(_) => problem(StatusCode::CONFLICT, "conflict", "Conflict", detail),
        AppError::PreconditionFailed(_) => problem(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            detail,
        ),
        AppError::IdempotencyMismatch => {
            let mut p = problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-mismatch",
                "Idempotency-Key reused",
                detail,
            );
            p.errors.push(FieldError {
                field: "Idempotency-Key".into(),
                message: "was already used with a different request body".into(),
            });
            p
        }
        AppError::Store(StoreError::Unavailable(_)) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "the database is unavailable; retry shortly".into(),
        ),
        AppError::Store(StoreError::Unique(_)) => problem(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "the record already exists".into(),
        ),
        AppError::Store(StoreError::Constraint(_)) => problem(
            StatusCode::CONFLICT,
            "conflict",
            "Conflict",
            "the change conflicts with the stored data (changed concurrently?); reload and retry"
                .into(),
        ),
        AppError::Search(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "search-unavailable",
            "Search unavailable",
            "this node's search index is unavailable; retry shortly or run 'tierdesk kb reindex'"
                .into(),
        ),
        AppError::Store(_) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "an internal error occurred".into(),
        ),
    }
}

/// Renders a problem document.
pub fn problem_response(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tierdesk\""),
        );
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let p = self.to_problem();
        if p.status >= 500 {
            tracing::error!(error = ?self, "request failed");
        }
        problem_response(&p)
    }
}

/// A panic in a handler becomes a 500 problem, never a dropped connection.
pub fn panic_response(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    problem_response(&problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "an internal error occurred".into(),
    ))
}
